/**
 * Header reader: finds the requested data elements of one DICOM file without reading the
 * pixel data and without decoding anything that was not asked for.
 *
 * The scanner walks the bytes read so far element by element (PS3.5 section 7) and either
 * finishes, asks for more ("need N bytes"), or fails. Up to the first data set element it works
 * on a prefix, scanned again from byte 0 when it grows; the first chunk (8 KiB by default) holds
 * a typical CT header, so that is the whole work for most files. Past it, a scan that stops
 * leaves a {@link ScanState} (offset, cursor into the plan, elements kept so far) and goes on in
 * a window read from where it stopped: an unwanted value longer than the window is jumped over,
 * not read, and a wanted one gets a window of its size.
 *
 * Understood: Part-10 files (preamble, "DICM", file meta group 0002, PS3.10 section 7.1), raw
 * data sets without preamble or meta (sniffed), implicit VR little endian, explicit VR little and
 * big endian, deflated explicit VR little endian (inflated as far as the scan goes, in pieces), and the
 * encapsulated transfer syntaxes (the header before Pixel Data is explicit VR little endian).
 * Sequences and items of undefined length are skipped by walking their delimiters (PS3.5
 * section 7.5); UN of undefined length holds implicit VR little endian (PS3.5 section 6.2.2).
 * A data set whose encoding contradicts its transfer syntax (explicit bytes under an implicit
 * syntax, and the reverse) is read as the bytes say, as DCMTK and pydicom do.
 */
import { close, closeSync, constants, fstat, fstatSync, open, openSync, read, readSync, type Stats } from 'node:fs'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'
import { displayPath, toFsPath } from '../io/fs-path.js'
import { Inflater } from './inflate.js'
import { formatTag, lookupTag, Tags } from './keywords.js'

/** One data element as stored: its VR and its value bytes (a view into the read buffer). */
export interface DataElement {
  tag: number
  vr: string
  value: Uint8Array
  /** For a sequence: whether its items are explicit VR (a UN sequence's are implicit, PS3.5 6.2.2). */
  explicit?: boolean
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
  /**
   * Where the data set became unreadable (a length past the end of the file, an element
   * without VR, a broken sequence): elements before it were read, none from it on.
   */
  damage?: Damage
}

/** Which elements to collect. Build it once per pipeline with {@link planRead}. */
export interface ReadPlan {
  /** Data set tags to keep. */
  tags: ReadonlySet<number>
  /** The same, ascending: the top-level scan walks it beside the file's (ascending) tags. */
  sorted: readonly number[]
  /** Whole groups to keep (private groups, whose block numbers vary from file to file). */
  groups: ReadonlySet<number>
  /** Keep every element (items of sequences, `etl inspect`). */
  all: boolean
  /** File meta (group 0002) tags to keep; Transfer Syntax UID is always read. */
  metaTags: ReadonlySet<number>
  /**
   * Scanning stops at the first top-level tag above this one. Below Pixel Data unless a tag
   * after it is wanted: then the pixel data is skipped and the scan reads on.
   */
  maxTag: number
}

/** What to collect besides single tags. */
export interface PlanOptions {
  groups?: Iterable<number>
  all?: boolean
}

/** A plan for the given tags; Specific Character Set is always added (text decoding needs it). */
export function planRead(tags: Iterable<number>, options: PlanOptions = {}): ReadPlan {
  const set = new Set<number>([Tags.SpecificCharacterSet])
  const metaTags = new Set<number>([Tags.TransferSyntaxUID])
  for (const t of tags) (t >>> 16 === 0x0002 ? metaTags : set).add(t >>> 0)
  const groups = new Set(options.groups ?? [])
  let maxTag = 0
  for (const t of set) maxTag = Math.max(maxTag, t)
  for (const g of groups) maxTag = Math.max(maxTag, g * 0x10000 + 0xffff)
  if (options.all) maxTag = Tags.PixelData - 1
  const sorted = [...set].sort((a, b) => a - b)
  return { tags: set, sorted, groups, all: options.all ?? false, metaTags, maxTag }
}

/** Keep everything: for the items of a sequence. */
const ALL: ReadPlan = planRead([], { all: true })

const EXPLICIT_BE = '1.2.840.10008.1.2.2'
const DEFLATED_LE = '1.2.840.10008.1.2.1.99'
const UNDEFINED_LENGTH = 0xffffffff
/** Sequences nested deeper than this are taken as corrupt (no real object comes close). */
const MAX_DEPTH = 64

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 table 7.1-1). */
const LONG_VRS = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']
const SHORT_VRS = [
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'SL',
  'SS',
].concat(['ST', 'TM', 'UI', 'UL', 'US'])
const SHORT = 1
const LONG = 2
/** VR kind by its two bytes (`byte0 << 8 | byte1`): 0 not a VR, SHORT or LONG length field. */
const VR_KIND = new Uint8Array(65536)
for (const vr of SHORT_VRS) VR_KIND[vrCode(vr)] = SHORT
for (const vr of LONG_VRS) VR_KIND[vrCode(vr)] = LONG
const UN_CODE = vrCode('UN')
/** VR names by their two bytes, made once: a kept element's VR is a shared string, not a new one. */
const VR_NAME: string[] = []
for (const vr of [...SHORT_VRS, ...LONG_VRS]) VR_NAME[vrCode(vr)] = vr

const UL_CODE = vrCode('UL')

function vrCode(vr: string): number {
  return (vr.charCodeAt(0) << 8) | vr.charCodeAt(1)
}

/**
 * Where a top-level scan stopped, to go on from in a later window of the file: its position and
 * everything the scan knows there. Elements kept so far are views into earlier windows, which
 * must stay as they are (never reused) while the header is in use.
 */
export interface ScanState {
  /** Offset where the scan goes on: in the file, or in the inflated data set when deflated. */
  at: number
  elements: Map<number, DataElement>
  transferSyntaxUID: string | undefined
  littleEndian: boolean
  explicitVR: boolean
  /** Cursor into the plan's sorted tags, and the top-level tag before `at` (-1: none). */
  next: number
  previous: number
  pixelRepresentation: number
  lastTag: number | undefined
  /** The last element skipped whose value ends at `at` (to name it if the file ends before). */
  skipped?: { tag: number; at: number; length: number }
  /** Deflated: the file offset of the compressed data set; `at` counts inflated bytes. */
  deflatedAt?: number
  /**
   * An unwanted top-level element of undefined length (a sequence, encapsulated pixel data)
   * that goes on past the window, at `at`: the driver walks it a small window at a time
   * ({@link walkSequence}) rather than reading it whole.
   */
  sequence?: { tag: number; contents: number; explicit: boolean }
}

/** Where a data set stops being readable: the element, its offset, and why. */
export interface Damage {
  tag: number
  /** Offset of the element: in the file, or in the inflated data set when deflated. */
  at: number
  reason: string
}

/**
 * Scan result: finished, or more bytes are needed. `need` is the offset the bytes must reach;
 * with a `state`, the scan goes on from `state.at` given a window of the file from there
 * ({@link resumeScan}), else the prefix must grow.
 */
export type ScanResult = { done: true; header: Header } | { done: false; need: number; state?: ScanState }

/** Thrown inside the scanner when the prefix is too short (not an Error: no stack to capture). */
class Truncated {}

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
  const startsWithMeta = part10 || startsWithMetaElement(buf)
  if (startsWithMeta) {
    const meta = new Scanner(buf, 0, eof, true, true, plan, elements)
    try {
      pos = meta.readMeta(pos)
    } catch (e) {
      if (e instanceof Truncated) return eof ? truncated(buf.length) : { done: false, need: buf.length * 2 }
      throw e
    }
    const ts = elements.get(Tags.TransferSyntaxUID)
    transferSyntaxUID = ts ? latin1(ts.value).replace(/[\0 ]+$/, '') : undefined
    if (pos >= buf.length && eof && meta.metaElements === 0) {
      throw new EtlError('E_EMPTY', part10 ? 'DICM marker but no file meta and no data set' : 'no data elements')
    }
  }
  const state: ScanState = {
    at: pos,
    elements,
    transferSyntaxUID,
    littleEndian: true,
    explicitVR: true,
    next: 0,
    previous: -1,
    pixelRepresentation: 0,
    lastTag: undefined,
  }

  if (transferSyntaxUID === DEFLATED_LE) {
    state.at = 0
    state.deflatedAt = pos
    if (!eof) return { done: false, need: Infinity, state }
    // The whole file is here: inflate it in one go, through the same windows as a file read.
    const steps = scanDeflated(buf.subarray(pos), true, buf.length, state, plan, {})
    const next = steps.next()
    if (!next.done) throw new Error('a deflated scan of a whole file asked for more bytes')
    return { done: true, header: { ...next.value, bytesRead: buf.length } }
  }

  const encoding = detectEncoding(buf, pos, transferSyntaxUID, part10 || startsWithMeta, eof)
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
  state.littleEndian = encoding.little
  state.explicitVR = encoding.explicit
  const result = resumeScan(buf, 0, eof, plan, state)
  // A caller that grows the prefix doubles it: a long header costs a few scans.
  if (!result.done) result.need = Math.max(result.need, buf.length * 2)
  return result
}

/**
 * Goes on with a top-level scan from `state.at`, given `window`: the bytes from offset `base`
 * (at or before `state.at`; `eof`: the window reaches the end). The state is updated in place.
 */
export function resumeScan(
  window: Uint8Array,
  base: number,
  eof: boolean,
  plan: ReadPlan,
  state: ScanState,
): ScanResult {
  const buf = Buffer.isBuffer(window) ? window : Buffer.from(window.buffer, window.byteOffset, window.byteLength)
  const end = base + buf.length
  const header = (): Header => ({
    elements: state.elements,
    transferSyntaxUID: state.transferSyntaxUID,
    littleEndian: state.littleEndian,
    explicitVR: state.explicitVR,
    bytesRead: end,
  })
  const skipped = state.skipped
  if (skipped && state.at > end) {
    if (!eof) return { done: false, need: state.at + 8, state }
    // The value of a skipped element goes past the end of the file.
    if (skipped.length <= end) truncatedIn(skipped.tag, end)
    const reason = claimsTooMuch(skipped.tag, skipped.length, end)
    const done: { done: true; header: Header } = { done: true, header: header() }
    done.header.damage = { tag: skipped.tag, at: skipped.at, reason }
    return done
  }
  const scanner = new Scanner(buf, base, eof, state.littleEndian, state.explicitVR, plan, state.elements)
  try {
    scanner.readDataSet(state)
  } catch (e) {
    if (e instanceof Truncated) {
      if (eof) return truncated(end, state.lastTag)
      state.sequence = scanner.sequence
      return { done: false, need: base + scanner.need, state }
    }
    throw e
  }
  const done = { done: true as const, header: header() }
  if (scanner.damage) done.header.damage = scanner.damage
  return done
}

function claimsTooMuch(tag: number, length: number, size: number): string {
  return `element ${formatTag(tag)} claims ${length} bytes, more than the file holds (${size})`
}

function truncatedIn(tag: number, size: number): never {
  throw new EtlError('E_TRUNCATED', `file ends inside element ${formatTag(tag)} (${size} bytes)`)
}

function truncated(size: number, tag?: number): never {
  const where = tag === undefined ? '' : ` in or after ${formatTag(tag)}`
  throw new EtlError('E_TRUNCATED', `file ends inside the header${where} (${size} bytes)`)
}

/**
 * Whether a file without preamble starts with a file meta element: group 0002, an element of
 * the meta (PS3.10 table 7.1-1 ends at 0102), a valid explicit VR and a sane length: (0002,0000)
 * is UL of 4 bytes. Two bytes `02 00` alone are not enough (1 in 65536 random files has them).
 */
function startsWithMetaElement(buf: Buffer): boolean {
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
function detectEncoding(
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

/**
 * Walks elements of one encoding over one buffer, collecting the planned ones. The hot loop of
 * the program: it reads tags and lengths with byte arithmetic, looks VRs up in a table by their
 * two bytes, and creates objects only for the elements it keeps.
 */
class Scanner {
  /** Bytes the window must reach when a Truncated is thrown (from the window's start). */
  need = 0
  /** Set when the top-level scan stopped at a damaged element. */
  damage: Damage | undefined
  /** Set when an unwanted top-level sequence went past the window (see ScanState.sequence). */
  sequence: ScanState['sequence']
  /** The value length of the last element of defined length read. */
  valueLength = 0
  /** The last top-level tag reached (for messages). */
  lastTag: number | undefined
  /** How many file meta elements readMeta found. */
  metaElements = 0
  /** Pixel Representation (0028,0103) once passed: 1 makes "US or SS" elements SS. */
  pixelRepresentation = 0
  private readonly buf: Buffer
  /** Offset of the buffer's first byte in the file (or inflated data set). */
  private readonly base: number
  private readonly eof: boolean
  private readonly little: boolean
  private readonly explicit: boolean
  private readonly plan: ReadPlan
  private readonly out: Map<number, DataElement>

  constructor(
    buf: Buffer,
    base: number,
    eof: boolean,
    little: boolean,
    explicit: boolean,
    plan: ReadPlan,
    out: Map<number, DataElement>,
  ) {
    this.buf = buf
    this.base = base
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
    const b = this.buf
    return this.little ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1]
  }

  u32(at: number): number {
    const b = this.buf
    return this.little
      ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000
      : b[at] * 0x1000000 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3])
  }

  tagAt(at: number): number {
    return this.u16(at) * 0x10000 + this.u16(at + 2)
  }

  /** File meta: explicit VR little endian elements of group 0002 (PS3.10 section 7.1). Returns the end. */
  readMeta(pos: number): number {
    const buf = this.buf
    let metaElements = 0
    while (pos + 8 <= buf.length || !this.eof) {
      this.ensure(pos + 8)
      if ((buf[pos] | (buf[pos + 1] << 8)) !== 0x0002) break
      const tag = this.tagAt(pos)
      const kind = VR_KIND[(buf[pos + 4] << 8) | buf[pos + 5]]
      if (kind === 0) throw corrupt(`file meta element ${formatTag(tag)} has no valid VR`)
      const header = kind === LONG ? 12 : 8
      this.ensure(pos + header)
      const length = kind === LONG ? this.u32(pos + 8) : this.u16(pos + 6)
      if (length === UNDEFINED_LENGTH) throw corrupt(`file meta element ${formatTag(tag)} has undefined length`)
      const start = pos + header
      this.ensure(start + length)
      if (this.plan.all || this.plan.metaTags.has(tag)) {
        this.out.set(tag, {
          tag,
          vr: VR_NAME[(buf[pos + 4] << 8) | buf[pos + 5]],
          value: buf.subarray(start, start + length),
        })
      }
      pos = start + length
      metaElements++
    }
    this.metaElements = metaElements
    return pos
  }

  /**
   * The top-level data set from `state.at` until Pixel Data, the last planned tag, or the end.
   * Leaves `state` where the scan stopped: at the element that a Truncated interrupted (its
   * start, or the end of a skipped value past the window), or at the damage.
   */
  readDataSet(state: ScanState): void {
    const buf = this.buf
    const base = this.base
    const { maxTag, tags: wanted, sorted, groups, all } = this.plan
    const byGroup = groups.size > 0
    // Top-level tags ascend, so the planned tags are met in order: a cursor finds them without
    // hashing. A tag out of order (a broken file) is looked up in the set instead.
    let next = state.next
    let previous = state.previous
    let pos = state.at - base
    this.pixelRepresentation = state.pixelRepresentation
    this.lastTag = state.lastTag
    let tag = -1
    try {
      for (;;) {
        if (pos + 8 > buf.length) {
          if (this.eof && (pos >= buf.length || isZeroPadding(buf, pos))) return
          this.ensure(pos + 8)
        }
        tag = this.tagAt(pos)
        if (tag > maxTag) {
          if (tag < 0xfffe0000) {
            if (this.explicit) this.checkEnd(pos, previous >= 0 ? previous : tag)
            return
          }
          // A stray item or delimiter at the top level: skip its 8 bytes, as DCMTK does.
          pos += 8
          continue
        }
        this.lastTag = tag
        if (tag === PIXEL_REPRESENTATION && pos + 10 <= buf.length) this.pixelRepresentation = this.u16(pos + 8)
        let planned: boolean
        if (tag > previous) {
          while (next < sorted.length && sorted[next] < tag) next++
          planned = next < sorted.length && sorted[next] === tag
        } else {
          planned = wanted.has(tag)
        }
        const keep = all || planned || (byGroup && groups.has(Math.floor(tag / 0x10000)))
        const end = this.readElement(pos, tag, keep, 0)
        // A value skipped past the window: the scan goes on from its end, in another window.
        state.skipped = end > buf.length ? { tag, at: base + pos, length: this.valueLength } : undefined
        previous = tag
        pos = end
      }
    } catch (e) {
      if (e instanceof EtlError && e.code === 'E_CORRUPT') {
        this.damage = { tag, at: base + pos, reason: e.message }
        return
      }
      throw e
    } finally {
      state.at = base + pos
      state.next = next
      state.previous = previous
      state.pixelRepresentation = this.pixelRepresentation
      state.lastTag = this.lastTag
    }
  }

  /**
   * Past the last wanted tag, the end of the scan if an element starts at `pos`. Bytes without
   * a valid VR are the inside of a value whose length was damaged: what was read of the element
   * before may be cut short, and later ones were not found. (Out of the hot loop: kept small.)
   */
  private checkEnd(pos: number, before: number): void {
    const buf = this.buf
    if (pos + 6 > buf.length || VR_KIND[(buf[pos + 4] << 8) | buf[pos + 5]] !== 0) return
    const at = this.base + pos
    this.damage = {
      tag: before,
      at,
      reason: `after ${formatTag(before)}, no element at byte ${at} (its length is wrong)`,
    }
  }

  /**
   * The elements of one item, all kept, from `pos` to `end` (defined length) or to its Item
   * Delimitation Item (`end` Infinity); returns the position after the item.
   */
  readItem(pos: number, end: number): number {
    const buf = this.buf
    while (pos < end) {
      if (pos + 8 > buf.length) {
        if (end === Infinity) throw corrupt('an item of undefined length has no Item Delimitation Item')
        return end
      }
      const tag = this.tagAt(pos)
      if (tag === Tags.ItemDelimitation) return pos + 8
      pos = this.readElement(pos, tag, true, 1)
    }
    return pos
  }

  /** Reads (or skips) one element at `pos` whose tag is known; returns the position after it. */
  private readElement(pos: number, tag: number, keep: boolean, depth: number): number {
    const buf = this.buf
    let code = 0
    let length: number
    let start: number
    if (this.explicit) {
      code = (buf[pos + 4] << 8) | buf[pos + 5]
      const kind = VR_KIND[code]
      if (kind === SHORT) {
        length = this.u16(pos + 6)
        start = pos + 8
      } else if (kind === LONG) {
        this.ensure(pos + 12)
        length = this.u32(pos + 8)
        start = pos + 12
      } else {
        throw corrupt(`element ${formatTag(tag)} at byte ${this.base + pos} has no valid VR`)
      }
    } else {
      length = this.u32(pos + 4)
      start = pos + 8
    }
    if (length === UNDEFINED_LENGTH) {
      // An undefined length is a sequence (SQ, or UN/implicit holding one) or encapsulated data.
      const un = code === UN_CODE
      const contentsExplicit = un ? false : this.explicit
      let end: number
      try {
        end = this.skipSequence(start, contentsExplicit, depth + 1, tag)
      } catch (e) {
        // Unwanted, at the top level, and longer than the window: walked by the driver instead.
        if (e instanceof Truncated && depth === 0 && !keep && !this.eof) {
          this.sequence = { tag, contents: this.base + start, explicit: contentsExplicit }
        }
        throw e
      }
      if (keep) this.keep(tag, un ? 'SQ' : this.vrOf(code, tag), start, end, contentsExplicit)
      return end
    }
    const end = start + length
    this.valueLength = length
    if (end > buf.length && (keep || this.eof)) {
      if (!this.eof) this.ensure(end)
      const size = this.base + buf.length
      if (length > size) throw corrupt(claimsTooMuch(tag, length, size))
      truncatedIn(tag, size)
    }
    if (keep) {
      const vr = this.vrOf(code, tag)
      this.keep(tag, vr, start, end, vr === 'SQ' ? this.explicit : undefined)
    }
    return end
  }

  private keep(tag: number, vr: string, start: number, end: number, explicit?: boolean): void {
    const element: DataElement = { tag, vr, value: this.buf.subarray(start, end) }
    if (explicit !== undefined) element.explicit = explicit
    this.out.set(tag, element)
  }

  /** The VR of a kept element: its two bytes when explicit, the dictionary's when implicit. */
  private vrOf(code: number, tag: number): string {
    return this.explicit ? VR_NAME[code] : implicitVR(tag, this.pixelRepresentation)
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
    return new Scanner(this.buf, this.base, this.eof, this.little, explicit, this.plan, this.out)
  }
}

/**
 * The items of a sequence element that a scan kept, each as a map of all its elements (nested
 * sequences kept whole, for another call). Throws EtlError E_CORRUPT when the items are broken.
 */
export function readItems(sequence: DataElement, littleEndian: boolean): Map<number, DataElement>[] {
  const v = sequence.value
  const buf = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  const explicit = sequence.explicit ?? true
  const items: Map<number, DataElement>[] = []
  const reader = new Scanner(buf, 0, true, littleEndian, explicit, ALL, new Map())
  let pos = 0
  while (pos + 8 <= buf.length) {
    const tag = reader.tagAt(pos)
    const length = reader.u32(pos + 4)
    pos += 8
    if (tag === Tags.SequenceDelimitation) break
    if (tag !== Tags.Item) throw corrupt(`${formatTag(sequence.tag)}: expected an item, found ${formatTag(tag)}`)
    const item = new Map<number, DataElement>()
    const scanner = new Scanner(buf, 0, true, littleEndian, explicit, ALL, item)
    pos = length === UNDEFINED_LENGTH ? scanner.readItem(pos, Infinity) : scanner.readItem(pos, pos + length)
    items.push(item)
  }
  return items
}

/** The bytes of a value as latin1 text (ASCII VRs: UI, CS, DA...). */
export function latin1(value: Uint8Array): string {
  if (Buffer.isBuffer(value)) return value.toString('latin1')
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')
}

function isZeroPadding(buf: Buffer, pos: number): boolean {
  for (let i = pos; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}

/**
 * VR of an element in an implicit VR data set: from the dictionary, with its ambiguous entries
 * resolved as PS3.5 annex A and pydicom do: "US or SS" by Pixel Representation (1: signed),
 * "OB or OW" as OW, "US or OW" as OW, and `up` (an offset) as UL; group lengths are UL; else UN.
 */
function implicitVR(tag: number, pixelRepresentation: number): string {
  if ((tag & 0xffff) === 0) return 'UL'
  const vr = lookupTag(tag)?.vr
  if (!vr) return 'UN'
  switch (vr) {
    case 'xs':
      return pixelRepresentation === 1 ? 'SS' : 'US'
    case 'ox':
    case 'lt':
      return 'OW'
    case 'up':
      return 'UL'
  }
  return vr.length === 2 && vr === vr.toUpperCase() ? vr : 'UN'
}

const PIXEL_REPRESENTATION = 0x00280103

/** Options of {@link readHeader} and {@link readHeaderSync}. */
export interface ReadHeaderOptions {
  /** Bytes of the first read, and of each later window at least. Default 8192: the whole header of a typical CT image. */
  chunkSize?: number
  /**
   * Most bytes read from one file (inflated bytes, for a deflated data set), windows together;
   * unwanted values skipped over are not read. Default 256 MiB.
   */
  maxBytes?: number
  /** Also fstat the file (for size and mtime). */
  stat?: boolean
  /**
   * A buffer of at least `chunkSize` bytes for the first read, reused from file to file by a
   * caller that is done with each header (its values are views into it) before the next read.
   * Later windows are always new buffers.
   */
  buffer?: Buffer
  /** What the reads in flight of this thread may hold together. Default: the thread's one. */
  budget?: ReadBudget
}

/**
 * The bytes that the reads in flight of one thread hold (windows, inflated data): each read may
 * allocate `small` bytes freely; past that it must hold the budget's one large-read slot, which
 * it keeps until it ends, and it stops at `maxBytes` (E_UNSUPPORTED). So a thread's reads in
 * flight hold at most maxBytes + (reads - 1) x small, whatever their number: one large read at
 * a time, the others waiting for the slot while holding no more than `small` each (no deadlock:
 * the holder never waits). Synchronous reads, one at a time, never wait.
 */
export class ReadBudget {
  /** Bytes a read may allocate without the large-read slot. */
  readonly small: number
  /** Bytes held by reads in flight now, and the most ever (for tests and the bench). */
  held = 0
  maxHeld = 0
  /** Reads that held the large-read slot at once, at most (1 unless a bug). */
  maxLarge = 0
  private large = 0
  private readonly waiting: (() => void)[] = []

  constructor(small = 1024 * 1024) {
    this.small = small
  }

  /** Takes the large-read slot: at once when free, else when the reads before have released it. */
  acquire(): Promise<void> | undefined {
    if (this.large === 0) {
      this.large = 1
      this.maxLarge = Math.max(this.maxLarge, 1)
      return undefined
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  /** Gives the slot to the next waiting read, if any. */
  release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.large = 0
  }

  hold(bytes: number): void {
    this.held += bytes
    if (this.held > this.maxHeld) this.maxHeld = this.held
  }
}

/** The budget of this thread's reads (a module instance per worker thread). */
const threadBudget = new ReadBudget()

/** What one read holds of its thread's budget. */
interface Holding {
  budget: ReadBudget
  bytes: number
  /** Whether it holds the large-read slot. */
  large: boolean
}

/** A header plus the file's size and mtime when asked for. */
export interface FileHeader extends Header {
  size?: number
  mtime?: Date
  /** The file's inode (with the stat): tells two files of one size and mtime apart. */
  ino?: number
}

/** An I/O request of {@link readSteps}: read into a buffer at a file position, fstat, or wait for the large-read slot. */
type Step =
  { op: 'read'; buf: Buffer; offset: number; length: number; position: number } | { op: 'stat' } | { op: 'large' }
type StepResult = number | Stats

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024

/** Bytes read so far from one file, against its limit. */
interface Budget {
  read: number
  max: number
}

/** Counts `bytes` about to be allocated against the thread's budget, first waiting for the large-read slot past `small`. */
function* reserve(holding: Holding | undefined, bytes: number): Generator<Step, void, StepResult> {
  if (!holding) return
  if (!holding.large && holding.bytes + bytes > holding.budget.small) {
    yield { op: 'large' }
    holding.large = true
  }
  holding.bytes += bytes
  holding.budget.hold(bytes)
}

function charge(budget: Budget, bytes: number, what: string): void {
  budget.read += bytes
  if (budget.read > budget.max)
    throw new EtlError('E_UNSUPPORTED', `${what} goes on past ${budget.max} bytes; not read`)
}

/**
 * The read logic, once, for both drivers: it yields the I/O it needs and is resumed with the
 * result (bytes read, or the stat). A first chunk, rescanned from byte 0 as a longer prefix
 * while the file meta goes on; then the data set in windows: each scan that stops (a value
 * longer than the window, or an unwanted value that ends past it) goes on in a window read from
 * where it stopped. Unwanted values are jumped over, never read.
 */
function* readSteps(
  plan: ReadPlan,
  options: ReadHeaderOptions,
  holding?: Holding,
): Generator<Step, FileHeader, StepResult> {
  const chunk = options.chunkSize ?? 8192
  const budget: Budget = { read: 0, max: options.maxBytes ?? DEFAULT_MAX_BYTES }
  let buf = options.buffer && options.buffer.length >= chunk ? options.buffer : Buffer.allocUnsafe(chunk)
  if (buf !== options.buffer) yield* reserve(holding, chunk)
  // The stat, when asked for, comes before the read: a file still being written (a PACS
  // export) is then recorded with the size and mtime of what was read, not of more, so the
  // state of an incremental run sees it change and reads it again.
  const before = options.stat ? ((yield { op: 'stat' }) as Stats) : undefined
  let n = (yield { op: 'read', buf, offset: 0, length: chunk, position: 0 }) as number
  let eof = n < chunk
  let size: number | undefined = eof ? n : undefined
  let mtime: Date | undefined
  let ino: number | undefined
  // A short first read may be a FIFO or a device (a folder entry swapped after it was listed):
  // only regular files are read. (Reads that fail are checked by the drivers.)
  if (before || eof) {
    const st = before ?? ((yield { op: 'stat' }) as Stats)
    if (!st.isFile()) throw notRegular(st)
    size = st.size
    mtime = options.stat ? st.mtime : undefined
    ino = options.stat ? st.ino : undefined
  }
  if (n === 0) throw new EtlError('E_NOT_DICOM', 'empty file')
  charge(budget, n, 'header')
  let result: ScanResult
  let state: ScanState | undefined
  // The file meta and the first element: a prefix from byte 0, grown while it is too short.
  for (;;) {
    result = scanHeader(buf.subarray(0, n), eof, plan)
    if (result.done) return fileHeader(result.header, budget.read, size, mtime, ino)
    state = result.state
    if (state) break
    if (size === undefined) size = ((yield { op: 'stat' }) as { size: number }).size
    const target = Math.min(result.need, size)
    if (target <= n) {
      eof = true
      continue
    }
    charge(budget, target - n, 'header')
    yield* reserve(holding, target)
    const grown = Buffer.allocUnsafe(target)
    buf.copy(grown, 0, 0, n)
    buf = grown
    while (n < target) {
      const got = (yield { op: 'read', buf, offset: n, length: target - n, position: n }) as number
      if (got === 0) break
      n += got
    }
    eof = n >= size || n < target
  }
  if (size === undefined) size = ((yield { op: 'stat' }) as { size: number }).size
  if (state.deflatedAt !== undefined) {
    const header = yield* scanDeflated(
      buf.subarray(state.deflatedAt, n),
      n >= size,
      size,
      state,
      plan,
      options,
      n,
      holding,
    )
    return fileHeader(header, budget.read + header.bytesRead, size, mtime, ino)
  }
  // The data set, window after window.
  let base = 0
  let window = buf.subarray(0, n)
  for (;;) {
    if (state.sequence) {
      // An unwanted sequence longer than the window: walked, its values jumped over, and the
      // scan goes on after it in a new window.
      const { tag, contents, explicit } = state.sequence
      state.sequence = undefined
      let walked: number | Damage
      try {
        walked = yield* walkSequence(tag, contents, explicit, state.littleEndian, size, chunk, budget)
      } catch (e) {
        // A broken sequence is damage there, as the scanner reads one that fits its window.
        if (!(e instanceof EtlError) || e.code !== 'E_CORRUPT') throw e
        walked = { tag, at: contents, reason: e.message }
      }
      if (typeof walked !== 'number') {
        const { elements, transferSyntaxUID, littleEndian, explicitVR } = state
        const header = { elements, transferSyntaxUID, littleEndian, explicitVR, damage: walked, bytesRead: 0 }
        return fileHeader(header, budget.read, size, mtime, ino)
      }
      state.at = walked
      state.previous = tag
      state.skipped = undefined
    }
    const windowEnd = base + window.length
    const from = state.at
    // At least a chunk; twice what is left of the last window when the scan goes on inside it
    // (a long sequence is walked again from its start: doubling keeps that linear).
    const end = Math.min(size, Math.max(result.need, from + chunk, from + 2 * (windowEnd - from)))
    if (end <= windowEnd && eof) throw new Error(`scan of a whole window asked for more bytes (${result.need})`)
    if (from >= size) {
      // A skipped value ends past the end of the file.
      base = size
      window = window.subarray(0, 0)
      eof = true
    } else if (end <= windowEnd) {
      // The file ends within the window: scan it again, to its end.
      eof = true
    } else {
      // A new window from `from`: the bytes of the last one from there on, then reads.
      charge(budget, end - Math.max(from, windowEnd), 'header')
      yield* reserve(holding, end - from)
      const next = Buffer.allocUnsafe(end - from)
      let have = 0
      if (from < windowEnd) have = window.copy(next, 0, from - base)
      while (have < next.length) {
        const got = (yield {
          op: 'read',
          buf: next,
          offset: have,
          length: next.length - have,
          position: from + have,
        }) as number
        if (got === 0) break
        have += got
      }
      base = from
      window = next.subarray(0, have)
      eof = from + have >= size || have < next.length
    }
    result = resumeScan(window, base, eof, plan, state)
    if (result.done) return fileHeader(result.header, budget.read, size, mtime, ino)
  }
}

/**
 * Walks the items of an undefined-length element from `contents` (PS3.5 section 7.5), reading
 * a window of `chunk` bytes where it needs one: an item or element of defined length is jumped
 * over, one of undefined length walked into (a UN's contents are implicit VR, PS3.5 6.2.2).
 * Returns the offset after its Sequence Delimitation Item, or the damage where a length is
 * more than the file holds (a file that ends inside is E_TRUNCATED). Memory: one window, whatever the
 * size of the sequence (a cine's encapsulated pixel data, a private sequence of 300 MB).
 */
function* walkSequence(
  owner: number,
  contents: number,
  explicit: boolean,
  little: boolean,
  size: number,
  chunk: number,
  budget: Budget,
): Generator<Step, number | Damage, StepResult> {
  const buf = Buffer.allocUnsafe(Math.max(chunk, 64))
  let bufAt = 0
  let bufLength = 0
  const u16 = (at: number) => (little ? buf.readUInt16LE(at - bufAt) : buf.readUInt16BE(at - bufAt))
  const u32 = (at: number) => (little ? buf.readUInt32LE(at - bufAt) : buf.readUInt32BE(at - bufAt))
  /** Makes the window hold `n` bytes from `at`, reading a new one there if it does not. */
  function* bytes(at: number, n: number): Generator<Step, void, StepResult> {
    if (at >= bufAt && at + n <= bufAt + bufLength) return
    if (at + n > size) truncatedIn(owner, size)
    bufAt = at
    bufLength = (yield { op: 'read', buf, offset: 0, length: Math.min(buf.length, size - at), position: at }) as number
    charge(budget, bufLength, 'header')
    if (bufLength < n) truncatedIn(owner, size)
  }
  /** Open sequences (expecting items) and items (expecting elements), innermost last. */
  const open: { explicit: boolean; item: boolean }[] = [{ explicit, item: false }]
  let pos = contents
  while (open.length > 0) {
    if (open.length > 2 * MAX_DEPTH) throw corrupt(`sequences nested deeper than ${MAX_DEPTH} in ${formatTag(owner)}`)
    yield* bytes(pos, 8)
    const top = open[open.length - 1]
    const tag = u16(pos) * 0x10000 + u16(pos + 2)
    if (!top.item) {
      const length = u32(pos + 4)
      pos += 8
      if (tag === Tags.SequenceDelimitation) open.pop()
      else if (tag !== Tags.Item) {
        throw corrupt(
          `${formatTag(owner)}: expected an item or sequence delimiter, found ${formatTag(tag)} at byte ${pos - 8}`,
        )
      } else if (length === UNDEFINED_LENGTH) open.push({ explicit: top.explicit, item: true })
      else if (length > size) return { tag: owner, at: pos - 8, reason: claimsTooMuch(owner, length, size) }
      else pos += length
      continue
    }
    if (tag === Tags.ItemDelimitation || tag === Tags.SequenceDelimitation) {
      // The end of the item (a sequence delimiter there ends its sequence too, as the scanner reads it).
      pos += 8
      open.pop()
      if (tag === Tags.SequenceDelimitation) open.pop()
      continue
    }
    let length: number
    let start: number
    let code = 0
    if (top.explicit) {
      yield* bytes(pos, 12)
      code = (buf[pos + 4 - bufAt] << 8) | buf[pos + 5 - bufAt]
      const kind = VR_KIND[code]
      if (kind === SHORT) {
        length = u16(pos + 6)
        start = pos + 8
      } else if (kind === LONG) {
        length = u32(pos + 8)
        start = pos + 12
      } else {
        throw corrupt(`element ${formatTag(tag)} at byte ${pos} has no valid VR`)
      }
    } else {
      length = u32(pos + 4)
      start = pos + 8
    }
    if (length === UNDEFINED_LENGTH) {
      open.push({ explicit: code === UN_CODE ? false : top.explicit, item: false })
      pos = start
    } else if (length > size) {
      // A length no file of this size can hold: damage there, as the scanner says of one.
      return { tag: owner, at: pos, reason: claimsTooMuch(tag, length, size) }
    } else {
      pos = start + length
    }
  }
  return pos
}

/**
 * The header of a scan, completed with what the driver knows of the file. The scan's object is
 * completed in place rather than spread into a new one: it is made per file, and is the
 * driver's to finish (the copy, and a fifth property added after a spread, cost 5% of a
 * header read).
 */
function fileHeader(header: Header, bytesRead: number, size?: number, mtime?: Date, ino?: number): FileHeader {
  const file = header as FileHeader
  file.bytesRead = bytesRead
  file.size = size
  file.mtime = mtime
  if (ino !== undefined) file.ino = ino
  return file
}

/** Compressed bytes read at a time from a deflated file. */
const DEFLATED_CHUNK = 65536
/** The inflater's working buffer (inflate.ts). */
const INFLATER_BYTES = 32768 + 65536 + 258

/**
 * The data set of a deflated file (PS3.5 section A.5), inflated only as far as the scan needs:
 * each scan gets a window of the inflated bytes from where it stopped; inflated bytes before
 * that (unwanted values) are dropped as they come. `first` holds the compressed bytes already
 * read (up to file offset `filePos`); more are read as the inflater asks. The header's
 * `bytesRead` counts the compressed bytes read here.
 */
function* scanDeflated(
  first: Buffer,
  final: boolean,
  size: number,
  state: ScanState,
  plan: ReadPlan,
  options: ReadHeaderOptions,
  filePos = size,
  holding?: Holding,
): Generator<Step, Header, StepResult> {
  const chunk = options.chunkSize ?? 8192
  const inflated: Budget = { read: 0, max: options.maxBytes ?? DEFAULT_MAX_BYTES }
  const compressed: Budget = { read: first.length, max: options.maxBytes ?? DEFAULT_MAX_BYTES }
  yield* reserve(holding, INFLATER_BYTES)
  const inflater = new Inflater()
  inflater.push(first, final)
  let compressedRead = 0
  let input: Buffer | undefined
  /** Inflated bytes from offset `heldAt` on, not yet given to a scan. */
  let held: Buffer[] = []
  let heldAt = 0
  let heldEnd = 0
  let need = 0
  for (;;) {
    const from = state.at
    const end = Math.max(need, from + chunk, from + 2 * (heldEnd - from))
    // Drop what lies before `from`; inflate until `end` or the end of the stream.
    while (heldEnd < end && !inflater.ended) {
      let piece: Buffer
      try {
        piece = inflater.next()
      } catch (e) {
        throw e instanceof EtlError ? e : corrupt(`deflated data set cannot be inflated: ${(e as Error).message}`)
      }
      if (piece.length === 0) {
        if (inflater.ended) break
        if (!input) {
          yield* reserve(holding, DEFLATED_CHUNK)
          input = Buffer.allocUnsafe(DEFLATED_CHUNK)
        }
        const got = (yield {
          op: 'read',
          buf: input,
          offset: 0,
          length: Math.min(DEFLATED_CHUNK, size - filePos),
          position: filePos,
        }) as number
        filePos += got
        compressedRead += got
        // Compressed bytes count too: a stream of many tiny blocks costs time, not output.
        charge(compressed, got, 'deflated data set')
        inflater.push(input.subarray(0, got), got === 0 || filePos >= size)
        continue
      }
      charge(inflated, piece.length, 'deflated data set')
      const pieceAt = heldEnd
      heldEnd += piece.length
      if (heldEnd <= from) {
        heldAt = heldEnd
        continue
      }
      held.push(Buffer.from(piece.subarray(Math.max(0, from - pieceAt))))
      if (held.length === 1) heldAt = Math.max(from, pieceAt)
    }
    // A new buffer: the scan keeps views into it.
    yield* reserve(holding, heldEnd - heldAt)
    let window = Buffer.concat(held)
    let base = heldAt
    if (from > base && from <= heldEnd) {
      window = window.subarray(from - base)
      base = from
    }
    const result = resumeScan(window, base, inflater.ended, plan, state)
    // Inflated data is not re-read: a long unwanted sequence there is held in a growing window.
    state.sequence = undefined
    // The scan ran to the end of what inflated, and the stream stopped short of its last block:
    // the file was cut inside its header (the end of a whole stream is a header's clean end).
    if (result.done && inflater.cut && state.at >= heldEnd) {
      throw new EtlError('E_TRUNCATED', `file ends inside the deflated header (after ${heldEnd} inflated bytes)`)
    }
    if (result.done) return { ...result.header, bytesRead: compressedRead }
    need = result.need
    // What the window holds from where the scan goes on is given again with the next one.
    held = state.at < heldEnd && state.at >= base ? [window.subarray(state.at - base)] : []
    heldAt = held.length ? state.at : heldEnd
  }
}

/** Maps what is not an EtlError (a system error of open, read or fstat) to E_READ. */
function readError(e: unknown, what: string): EtlError {
  return e instanceof EtlError ? e : new EtlError('E_READ', `cannot ${what}: ${describeSystemError(e)}`)
}

/** E_READ for what is not a regular file, saying what it is. */
function notRegular(st: Stats): EtlError {
  const what = st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a FIFO'
      : st.isSocket()
        ? 'a socket'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : 'not a file'
  return new EtlError('E_READ', `not a regular file (${what})`)
}

/**
 * Flags of open: read only, and never wait. A FIFO swapped in for a listed file would block a
 * plain open until some writer came (deaf to signals in a thread); nonblocking, it opens at
 * once, and its read fails (no positional reads on a FIFO). On regular files the flag does nothing.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

/** A read that failed: E_READ "not a regular file" when that is why (fstat says), else the error. */
function failedRead(e: unknown, st: () => Stats): EtlError {
  if (e instanceof EtlError) return e
  try {
    const stats = st()
    if (!stats.isFile()) return notRegular(stats)
  } catch {
    // The fstat failed too: report the read's error.
  }
  return readError(e, 'read')
}

/**
 * Reads the planned elements of one file with synchronous I/O: the fastest way on local or
 * cached storage, where a read costs microseconds (used by the reader's worker threads).
 * Throws EtlError: E_READ for I/O errors, and the scan errors.
 */
export function readHeaderSync(path: string, plan: ReadPlan, options: ReadHeaderOptions = {}): FileHeader {
  let fd: number
  try {
    fd = openSync(toFsPath(path), OPEN_FLAGS)
  } catch (e) {
    throw readError(e, 'open')
  }
  // One read at a time: the large-read slot is never waited for, only counted.
  const holding: Holding = { budget: options.budget ?? threadBudget, bytes: 0, large: false }
  try {
    const steps = readSteps(plan, options, holding)
    let next = steps.next()
    while (!next.done) {
      const step = next.value
      if (step.op === 'read') next = steps.next(readSync(fd, step.buf, step.offset, step.length, step.position))
      else if (step.op === 'stat') next = steps.next(fstatSync(fd))
      else next = steps.next(0)
    }
    return next.value
  } catch (e) {
    throw failedRead(e, () => fstatSync(fd))
  } finally {
    holding.budget.hold(-holding.bytes)
    closeSync(fd)
  }
}

/**
 * Reads the planned elements of one file with asynchronous I/O, so that many reads can be in
 * flight at once: the way to hide the latency of network or cold storage.
 */
export async function readHeader(path: string, plan: ReadPlan, options: ReadHeaderOptions = {}): Promise<FileHeader> {
  const fd = await openForRead(path)
  openReads++
  const holding: Holding = { budget: options.budget ?? threadBudget, bytes: 0, large: false }
  try {
    const steps = readSteps(plan, options, holding)
    let next = steps.next()
    while (!next.done) {
      const step = next.value
      if (step.op === 'large') {
        await holding.budget.acquire()
        next = steps.next(0)
        continue
      }
      const result = await new Promise<StepResult>((resolve, reject) =>
        step.op === 'read'
          ? read(fd, step.buf, step.offset, step.length, step.position, (e, n) => (e ? reject(e) : resolve(n)))
          : fstat(fd, (e, st) => (e ? reject(e) : resolve(st))),
      )
      next = steps.next(result)
    }
    return next.value
  } catch (e) {
    // A synchronous fstat here: the read has failed, this is no hot path.
    throw failedRead(e, () => fstatSync(fd))
  } finally {
    holding.budget.hold(-holding.bytes)
    if (holding.large) holding.budget.release()
    await new Promise<void>((resolve) => close(fd, () => resolve()))
    openReads--
    descriptorWaiters.shift()?.()
  }
}

/** Asynchronous reads of this thread holding a file descriptor now. */
let openReads = 0
/** Opens waiting for a descriptor: each read that ends wakes one. */
const descriptorWaiters: (() => void)[] = []
/** Backoffs, in ms, of an open that finds no descriptor while no read of this thread holds one. */
const IDLE_BACKOFF_MS = [5, 10, 20, 50, 100, 200, 400, 800]

/**
 * Opens a file for {@link readHeader}. Out of file descriptors (EMFILE, ENFILE) is a limit of
 * the process, not a property of the file: the open waits until another read of this thread
 * ends (or 50 ms, for descriptors freed elsewhere) and tries again, so that every file is read
 * whatever the concurrency. Only when no read of this thread holds a descriptor and the open
 * still fails after backing off (about 1.6 s) is it fatal: EtlError E_FILE_LIMIT, exit 74, not
 * the file's failure.
 */
async function openForRead(path: string): Promise<number> {
  for (let idle = 0; ;) {
    try {
      return await new Promise<number>((resolve, reject) =>
        open(toFsPath(path), OPEN_FLAGS, (e, fd) => (e ? reject(e) : resolve(fd))),
      )
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code !== 'EMFILE' && code !== 'ENFILE') throw readError(e, 'open')
      if (openReads > 0) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer)
            const i = descriptorWaiters.indexOf(wake)
            if (i >= 0) descriptorWaiters.splice(i, 1)
            resolve()
          }
          const timer = setTimeout(wake, 50)
          descriptorWaiters.push(wake)
        })
      } else if (idle < IDLE_BACKOFF_MS.length) {
        await new Promise((resolve) => setTimeout(resolve, IDLE_BACKOFF_MS[idle++]))
      } else {
        throw new EtlError(
          'E_FILE_LIMIT',
          `cannot open ${displayPath(path)}: ${describeSystemError(e)}, with no other read open: ` +
            'raise the limit (ulimit -n) or lower -j',
          ExitCode.IO_ERR,
        )
      }
    }
  }
}
