/**
 * How a data set is encoded, told before the scan: whether a file without preamble starts with
 * file meta, and the byte order and explicitness of the data set from its transfer syntax,
 * checked against its first bytes, or sniffed for a raw data set (one without file meta), which
 * must start as one.
 */
import { Tags, lookupTag } from './keywords.js'
import { SHORT, UL_CODE, UNDEFINED_LENGTH, VR_KIND } from './vr.js'

/** Explicit VR big endian (retired, PS3.5 section A.3). */
export const EXPLICIT_BE = '1.2.840.10008.1.2.2'

/**
 * Whether a file without preamble starts with a file meta element: group 0002, an element of
 * the meta (PS3.10 table 7.1-1 ends at 0102), a valid explicit VR and a sane length: (0002,0000)
 * is UL of 4 bytes. Two bytes `02 00` alone are not enough (1 in 65536 random files has them).
 */
export function startsWithMetaElement(buf: Buffer): boolean {
  if (buf.length < 12 || buf.readUInt16LE(0) !== 0x0002) return false
  const element = buf.readUInt16LE(2)
  const code = (buf[4] << 8) | buf[5]
  const kind = VR_KIND[code]
  if (kind === 0 || element > 0x0102) return false
  if (element === 0) return code === UL_CODE && buf.readUInt16LE(6) === 4
  if (kind === SHORT) return buf.readUInt16LE(6) <= 1024
  return buf[6] === 0 && buf[7] === 0 && buf.readUInt32LE(8) <= 65536
}

/** Elements a raw data set's start is checked on. */
const RAW_CHECKED = 4

/**
 * Whether a data set without file meta starts as one: with an element of group 0004 (a
 * directory), 0008 or 0010 (never 0002: that is file meta, checked apart), then tags
 * ascending, each with a valid VR (explicit) or known to the dictionary (implicit), and a length
 * within the bytes at hand (when they are the whole file; else at most 16 MiB).
 */
function plausibleRawStart(buf: Buffer, little: boolean, explicit: boolean, eof: boolean): boolean {
  const u16 = (at: number) => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at))
  const u32 = (at: number) => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at))
  let pos = 0
  let previous = -1
  for (let i = 0; i < RAW_CHECKED && pos + 8 <= buf.length; i++) {
    const group = u16(pos)
    const tag = group * 0x10000 + u16(pos + 2)
    if (i === 0 && (group < 0x0004 || group > 0x0010 || group % 2 === 1)) return false
    if (tag <= previous) return false
    if (tag >= Tags.PixelData) return true
    previous = tag
    let length: number
    let start: number
    if (explicit) {
      const kind = VR_KIND[(buf[pos + 4] << 8) | buf[pos + 5]]
      if (kind === 0) return false
      if (kind === SHORT) {
        length = u16(pos + 6)
        start = pos + 8
      } else {
        if (pos + 12 > buf.length) return true
        if (buf[pos + 6] !== 0 || buf[pos + 7] !== 0) return false
        length = u32(pos + 8)
        start = pos + 12
      }
    } else {
      const known = (tag & 0xffff) === 0 || lookupTag(tag) !== undefined || (group % 2 === 1 && (tag & 0xffff) < 0x100)
      if (!known) return false
      length = u32(pos + 4)
      start = pos + 8
    }
    if (length === UNDEFINED_LENGTH) return true
    if (length > (eof ? buf.length - start : 16 * 1024 * 1024)) return false
    pos = start + length
  }
  return true
}

function isVR(buf: Buffer, at: number): boolean {
  return VR_KIND[(buf[at] << 8) | buf[at + 1]] !== 0
}

/**
 * Encoding of the data set starting at `pos`: from the transfer syntax, checked against the
 * first element's bytes; or sniffed when there is no transfer syntax (raw data sets, meta without
 * it). A raw data set must start as one ({@link plausibleRawStart}): text, JSON, JPEG, gzip and
 * random bytes do not.
 */
export function detectEncoding(
  buf: Buffer,
  pos: number,
  ts: string | undefined,
  hasMeta: boolean,
  eof: boolean,
): { little: boolean; explicit: boolean } | undefined {
  if (buf.length - pos < 8) return undefined
  const explicitBytes = isVR(buf, pos + 4)
  if (ts !== undefined) {
    const little = ts !== EXPLICIT_BE
    return { little, explicit: explicitBytes }
  }
  if (!hasMeta) {
    // No file meta: a raw data set, only if its first elements look like one.
    for (const encoding of [
      { little: true, explicit: true },
      { little: true, explicit: false },
      { little: false, explicit: true },
    ]) {
      if (plausibleRawStart(buf, encoding.little, encoding.explicit, eof)) return encoding
    }
    return undefined
  }
  const groupLE = buf.readUInt16LE(pos)
  const groupBE = buf.readUInt16BE(pos)
  const plausible = (g: number) => g >= 0x0002 && g <= 0x0010 && g % 2 === 0
  if (plausible(groupBE) && !plausible(groupLE) && explicitBytes) return { little: false, explicit: true }
  if (explicitBytes) return { little: true, explicit: true }
  return { little: true, explicit: false }
}
