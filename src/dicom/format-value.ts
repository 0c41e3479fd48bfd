/**
 * The typed value of a data element, by VR (PS3.5 section 6.2), and its cell text:
 *
 * - numbers as numbers: DS and IS in their shortest form ("1.250000" -> 1.25) where a double
 *   holds them exactly, otherwise as stored (an IS over 2^53, a DS of 20 digits: never digits
 *   lost); FL without float noise (0.1, not 0.10000000149), FD/US/SS/UL/SL/SV/UV exactly; an
 *   invalid DS/IS value (or one beyond a double's range, `1e999`) gives an empty cell and a
 *   warning, never text in a number column;
 * - text VRs decoded per Specific Character Set, trailing padding removed (and leading spaces
 *   where the standard calls them insignificant);
 * - PN as its DICOM text, component groups kept (`Yamada^Tarou=山田^太郎=やまだ^たろう`);
 * - DA, TM, DT as stored; AT as (gggg,eeee);
 * - binary VRs (OB, OW, UN...) as base64, never raw bytes;
 * - multiple values as arrays, joined in text with a backslash (or the chosen separator).
 */
import { decodeText } from './charset.js'
import { formatTag, lookupTag } from './keywords.js'
import { latin1, type DataElement } from './data-element.js'
import {
  Binary,
  Decimal,
  DicomDate,
  PersonName,
  valueText,
  type Precision,
  type TextOptions,
  type Value,
} from '../values.js'

/** How cells are written; every choice has the default that keeps the value as DICOM stores it. */
export interface FormatOptions extends TextOptions {
  /** Character set for text that none declares, or that an unknown term declares. Default latin1 (ISO 8859-1). */
  charset?: string
  /**
   * Significant digits of computed numbers (aggregates, metrics' columns), or `full`. Applied
   * where they are computed, so that every format has the same numbers. Default 4.
   */
  precision?: Precision
  /**
   * CSV safe to open in a spreadsheet: a byte order mark, and text a spreadsheet would take for
   * a formula or a number marked with a leading `'`. Applied by the CSV sink, not per value.
   * Default false.
   */
  spreadsheet?: boolean
}

/** What formatting needs besides the element itself. */
export interface FormatContext extends FormatOptions {
  littleEndian: boolean
  /** Specific Character Set terms of the data set. */
  charsets: readonly string[]
  /** Text is UTF-8 throughout, items' own Specific Character Set aside (a data set from DICOM JSON). */
  utf8?: boolean
  /** Called with a human message when a value is invalid and left out. */
  warn?: (message: string) => void
}

const TEXT_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'UC', 'PN'])
/** VRs whose leading spaces are insignificant (PS3.5 table 6.2-1). */
const TRIM_BOTH = new Set(['AE', 'CS', 'DS', 'IS', 'LO', 'SH', 'UC', 'AS', 'DA', 'TM', 'DT', 'UI'])
/** VRs that hold one value only: a backslash in them is text, not a separator. */
const SINGLE_VALUED = new Set(['ST', 'LT', 'UT', 'UR'])

/** The cell text of an element: its {@link decodeValue | value} as text, as a text sink writes it. */
export function formatValue(element: DataElement, ctx: FormatContext): string {
  return valueText(decodeValue(element, ctx), ctx)
}

/** The typed value of an element (see `values.ts`); null when it is empty or has no usable value. */
export function decodeValue(element: DataElement, ctx: FormatContext): Value {
  const { value } = element
  // UN holds the bytes of an element whose VR the writer did not know; where the dictionary
  // knows it, read the value as that VR (PS3.5 section 6.2.2).
  const vr = element.vr === 'UN' ? (knownVR(element.tag) ?? 'UN') : element.vr
  if (value.length === 0) return null
  const little = ctx.littleEndian
  switch (vr) {
    case 'DS':
    case 'IS':
      return numberStrings(element, ctx)
    case 'FL':
      return numbers(value, 4, (v, at) => Number(shortestFloat32(v.getFloat32(at, little))))
    case 'FD':
      return numbers(value, 8, (v, at) => v.getFloat64(at, little))
    case 'US':
      return numbers(value, 2, (v, at) => v.getUint16(at, little))
    case 'SS':
      return numbers(value, 2, (v, at) => v.getInt16(at, little))
    case 'UL':
      return numbers(value, 4, (v, at) => v.getUint32(at, little))
    case 'SL':
      return numbers(value, 4, (v, at) => v.getInt32(at, little))
    case 'SV':
      return numbers(value, 8, (v, at) => exactInteger(v.getBigInt64(at, little)))
    case 'UV':
      return numbers(value, 8, (v, at) => exactInteger(v.getBigUint64(at, little)))
    case 'AT':
      return numbers(value, 4, (v, at) =>
        formatTag(((v.getUint16(at, little) << 16) | v.getUint16(at + 2, little)) >>> 0),
      )
    case 'OB':
    case 'OD':
    case 'OF':
    case 'OL':
    case 'OV':
    case 'OW':
    case 'UN':
      // A copy: the element's bytes may be a view into a buffer that the next read reuses.
      return new Binary(Uint8Array.prototype.slice.call(value))
    case 'SQ':
      return null
    default: {
      const text = TEXT_VRS.has(vr) ? decodeText(value, ctx.charsets, vr, ctx.charset, ctx.warn) : latin1(value)
      if (SINGLE_VALUED.has(vr) || text.indexOf('\\') < 0) return textValue(trimValue(text, vr), vr) ?? null
      return text.split('\\').map((one) => textValue(trimValue(one, vr), vr) ?? '')
    }
  }
}

/** One text value as its type says: a name, a date or time, or a string; undefined when empty. */
function textValue(text: string, vr: string): Value | undefined {
  if (text === '') return undefined
  if (vr === 'PN') return new PersonName(text)
  if (vr === 'DA' || vr === 'TM' || vr === 'DT') return new DicomDate(vr, text)
  return text
}

/** A 64-bit integer as a number where a double holds it exactly, else as its digits. */
function exactInteger(value: bigint): number | Decimal {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : new Decimal(String(value))
}

/** Removes trailing spaces and NULs, and leading spaces where the VR says they do not count. */
function knownVR(tag: number): string | undefined {
  const vr = lookupTag(tag)?.vr
  return vr && /^[A-Z]{2}$/.test(vr) && vr !== 'SQ' && vr !== 'UN' ? vr : undefined
}

function trimValue(text: string, vr: string): string {
  let end = text.length
  while (end > 0 && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0)) end--
  let start = 0
  if (TRIM_BOTH.has(vr)) while (start < end && text.charCodeAt(start) === 0x20) start++
  return start === 0 && end === text.length ? text : text.slice(start, end)
}

/** DS and IS: each value parsed and printed in its shortest form; invalid ones dropped with a warning. */
const IS_PATTERN = /^[+-]?\d+$/
const DS_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

function numberStrings(element: DataElement, ctx: FormatContext): Value {
  const text = latin1(element.value)
  if (text.indexOf('\\') < 0) return oneNumber(text, element, ctx)
  return text.split('\\').map((part) => oneNumber(part, element, ctx))
}

function oneNumber(raw: string, element: DataElement, ctx: FormatContext): number | Decimal | null {
  const text = trimValue(raw, 'DS').replace(/\0+$/, '')
  if (text === '') return null
  if (!(element.vr === 'IS' ? IS_PATTERN : DS_PATTERN).test(text)) {
    ctx.warn?.(`${formatTag(element.tag)} ${element.vr} value "${text}" is not a valid number; left empty`)
    return null
  }
  const number = Number(text)
  // `1e999` matches the pattern but is Infinity as a double: invalid, as `Infinity` is.
  if (!Number.isFinite(number)) {
    ctx.warn?.(`${formatTag(element.tag)} ${element.vr} value "${text}" is not a valid number; left empty`)
    return null
  }
  // Fifteen digits or fewer without an exponent (every standard IS, nearly every DS) always
  // survive a double; an exponent can leave its range (`1e-400` is 0).
  if (text.length <= 15 && text.indexOf('e') < 0 && text.indexOf('E') < 0) return number
  // A double holds 15 to 17 significant digits: beyond them (an IS over 2^53, a DS of 20
  // digits) its shortest form is another number. The stored text is kept then, with only the
  // changes that are exact: no `+`, no leading zeros, a 0 before a leading point.
  if (sameDecimal(String(number), text)) return number
  return new Decimal(
    text
      .replace(/^\+/, '')
      .replace(/^(-?)0+(?=\d)/, '$1')
      .replace(/^(-?)\./, '$10.')
      // A point with no digit after it (`123456789012345678901.`) is not a JSON number.
      .replace(/\.(?=[eE]|$)/, ''),
  )
}

/**
 * True when `text` is a number as this module writes them: a decimal, without `+` or leading
 * zeros, that a double holds digit for digit (`-288`, `-1.5e3`, `0.1`; not `00123`, not
 * `12345678901234567890`), so that a program that reads it as a double gets the same number.
 */
export function isDoubleText(text: string): boolean {
  return DOUBLE_TEXT.test(text) && Number.isFinite(Number(text)) && sameDecimal(String(Number(text)), text)
}

const DOUBLE_TEXT = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

/**
 * True when two decimal texts (`[+-]digits[.digits][e[+-]digits]`) stand for the same number:
 * compared by sign, significant digits and the power of ten of the first one, exactly.
 */
function sameDecimal(a: string, b: string): boolean {
  const x = decimalParts(a)
  const y = decimalParts(b)
  return x.digits === y.digits && (x.digits === '' || (x.negative === y.negative && x.exponent === y.exponent))
}

function decimalParts(text: string): { negative: boolean; digits: string; exponent: number } {
  const m = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(text) as RegExpExecArray
  const all = m[2] + m[3]
  const lead = all.length - all.replace(/^0+/, '').length
  const digits = all.slice(lead).replace(/0+$/, '')
  // The power of ten of the first significant digit, relative to the decimal point.
  const exponent = Number(m[4] ?? 0) + m[2].length - lead
  return { negative: m[1] === '-', digits, exponent }
}

/** The fixed-size values of a binary number VR: one value alone, several as an array. */
function numbers<T extends Value>(value: Uint8Array, size: number, one: (view: DataView, at: number) => T): Value {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const count = Math.floor(value.length / size)
  if (count === 0) return null
  if (count === 1) return one(view, 0)
  const values = new Array<Value>(count)
  for (let i = 0; i < count; i++) values[i] = one(view, i * size)
  return values
}

/** The shortest decimal that reads back as the same 32-bit float. */
export function shortestFloat32(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  for (let precision = 1; precision < 10; precision++) {
    const candidate = Number(x.toPrecision(precision))
    if (Math.fround(candidate) === x) return String(candidate)
  }
  return String(x)
}
