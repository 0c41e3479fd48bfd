/**
 * Cell text of a data element, by VR (PS3.5 section 6.2):
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
 * - multiple values joined with a backslash (or the chosen separator).
 */
import { decodeText } from './charset.js'
import { formatTag, lookupTag } from './keywords.js'
import { latin1, type DataElement } from './data-element.js'

/** How cells are written; every choice has the default that keeps the value as DICOM stores it. */
export interface FormatOptions {
  /** Joins multiple values. Default backslash, as DICOM stores them. */
  separator?: string
  /** DA, TM, DT as stored (`20240312`), or as ISO 8601 (`2024-03-12`, `09:28:15.672`). Default stored. */
  dates?: 'stored' | 'iso'
  /** PN whole (`Yamada^Tarou=山田^太郎=やまだ^たろう`), or one component group of it. Default stored. */
  names?: 'stored' | 'alphabetic' | 'ideographic' | 'phonetic'
  /** Binary VRs (OB, OW, UN...) as base64, or as their length in bytes. Default base64. */
  binary?: 'base64' | 'length'
  /** Character set for text that none declares, or that an unknown term declares. Default latin1 (ISO 8859-1). */
  charset?: string
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
  /** Called with a human message when a value is invalid and left out. */
  warn?: (message: string) => void
}

const TEXT_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'UC', 'PN'])
/** VRs whose leading spaces are insignificant (PS3.5 table 6.2-1). */
const TRIM_BOTH = new Set(['AE', 'CS', 'DS', 'IS', 'LO', 'SH', 'UC', 'AS', 'DA', 'TM', 'DT', 'UI'])
/** VRs that hold one value only: a backslash in them is text, not a separator. */
const SINGLE_VALUED = new Set(['ST', 'LT', 'UT', 'UR'])

/** The cell text of an element. */
export function formatValue(element: DataElement, ctx: FormatContext): string {
  const { value } = element
  // UN holds the bytes of an element whose VR the writer did not know; where the dictionary
  // knows it, read the value as that VR (PS3.5 section 6.2.2).
  const vr = element.vr === 'UN' ? (knownVR(element.tag) ?? 'UN') : element.vr
  const sep = ctx.separator ?? '\\'
  if (value.length === 0) return ''
  switch (vr) {
    case 'DS':
    case 'IS':
      return numberStrings(element, ctx, sep)
    case 'FL':
      return numbers(value, 4, sep, (v, at) => shortestFloat32(v.getFloat32(at, ctx.littleEndian)))
    case 'FD':
      return numbers(value, 8, sep, (v, at) => String(v.getFloat64(at, ctx.littleEndian)))
    case 'US':
      return numbers(value, 2, sep, (v, at) => String(v.getUint16(at, ctx.littleEndian)))
    case 'SS':
      return numbers(value, 2, sep, (v, at) => String(v.getInt16(at, ctx.littleEndian)))
    case 'UL':
      return numbers(value, 4, sep, (v, at) => String(v.getUint32(at, ctx.littleEndian)))
    case 'SL':
      return numbers(value, 4, sep, (v, at) => String(v.getInt32(at, ctx.littleEndian)))
    case 'SV':
      return numbers(value, 8, sep, (v, at) => String(v.getBigInt64(at, ctx.littleEndian)))
    case 'UV':
      return numbers(value, 8, sep, (v, at) => String(v.getBigUint64(at, ctx.littleEndian)))
    case 'AT':
      return numbers(value, 4, sep, (v, at) =>
        formatTag(((v.getUint16(at, ctx.littleEndian) << 16) | v.getUint16(at + 2, ctx.littleEndian)) >>> 0),
      )
    case 'OB':
    case 'OD':
    case 'OF':
    case 'OL':
    case 'OV':
    case 'OW':
    case 'UN':
      if (ctx.binary === 'length') return String(value.length)
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
    case 'SQ':
      return ''
    default: {
      const text = TEXT_VRS.has(vr) ? decodeText(value, ctx.charsets, vr, ctx.charset, ctx.warn) : latin1(value)
      const shape = (one: string) => {
        const trimmed = trimValue(one, vr)
        if (ctx.dates === 'iso' && ISO_DATES[vr]) return ISO_DATES[vr](trimmed)
        if (vr === 'PN' && ctx.names && ctx.names !== 'stored') return trimmed.split('=')[GROUPS[ctx.names]] ?? ''
        return trimmed
      }
      if (SINGLE_VALUED.has(vr) || text.indexOf('\\') < 0) return shape(text)
      return text.split('\\').map(shape).join(sep)
    }
  }
}

/** Removes trailing spaces and NULs, and leading spaces where the VR says they do not count. */
const GROUPS = { alphabetic: 0, ideographic: 1, phonetic: 2 } as const

/** ISO 8601 forms of DA, TM and DT (PS3.5 table 6.2-1); a value that does not parse stays as stored. */
const ISO_DATES: Record<string, (value: string) => string> = {
  DA: (v) => {
    const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v)
    return m ? `${m[1]}-${m[2]}-${m[3]}` : v
  },
  TM: (v) => isoTime(v) ?? v,
  DT: (v) => {
    const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$/.exec(v)
    if (!m) return v
    let out = m[1] + (m[2] ? `-${m[2]}` : '') + (m[3] ? `-${m[3]}` : '')
    if (m[4]) out += `T${isoTime(m[4])}`
    if (m[5]) out += `${m[5].slice(0, 3)}:${m[5].slice(3)}`
    return out
  },
}

function isoTime(v: string): string | undefined {
  const m = /^(\d{2}):?(\d{2})?:?(\d{2})?(\.\d{1,6})?$/.exec(v)
  if (!m) return undefined
  return m[1] + (m[2] ? `:${m[2]}` : '') + (m[3] ? `:${m[3]}` : '') + (m[3] && m[4] ? m[4] : '')
}

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

function numberStrings(element: DataElement, ctx: FormatContext, sep: string): string {
  const text = latin1(element.value)
  if (text.indexOf('\\') < 0) return oneNumber(text, element, ctx)
  const parts = text.split('\\')
  for (let i = 0; i < parts.length; i++) parts[i] = oneNumber(parts[i], element, ctx)
  return parts.join(sep)
}

function oneNumber(raw: string, element: DataElement, ctx: FormatContext): string {
  const text = trimValue(raw, 'DS').replace(/\0+$/, '')
  if (text === '') return ''
  if (!(element.vr === 'IS' ? IS_PATTERN : DS_PATTERN).test(text)) {
    ctx.warn?.(`${formatTag(element.tag)} ${element.vr} value "${text}" is not a valid number; left empty`)
    return ''
  }
  const number = Number(text)
  // `1e999` matches the pattern but is Infinity as a double: invalid, as `Infinity` is.
  if (!Number.isFinite(number)) {
    ctx.warn?.(`${formatTag(element.tag)} ${element.vr} value "${text}" is not a valid number; left empty`)
    return ''
  }
  const shortest = String(number)
  // Fifteen digits or fewer without an exponent (every standard IS, nearly every DS) always
  // survive a double; an exponent can leave its range (`1e-400` is 0).
  if (text.length <= 15 && text.indexOf('e') < 0 && text.indexOf('E') < 0) return shortest
  // A double holds 15 to 17 significant digits: beyond them (an IS over 2^53, a DS of 20
  // digits) its shortest form is another number. The stored text is kept then, with only the
  // changes that are exact: no `+`, no leading zeros, a 0 before a leading point.
  if (sameDecimal(shortest, text)) return shortest
  return text
    .replace(/^\+/, '')
    .replace(/^(-?)0+(?=\d)/, '$1')
    .replace(/^(-?)\./, '$10.')
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

function numbers(value: Uint8Array, size: number, sep: string, one: (view: DataView, at: number) => string): string {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const count = Math.floor(value.length / size)
  let out = ''
  for (let i = 0; i < count; i++) out += (i ? sep : '') + one(view, i * size)
  return out
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
