/**
 * Cell text of a data element, by VR (PS3.5 section 6.2):
 *
 * - numbers as numbers: DS and IS in their shortest form ("1.250000" -> 1.25), FL without
 *   float noise (0.1, not 0.10000000149), FD/US/SS/UL/SL/SV/UV exactly; an invalid DS/IS value
 *   gives an empty cell and a warning, never text in a number column;
 * - text VRs decoded per Specific Character Set, trailing padding removed (and leading spaces
 *   where the standard calls them insignificant);
 * - PN as its DICOM text, component groups kept (`Yamada^Tarou=山田^太郎=やまだ^たろう`);
 * - DA, TM, DT as stored; AT as (gggg,eeee);
 * - binary VRs (OB, OW, UN...) as base64, never raw bytes;
 * - multiple values joined with a backslash (or the chosen separator).
 */
import { decodeText } from './charset.js'
import { formatTag, lookupTag } from './keywords.js'
import { latin1, type DataElement } from './read-header.js'

/** What formatting needs besides the element itself. */
export interface FormatContext {
  littleEndian: boolean
  /** Specific Character Set terms of the data set. */
  charsets: readonly string[]
  /** Joins multiple values. Default backslash, as DICOM stores them. */
  separator?: string
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
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
    case 'SQ':
      return ''
    default: {
      const text = TEXT_VRS.has(vr) ? decodeText(value, ctx.charsets, vr, undefined, ctx.warn) : latin1(value)
      if (SINGLE_VALUED.has(vr) || text.indexOf('\\') < 0) return trimValue(text, vr)
      const parts = text.split('\\')
      for (let i = 0; i < parts.length; i++) parts[i] = trimValue(parts[i], vr)
      return parts.join(sep)
    }
  }
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
  return String(Number(text))
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
