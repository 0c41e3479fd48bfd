/**
 * A DICOM JSON data set (PS3.18 Annex F, as WADO-RS metadata gives it) written back as the bytes
 * of a Part 10 file in Explicit VR Little Endian, so that the header scanner and the projector
 * read it exactly as they read a file: every column (keywords, paths into sequences, `sr:` paths,
 * frames) means the same for both sources.
 *
 * - Text is UTF-8 (F.2): the header says so (`textUtf8`), whatever Specific Character Set says.
 * - DS and IS come as JSON numbers or as strings (CP-1861): either is written as its text.
 * - PN values are objects of component groups (Alphabetic, Ideographic, Phonetic), joined by `=`.
 * - AT values are 8 hexadecimal digits; InlineBinary is base64; a BulkDataURI value is left
 *   empty (its URL is kept in `bulkData`: the source fetches those a column asks for and gives
 *   them back as InlineBinary).
 * - The file meta holds only the transfer syntax the bytes are in; it is dropped after the scan
 *   ({@link dropMadeUpMeta}): a DICOMweb server's metadata has no file meta (group 0002 elements
 *   in the JSON are left out).
 */
import type { DataElement } from './data-element.js'

/** One attribute of a DICOM JSON data set. */
export interface JsonAttribute {
  vr?: string
  Value?: unknown[]
  InlineBinary?: string
  BulkDataURI?: string
}

/** A DICOM JSON data set: attributes by 8 hex digit tag. */
export type JsonDataset = Record<string, JsonAttribute>

const EXPLICIT_LE = '1.2.840.10008.1.2.1'
/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT'])
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'])
const NUMBER_WIDTH: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, UV: 8, SV: 8 }

/** What {@link jsonToPart10} made. */
export interface Part10 {
  bytes: Buffer
  /** The tags whose values are BulkDataURIs (left empty), with their URLs. */
  bulkData: Map<number, string>
}

/**
 * The Part 10 bytes of a DICOM JSON data set.
 * @throws Error when the JSON is not a data set (not an object, a tag that is not 8 hex digits).
 */
export function jsonToPart10(dataset: JsonDataset): Part10 {
  if (dataset === null || typeof dataset !== 'object' || Array.isArray(dataset)) {
    throw new Error('DICOM JSON data set is not an object')
  }
  const bulkData = new Map<number, string>()
  const body = encodeDataset(dataset, bulkData, true)
  const ts = element(0x00020010, 'UI', text(EXPLICIT_LE, 'UI'))
  const meta = Buffer.concat([element(0x00020000, 'UL', u32(ts.length)), ts])
  const preamble = Buffer.alloc(132)
  preamble.write('DICM', 128, 'latin1')
  return { bytes: Buffer.concat([preamble, meta, body]), bulkData }
}

/** The elements of a data set (or item) in tag order. */
function encodeDataset(dataset: JsonDataset, bulkData: Map<number, string>, top: boolean): Buffer {
  const entries = Object.entries(dataset).map(([key, attribute]) => {
    if (!/^[0-9A-Fa-f]{8}$/.test(key)) throw new Error(`DICOM JSON tag "${key}" is not 8 hexadecimal digits`)
    return { tag: parseInt(key, 16), attribute }
  })
  entries.sort((a, b) => a.tag - b.tag)
  const parts: Buffer[] = []
  for (const { tag, attribute } of entries) {
    // Group lengths are not needed; the JSON's own file meta is not part of the data set.
    if ((tag & 0xffff) === 0 || (top && tag >>> 16 === 0x0002)) continue
    parts.push(encodeAttribute(tag, attribute ?? {}, bulkData, top))
  }
  return Buffer.concat(parts)
}

function encodeAttribute(tag: number, attribute: JsonAttribute, bulkData: Map<number, string>, top: boolean): Buffer {
  const vr = typeof attribute.vr === 'string' && /^[A-Z]{2}$/.test(attribute.vr) ? attribute.vr : 'UN'
  if (attribute.BulkDataURI !== undefined) {
    if (top) bulkData.set(tag, attribute.BulkDataURI)
    return element(tag, vr, Buffer.alloc(0))
  }
  if (attribute.InlineBinary !== undefined) return element(tag, vr, even(Buffer.from(attribute.InlineBinary, 'base64')))
  const values = Array.isArray(attribute.Value) ? attribute.Value : []
  if (vr === 'SQ') {
    const items = values.map((item) => {
      const inner = encodeDataset((item ?? {}) as JsonDataset, bulkData, false)
      return Buffer.concat([itemHeader(0xe000, inner.length), inner])
    })
    return element(tag, vr, Buffer.concat(items))
  }
  if (BINARY_VRS.has(vr)) return element(tag, vr, Buffer.alloc(0))
  const width = NUMBER_WIDTH[vr]
  if (width) return element(tag, vr, numbers(vr, width, values))
  if (vr === 'AT') {
    const out = Buffer.alloc(values.length * 4)
    values.forEach((v, i) => {
      const t = parseInt(String(v), 16) >>> 0
      out.writeUInt16LE(t >>> 16, i * 4)
      out.writeUInt16LE(t & 0xffff, i * 4 + 2)
    })
    return element(tag, vr, out)
  }
  const texts = values.map((v) => (vr === 'PN' ? personName(v) : v === null || v === undefined ? '' : String(v)))
  return element(tag, vr, text(texts.join('\\'), vr))
}

/** A PN value: its component groups joined by `=`, up to the last group the JSON has (even empty). */
function personName(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value !== 'object') return String(value)
  const groups = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string }
  const parts = [groups.Alphabetic, groups.Ideographic, groups.Phonetic]
  while (parts.length > 1 && parts[parts.length - 1] === undefined) parts.pop()
  return parts.map((part) => part ?? '').join('=')
}

function numbers(vr: string, width: number, values: unknown[]): Buffer {
  const out = Buffer.alloc(values.length * width)
  values.forEach((v, i) => {
    const at = i * width
    if (vr === 'UV') out.writeBigUInt64LE(BigInt.asUintN(64, BigInt(String(v ?? 0))), at)
    else if (vr === 'SV') out.writeBigInt64LE(BigInt.asIntN(64, BigInt(String(v ?? 0))), at)
    else {
      const n = Number(v ?? 0)
      if (vr === 'US') out.writeUInt16LE(n & 0xffff, at)
      else if (vr === 'SS') out.writeInt16LE((n << 16) >> 16, at)
      else if (vr === 'UL') out.writeUInt32LE(n >>> 0, at)
      else if (vr === 'SL') out.writeInt32LE(n | 0, at)
      else if (vr === 'FL') out.writeFloatLE(n, at)
      else out.writeDoubleLE(n, at)
    }
  })
  return out
}

/** Text as UTF-8, padded to an even length (UI with NUL, others with a space). */
function text(value: string, vr: string): Buffer {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length % 2 === 0) return bytes
  return Buffer.concat([bytes, Buffer.from([vr === 'UI' ? 0 : 0x20])])
}

function even(bytes: Buffer): Buffer {
  return bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(1)])
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}

/** An explicit VR little endian element; a value too long for a short VR's length goes as UN. */
function element(tag: number, vr: string, value: Buffer): Buffer {
  const long = LONG_VRS.has(vr) || value.length > 0xffff
  const head = Buffer.alloc(long ? 12 : 8)
  head.writeUInt16LE(tag >>> 16, 0)
  head.writeUInt16LE(tag & 0xffff, 2)
  head.write(long && !LONG_VRS.has(vr) ? 'UN' : vr, 4, 'latin1')
  if (long) head.writeUInt32LE(value.length, 8)
  else head.writeUInt16LE(value.length, 6)
  return Buffer.concat([head, value])
}

function itemHeader(element: number, length: number): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt16LE(0xfffe, 0)
  head.writeUInt16LE(element, 2)
  head.writeUInt32LE(length, 4)
  return head
}

/** Removes the made-up file meta from a scanned header's elements. */
export function dropMadeUpMeta(elements: Map<number, DataElement>): void {
  for (const tag of [...elements.keys()]) if (tag >>> 16 === 0x0002) elements.delete(tag)
}
