/**
 * Header scanner: finds the requested data elements of one DICOM file in the bytes read so far,
 * without reading the pixel data and without decoding anything that was not asked for.
 *
 * The scanner walks the bytes element by element (PS3.5 section 7) and either finishes, asks
 * for more ("need N bytes"), or fails. Up to the first data set element it works on a prefix,
 * scanned again from byte 0 when it grows; the first chunk (8 KiB by default) holds a typical CT
 * header, so that is the whole work for most files. Past it, a scan that stops leaves a
 * {@link ScanState} (offset, cursor into the plan, elements kept so far) and goes on in a window
 * read from where it stopped: an unwanted value longer than the window is jumped over, not read,
 * and a wanted one gets a window of its size. The drivers that read the windows are in
 * read-header.ts.
 *
 * Understood: Part-10 files (preamble, "DICM", file meta group 0002, PS3.10 section 7.1), raw
 * data sets without preamble or meta (sniffed, detect-encoding.ts), implicit VR little endian,
 * explicit VR little and big endian, deflated explicit VR little endian (inflated as far as the
 * scan goes, in pieces), and the encapsulated transfer syntaxes (the header before Pixel Data is
 * explicit VR little endian). Sequences and items of undefined length are skipped by walking
 * their delimiters (PS3.5 section 7.5); UN of undefined length holds implicit VR little endian
 * (PS3.5 section 6.2.2). A data set whose encoding contradicts its transfer syntax (explicit
 * bytes under an implicit syntax, and the reverse) is read as the bytes say, as DCMTK and pydicom do.
 */
import { EtlError } from '../errors.js'
import { latin1, type DataElement } from './data-element.js'
import { detectEncoding, startsWithMetaElement } from './detect-encoding.js'
import { Inflater } from './inflate.js'
import { formatTag, Tags } from './keywords.js'
import {
  DEFAULT_MAX_BYTES,
  charge,
  reserve,
  type Budget,
  type Holding,
  type Step,
  type StepResult,
} from './read-budget.js'
import type { ReadPlan } from './read-plan.js'
import { LONG, SHORT, UNDEFINED_LENGTH, UN_CODE, VR_KIND, VR_NAME, implicitVR } from './vr.js'

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
   * Text values are UTF-8 whatever Specific Character Set says: a data set made from DICOM JSON
   * (PS3.18 F.2), whose server decoded the original character set.
   */
  textUtf8?: boolean
  /**
   * Where the data set became unreadable (a length past the end of the file, an element
   * without VR, a broken sequence): elements before it were read, none from it on.
   */
  damage?: Damage
}

const DEFLATED_LE = '1.2.840.10008.1.2.1.99'
/** Sequences nested deeper than this are taken as corrupt (no real object comes close). */
export const MAX_DEPTH = 64

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
export class Truncated {}

/** EtlError E_CORRUPT with `message`. */
export function corrupt(message: string): EtlError {
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

/** The reason of the damage at an element whose length is more than the file holds. */
export function claimsTooMuch(tag: number, length: number, size: number): string {
  return `element ${formatTag(tag)} claims ${length} bytes, more than the file holds (${size})`
}

/** Throws EtlError E_TRUNCATED: the file ends inside the value of element `tag`. */
export function truncatedIn(tag: number, size: number): never {
  throw new EtlError('E_TRUNCATED', `file ends inside element ${formatTag(tag)} (${size} bytes)`)
}

function truncated(size: number, tag?: number): never {
  const where = tag === undefined ? '' : ` in or after ${formatTag(tag)}`
  throw new EtlError('E_TRUNCATED', `file ends inside the header${where} (${size} bytes)`)
}

/**
 * Walks elements of one encoding over one buffer, collecting the planned ones. The hot loop of
 * the program: it reads tags and lengths with byte arithmetic, looks VRs up in a table by their
 * two bytes, and creates objects only for the elements it keeps.
 */
export class Scanner {
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

function isZeroPadding(buf: Buffer, pos: number): boolean {
  for (let i = pos; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}

const PIXEL_REPRESENTATION = 0x00280103

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
export function* scanDeflated(
  first: Buffer,
  final: boolean,
  size: number,
  state: ScanState,
  plan: ReadPlan,
  options: { chunkSize?: number; maxBytes?: number },
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
