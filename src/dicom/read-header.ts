/**
 * Header reader: finds the requested data elements of one DICOM file without reading the
 * pixel data and without decoding anything that was not asked for.
 *
 * A file is a prefix of bytes read so far. The scanner walks it element by element (PS3.5
 * section 7) and either finishes, asks for a longer prefix ("need N bytes"), or fails. Each
 * call starts again from byte 0; the first chunk (8 KiB by default) holds a typical CT header,
 * so re-scans are rare and cost a few microseconds when they happen.
 *
 * Understood: Part-10 files (preamble, "DICM", file meta group 0002, PS3.10 section 7.1), raw
 * data sets without preamble or meta (sniffed), implicit VR little endian, explicit VR little and
 * big endian, deflated explicit VR little endian (the whole file is read and inflated), and the
 * encapsulated transfer syntaxes (the header before Pixel Data is explicit VR little endian).
 * Sequences and items of undefined length are skipped by walking their delimiters (PS3.5
 * section 7.5); UN of undefined length holds implicit VR little endian (PS3.5 section 6.2.2).
 * A data set whose encoding contradicts its transfer syntax (explicit bytes under an implicit
 * syntax, and the reverse) is read as the bytes say, as DCMTK and pydicom do.
 */
import { open, read, close, fstat } from 'node:fs'
import { inflateRawSync } from 'node:zlib'
import { EtlError, describeSystemError } from '../errors.js'
import { formatTag, lookupTag, Tags } from './keywords.js'

/** One data element as stored: its VR and its value bytes (a view into the read buffer). */
export interface DataElement {
  tag: number
  vr: string
  value: Uint8Array
}

/** What a scan found: the requested elements (and every file meta element), and the encoding. */
export interface Header {
  /** Requested data set elements and all file meta (group 0002) elements, by tag. */
  elements: Map<number, DataElement>
  /** From the file meta; undefined for raw data sets and meta without it. */
  transferSyntaxUID: string | undefined
  littleEndian: boolean
  explicitVR: boolean
  /** Bytes of the file that were read. */
  bytesRead: number
}

/** Which elements to collect. Build it once per pipeline with {@link planRead}. */
export interface ReadPlan {
  tags: ReadonlySet<number>
  /** Scanning stops at the first top-level tag above this one (or at Pixel Data). */
  maxTag: number
}

/** A plan for the given data set tags; Specific Character Set is always added (text decoding needs it). */
export function planRead(tags: Iterable<number>): ReadPlan {
  const set = new Set<number>([Tags.SpecificCharacterSet])
  for (const t of tags) if (t >>> 16 !== 0x0002) set.add(t >>> 0)
  let maxTag = 0
  for (const t of set) maxTag = Math.max(maxTag, t)
  return { tags: set, maxTag }
}

const EXPLICIT_BE = '1.2.840.10008.1.2.2'
const DEFLATED_LE = '1.2.840.10008.1.2.1.99'
const UNDEFINED_LENGTH = 0xffffffff
/** Sequences nested deeper than this are taken as corrupt (no real object comes close). */
const MAX_DEPTH = 64

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 table 7.1-1). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])
const KNOWN_VRS = new Set([
  ...LONG_VRS,
  ...['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS'],
  ...['ST', 'TM', 'UI', 'UL', 'US'],
])

/** Scan result: finished, or the prefix must grow to at least `need` bytes. */
export type ScanResult = { done: true; header: Header } | { done: false; need: number }

class Truncated extends Error {}

function corrupt(message: string): EtlError {
  return new EtlError('E_CORRUPT', message)
}

/**
 * Scans a prefix of a file. `eof` says the prefix is the whole file. Throws EtlError with
 * E_NOT_DICOM (neither Part-10 nor a raw data set), E_EMPTY, E_TRUNCATED or E_CORRUPT.
 */
export function scanHeader(bytes: Uint8Array, eof: boolean, plan: ReadPlan): ScanResult {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < 132 && !eof) return { done: false, need: 132 }
  const elements = new Map<number, DataElement>()
  let pos = 0
  let transferSyntaxUID: string | undefined
  const part10 = buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM'
  if (part10) pos = 132
  const startsWithMeta = part10 || (buf.length >= 8 && buf.readUInt16LE(0) === 0x0002)
  if (startsWithMeta) {
    const meta = new Scanner(buf, eof, true, true, plan, elements)
    try {
      pos = meta.readMeta(pos)
    } catch (e) {
      if (e instanceof Truncated) return eof ? truncated(buf.length) : { done: false, need: buf.length * 2 }
      throw e
    }
    const ts = elements.get(Tags.TransferSyntaxUID)
    transferSyntaxUID = ts ? latin1(ts.value).replace(/[\0 ]+$/, '') : undefined
    if (pos >= buf.length && eof) {
      if (part10 && elements.size === 0) throw new EtlError('E_EMPTY', 'DICM marker but no file meta and no data set')
      if (elements.size === 0) throw new EtlError('E_EMPTY', 'no data elements')
    }
  }

  if (transferSyntaxUID === DEFLATED_LE) {
    if (!eof) return { done: false, need: Infinity }
    let inflated: Buffer
    try {
      inflated = inflateRawSync(buf.subarray(pos), { maxOutputLength: 256 * 1024 * 1024 })
    } catch (e) {
      throw corrupt(`deflated data set cannot be inflated: ${(e as Error).message}`)
    }
    new Scanner(inflated, true, true, true, plan, elements).readDataSet(0)
    return {
      done: true,
      header: { elements, transferSyntaxUID, littleEndian: true, explicitVR: true, bytesRead: buf.length },
    }
  }

  const encoding = detectEncoding(buf, pos, transferSyntaxUID, part10 || startsWithMeta)
  if (!encoding) {
    if (buf.length - pos < 8 && !eof) return { done: false, need: pos + 8 }
    if (part10 || startsWithMeta) {
      if (pos >= buf.length)
        return {
          done: true,
          header: { elements, transferSyntaxUID, littleEndian: true, explicitVR: true, bytesRead: buf.length },
        }
      throw corrupt(`unrecognised data set encoding at byte ${pos}`)
    }
    throw new EtlError('E_NOT_DICOM', 'not DICOM: no DICM marker and not a raw data set')
  }
  const scanner = new Scanner(buf, eof, encoding.little, encoding.explicit, plan, elements)
  try {
    scanner.readDataSet(pos)
  } catch (e) {
    if (e instanceof Truncated) {
      if (eof) return truncated(buf.length, scanner.lastTag)
      return { done: false, need: Math.max(scanner.need, buf.length * 2) }
    }
    throw e
  }
  return {
    done: true,
    header: {
      elements,
      transferSyntaxUID,
      littleEndian: encoding.little,
      explicitVR: encoding.explicit,
      bytesRead: buf.length,
    },
  }
}

function truncated(size: number, tag?: number): never {
  const where = tag === undefined ? '' : ` in or after ${formatTag(tag)}`
  throw new EtlError('E_TRUNCATED', `file ends inside the header${where} (${size} bytes)`)
}

function isVR(buf: Buffer, at: number): boolean {
  const a = buf[at]
  const b = buf[at + 1]
  return a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a && KNOWN_VRS.has(String.fromCharCode(a, b))
}

/**
 * Encoding of the data set starting at `pos`: from the transfer syntax, checked against the
 * first element's bytes; or sniffed when there is no transfer syntax (raw data sets, meta without
 * it). A raw data set must start with a plausible group (0002 to 0010): text, JSON, JPEG and gzip
 * files do not.
 */
function detectEncoding(
  buf: Buffer,
  pos: number,
  ts: string | undefined,
  hasMeta: boolean,
): { little: boolean; explicit: boolean } | undefined {
  if (buf.length - pos < 8) return undefined
  const explicitBytes = isVR(buf, pos + 4)
  if (ts !== undefined) {
    const little = ts !== EXPLICIT_BE
    return { little, explicit: explicitBytes }
  }
  const groupLE = buf.readUInt16LE(pos)
  const groupBE = buf.readUInt16BE(pos)
  const plausible = (g: number) => g >= 0x0002 && g <= 0x0010 && g % 2 === 0
  if (plausible(groupBE) && !plausible(groupLE) && explicitBytes) return { little: false, explicit: true }
  // After a file meta the file is DICOM whatever its first group; without one, be strict.
  if (!hasMeta && !plausible(groupLE)) return undefined
  if (explicitBytes) return { little: true, explicit: true }
  const length = buf.readUInt32LE(pos + 4)
  if (hasMeta || length === UNDEFINED_LENGTH || length <= 1024 * 1024) return { little: true, explicit: false }
  return undefined
}

/** Walks elements of one encoding over one buffer, collecting the planned ones. */
class Scanner {
  /** Bytes the prefix must reach when a Truncated is thrown. */
  need = 0
  /** The last top-level tag reached (for messages). */
  lastTag: number | undefined
  private readonly buf: Buffer
  private readonly eof: boolean
  private readonly little: boolean
  private readonly explicit: boolean
  private readonly plan: ReadPlan
  private readonly out: Map<number, DataElement>

  constructor(
    buf: Buffer,
    eof: boolean,
    little: boolean,
    explicit: boolean,
    plan: ReadPlan,
    out: Map<number, DataElement>,
  ) {
    this.buf = buf
    this.eof = eof
    this.little = little
    this.explicit = explicit
    this.plan = plan
    this.out = out
  }

  private ensure(end: number): void {
    if (end > this.buf.length) {
      this.need = end
      throw new Truncated()
    }
  }

  private u16(at: number): number {
    return this.little ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at)
  }

  private u32(at: number): number {
    return this.little ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at)
  }

  private tagAt(at: number): number {
    return ((this.u16(at) << 16) | this.u16(at + 2)) >>> 0
  }

  /** File meta: explicit VR little endian elements of group 0002 (PS3.10 section 7.1). Returns the end. */
  readMeta(pos: number): number {
    const buf = this.buf
    while (pos + 8 <= buf.length || !this.eof) {
      this.ensure(pos + 8)
      if (buf.readUInt16LE(pos) !== 0x0002) break
      const tag = this.tagAt(pos)
      if (!isVR(buf, pos + 4)) throw corrupt(`file meta element ${formatTag(tag)} has no valid VR`)
      const vr = String.fromCharCode(buf[pos + 4], buf[pos + 5])
      const long = LONG_VRS.has(vr)
      const header = long ? 12 : 8
      this.ensure(pos + header)
      const length = long ? buf.readUInt32LE(pos + 8) : buf.readUInt16LE(pos + 6)
      if (length === UNDEFINED_LENGTH) throw corrupt(`file meta element ${formatTag(tag)} has undefined length`)
      const start = pos + header
      this.ensure(start + length)
      this.out.set(tag, { tag, vr, value: buf.subarray(start, start + length) })
      pos = start + length
    }
    return pos
  }

  /** The top-level data set from `pos` until Pixel Data, the last planned tag, or the end. */
  readDataSet(pos: number): void {
    const { buf, plan } = this
    for (;;) {
      if (pos >= buf.length) {
        if (this.eof) return
        this.ensure(pos + 8)
      }
      if (pos + 8 > buf.length) {
        if (this.eof && isZeroPadding(buf, pos)) return
        this.ensure(pos + 8)
      }
      const tag = this.tagAt(pos)
      if (tag >= Tags.PixelData || tag > plan.maxTag) {
        if (tag >>> 16 !== 0xfffe) return
      }
      this.lastTag = tag
      if (tag >>> 16 === 0xfffe) {
        // A stray item or delimiter at the top level: skip its 8 bytes, as DCMTK does.
        pos += 8
        continue
      }
      pos = this.readElement(pos, tag, plan.tags.has(tag), 0)
    }
  }

  /** Reads (or skips) one element at `pos` whose tag is known; returns the position after it. */
  private readElement(pos: number, tag: number, keep: boolean, depth: number): number {
    const buf = this.buf
    let vr: string
    let length: number
    let start: number
    if (this.explicit && isVR(buf, pos + 4)) {
      vr = String.fromCharCode(buf[pos + 4], buf[pos + 5])
      if (LONG_VRS.has(vr)) {
        this.ensure(pos + 12)
        length = this.u32(pos + 8)
        start = pos + 12
      } else {
        length = this.u16(pos + 6)
        start = pos + 8
      }
    } else if (this.explicit) {
      throw corrupt(`element ${formatTag(tag)} at byte ${pos} has no valid VR`)
    } else {
      vr = implicitVR(tag)
      length = this.u32(pos + 4)
      start = pos + 8
    }
    if (length === UNDEFINED_LENGTH) {
      // An undefined length is a sequence (SQ, or UN/implicit holding one) or encapsulated data.
      const contentsExplicit = vr === 'UN' ? false : this.explicit
      const end = this.skipSequence(start, contentsExplicit, depth + 1, tag)
      if (keep) this.out.set(tag, { tag, vr: vr === 'UN' ? 'SQ' : vr, value: buf.subarray(start, end) })
      return end
    }
    const end = start + length
    if (this.eof && end > buf.length) {
      throw new EtlError(
        length > buf.length ? 'E_CORRUPT' : 'E_TRUNCATED',
        length > buf.length
          ? `element ${formatTag(tag)} claims ${length} bytes, more than the file holds (${buf.length})`
          : `file ends inside element ${formatTag(tag)} (${buf.length} bytes)`,
      )
    }
    if (keep) {
      this.ensure(end)
      this.out.set(tag, { tag, vr, value: buf.subarray(start, end) })
    }
    return end
  }

  /**
   * Skips the items of an undefined-length sequence from `pos` to just after its Sequence
   * Delimitation Item, and returns that position. Item contents use `explicit`.
   */
  private skipSequence(pos: number, explicit: boolean, depth: number, owner: number): number {
    if (depth > MAX_DEPTH) throw corrupt(`sequences nested deeper than ${MAX_DEPTH} in ${formatTag(owner)}`)
    const inner = explicit === this.explicit ? this : this.withEncoding(explicit)
    for (;;) {
      this.ensure(pos + 8)
      const tag = inner.tagAt(pos)
      const length = inner.u32(pos + 4)
      pos += 8
      if (tag === Tags.SequenceDelimitation) return pos
      if (tag !== Tags.Item) {
        throw corrupt(
          `${formatTag(owner)}: expected an item or sequence delimiter, found ${formatTag(tag)} at byte ${pos - 8}`,
        )
      }
      if (length !== UNDEFINED_LENGTH) {
        pos += length
        continue
      }
      // An item of undefined length: its elements, up to the Item Delimitation Item.
      for (;;) {
        this.ensure(pos + 8)
        const elementTag = inner.tagAt(pos)
        if (elementTag === Tags.ItemDelimitation) {
          pos += 8
          break
        }
        if (elementTag === Tags.SequenceDelimitation) return pos + 8
        pos = inner.readElement(pos, elementTag, false, depth)
      }
    }
  }

  private withEncoding(explicit: boolean): Scanner {
    return new Scanner(this.buf, this.eof, this.little, explicit, this.plan, this.out)
  }
}

/** The bytes of a value as latin1 text (ASCII VRs: UI, CS, DA...). */
export function latin1(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')
}

function isZeroPadding(buf: Buffer, pos: number): boolean {
  for (let i = pos; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}

/** VR of an element in an implicit VR data set: from the dictionary; group lengths are UL; else UN. */
function implicitVR(tag: number): string {
  if ((tag & 0xffff) === 0) return 'UL'
  const vr = lookupTag(tag)?.vr
  if (!vr) return 'UN'
  if (vr === 'xs') return 'US'
  if (vr === 'ox') return 'OW'
  if (vr.length !== 2 || vr !== vr.toUpperCase()) return 'UN'
  return vr
}

/** Options of {@link readHeader}. */
export interface ReadHeaderOptions {
  /** Bytes of the first read. Default 8192: the whole header of a typical CT image. */
  chunkSize?: number
  /** Largest prefix read to find the planned elements. Default 256 MiB. */
  maxBytes?: number
  /** Also fstat the file (for size and mtime). */
  stat?: boolean
}

/** A header plus the file's size and mtime when asked for. */
export interface FileHeader extends Header {
  size?: number
  mtime?: Date
}

function openFile(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))))
}

function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  )
}

function statFile(fd: number): Promise<{ size: number; mtime: Date }> {
  return new Promise((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st))))
}

function closeFile(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()))
}

/**
 * Reads the planned elements of one file: a first chunk, then longer prefixes only while the
 * header goes on. Throws EtlError: E_READ for I/O errors, and the scan errors.
 */
export async function readHeader(path: string, plan: ReadPlan, options: ReadHeaderOptions = {}): Promise<FileHeader> {
  const chunk = options.chunkSize ?? 8192
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024
  let fd: number
  try {
    fd = await openFile(path)
  } catch (e) {
    throw new EtlError('E_READ', `cannot open: ${describeSystemError(e)}`)
  }
  try {
    let buf = Buffer.allocUnsafe(chunk)
    let n = await readAt(fd, buf, 0, chunk, 0)
    let eof = n < chunk
    let size: number | undefined = eof ? n : undefined
    let mtime: Date | undefined
    if (options.stat) {
      const st = await statFile(fd)
      size = st.size
      mtime = st.mtime
    }
    if (n === 0) throw new EtlError('E_NOT_DICOM', 'empty file')
    for (;;) {
      const result = scanHeader(buf.subarray(0, n), eof, plan)
      if (result.done) return { ...result.header, bytesRead: n, size, mtime }
      if (size === undefined) size = (await statFile(fd)).size
      const target = Math.min(result.need, size)
      if (target <= n) {
        eof = true
        continue
      }
      if (target > maxBytes) {
        throw new EtlError('E_UNSUPPORTED', `header goes on past ${maxBytes} bytes; not read`)
      }
      const grown = Buffer.allocUnsafe(target)
      buf.copy(grown, 0, 0, n)
      buf = grown
      while (n < target) {
        const got = await readAt(fd, buf, n, target - n, n)
        if (got === 0) break
        n += got
      }
      eof = n >= size || n < target
    }
  } catch (e) {
    if (e instanceof EtlError) throw e
    throw new EtlError('E_READ', `cannot read: ${describeSystemError(e)}`)
  } finally {
    await closeFile(fd)
  }
}
