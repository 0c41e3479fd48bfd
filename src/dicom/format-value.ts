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
import { formatTag } from './keywords.js'
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
  const { vr, value } = element
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
      if (SINGLE_VALUED.has(vr)) return trimValue(text, vr)
      const parts = text.split('\\')
      for (let i = 0; i < parts.length; i++) parts[i] = trimValue(parts[i], vr)
      return parts.join(sep)
    }
  }
}

function trimValue(text: string, vr: string): string {
  const end = text.replace(/[\0 ]+$/, '')
  return TRIM_BOTH.has(vr) ? end.replace(/^ +/, '') : end
}

/** DS and IS: each value parsed and printed in its shortest form; invalid ones dropped with a warning. */
function numberStrings(element: DataElement, ctx: FormatContext, sep: string): string {
  const parts = latin1(element.value).split('\\')
  const out: string[] = []
  for (const raw of parts) {
    const text = raw.replace(/^[\0 ]+|[\0 ]+$/g, '')
    if (text === '') {
      out.push('')
      continue
    }
    const pattern = element.vr === 'IS' ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
    if (!pattern.test(text)) {
      ctx.warn?.(`${formatTag(element.tag)} ${element.vr} value "${text}" is not a valid number; left empty`)
      out.push('')
      continue
    }
    out.push(String(Number(text)))
  }
  return out.join(sep)
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
