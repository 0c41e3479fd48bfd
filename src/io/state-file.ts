/**
 * The state file of incremental runs (its stages are `transforms/state.ts`): a state file remembers, for every file read, its size, mtime,
 * SOPInstanceUID and the row it gave. A run with a state reads only files that are new or
 * changed (by size or mtime); the rows of the others come from the state, each in its file's
 * place, so the output is the one a full run would write, byte for byte. Files no longer listed
 * drop out. The new state is written as rows go by, into a temporary file committed with the
 * run's other outputs only when the run succeeds.
 *
 * Format: JSON lines. The first line names the columns and cell format the rows were made with
 * (a state made for other columns, or by an earlier version, is not used, with a warning); each
 * next line is `[path, size, mtimeMs, sopInstanceUID, rows, inode]`, the path absolute, the rows'
 * values typed (names, dates, bytes and long decimals as `{"$pn": ...}`-style objects). A file is
 * unchanged when its size, mtime and inode are the record's; its `path` cells are made anew.
 *
 * Memory does not grow with the rows: the previous state stays on disk. Opening it reads the
 * file once and keeps, per record, a hash of its path and where its line starts (16 bytes a
 * file: 80 MB for 5 million files); a lookup reads the one line it needs back (the page cache
 * makes it a copy) and checks it. A record that is not the right shape is not used: its file is
 * read again, and the run says how many were.
 */
import { createHash } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { resolve } from 'node:path'
import { EtlError, ExitCode } from '../errors.js'
import type { ColumnSpec, RowsPer } from '../pipeline/spec.js'
import type { FormatOptions } from '../dicom/format-value.js'
import type { Row, SourceRecord } from '../records.js'
import { parseJson } from '../values.js'

/** What the state knows of one file: the facts that identify it as read, and its rows. */
export type StateEntry = Omit<SourceRecord, 'path'>

/**
 * The signature of the rows a state holds: a state for other columns, formats, rows (per file,
 * per frame) or filter (`where`, as written; kept as its hash) is ignored.
 */
export function stateSignature(
  columns: readonly ColumnSpec[],
  format: FormatOptions | undefined,
  rows: RowsPer = 'per_file',
  perItem?: string,
  where?: string,
  privacy?: string,
): string {
  // Rows are kept as typed values: how a sink writes them (separator, dates, names, binary,
  // spreadsheet) does not change them; the fallback character set of decoding does.
  const cells = format?.charset === undefined ? {} : { charset: format.charset }
  // Per file, as before rows existed, so that those states stay valid.
  const per = perItem !== undefined ? { rows: `per_item ${perItem}` } : rows === 'per_frame' ? { rows } : {}
  // Without a filter, as before filters existed; with one, its hash: a filter may name a patient
  // (`PatientID = ...`), which the state file must not hold in the clear.
  const filter = where === undefined ? {} : { where: createHash('sha256').update(where).digest('hex') }
  // Without privacy, as before it existed; with it, its actions and the key's fingerprint, so that
  // a state of originals (or of another key) is never mixed with pseudonyms.
  const keyed = privacy === undefined ? {} : { privacy }
  return JSON.stringify({ columns: columns.map((c) => [c.name, c.source]), format: cells, ...per, ...filter, ...keyed })
}

/**
 * The key of a record: a file's absolute path, or a URL as it is (a DICOMweb series, whose
 * record holds the rows of its instances, their count as its size and, in place of a file's
 * SOPInstanceUID, `sop:rows` of each instance: see `sources/dicomweb.ts`).
 */
export function stateKey(path: string): string {
  return /^https?:\/\//i.test(path) ? path : resolve(path)
}

/** The state of a run: the previous one (on disk) and the counts for the summary. */
export interface RunState {
  previous: PreviousState | undefined
  /** Files met unchanged: their rows came from the state. */
  unchanged: number
  /** The rows of those files (more than one each per frame). */
  unchangedRows: number
  /** Records of the previous state that could not be used (their files were read again). */
  unusable: number
  /** Why the previous state was not used at all, when it was not (and it existed). */
  ignored?: string
  /** The width of a row: a record with another is unusable. */
  width: number
  /** The records that came from the state, with their lines there (written again as they were). */
  known: WeakMap<SourceRecord, Buffer>
  /**
   * In a pseudonymised run: records are kept under a keyed form of their path, and the `path`
   * cells of unchanged files are made keyed, so that the state holds no path as it is.
   */
  privacy?: { key: (path: string) => string; path: (shown: string) => string }
}

/** The key a record of `path` has in the state: {@link stateKey}, keyed in a pseudonymised run. */
export function recordKey(state: RunState, path: string): string {
  const key = stateKey(path)
  return state.privacy ? state.privacy.key(key) : key
}

/** The version of the records' format: 2 added the inode. */
export const STATE_VERSION = 3

/** The start of the reason given for a file that is not a state file at all. */
const NOT_STATE = 'is not a state file of etl'

/** Bytes read at a time while indexing, and for a record's line. */
const CHUNK = 1 << 20
const LINE = 4096
/** The start of a record line that holds its path (a path is at most 4096 bytes, escaped up to 6 times that). */
const PATH_PREFIX = 32 * 1024
/** The longest line used: a longer record is not (its file is read again); a longer header is no state. */
const MAX_LINE = 64 * 1024 * 1024

/**
 * The previous state, indexed: `keys` holds, sorted, `hash(path) * 2^indexBits + record`, so
 * the records of a hash are one binary search away, and `starts` where each record's line starts.
 */
export class PreviousState {
  private readonly fd: number
  private readonly keys: Float64Array
  private readonly starts: Float64Array
  private readonly indexBits: number
  private readonly hashBits: number
  private buffer = Buffer.allocUnsafe(LINE)
  readonly records: number

  private constructor(fd: number, hashes: Uint32Array, starts: Float64Array, count: number) {
    this.fd = fd
    this.records = count
    this.indexBits = Math.max(1, Math.ceil(Math.log2(count + 1)))
    this.hashBits = Math.min(32, 53 - this.indexBits)
    const scale = 2 ** this.indexBits
    const shift = 32 - this.hashBits
    this.keys = new Float64Array(count)
    for (let i = 0; i < count; i++) this.keys[i] = (hashes[i] >>> shift) * scale + i
    this.keys.sort()
    this.starts = starts.subarray(0, count)
  }

  /**
   * Opens and indexes a state file. Returns undefined when there is none; throws a message
   * (a string) saying why a state that exists cannot be used.
   */
  static open(path: string, signature: string | undefined): PreviousState | undefined {
    let fd: number
    try {
      fd = openSync(path, 'r')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw `cannot be read: ${(e as Error).message}`
    }
    try {
      if (!fstatSync(fd).isFile()) throw 'is not a regular file'
      return PreviousState.index(fd, signature)
    } catch (e) {
      closeSync(fd)
      throw e
    }
  }

  private static index(fd: number, signature: string | undefined): PreviousState {
    const chunk = Buffer.allocUnsafe(CHUNK)
    let hashes = new Uint32Array(1024)
    let starts = new Float64Array(1024)
    let count = 0
    let position = 0
    let header: string | undefined
    // A line longer than a chunk goes on in the next: of a record, only its start is kept (the
    // path, which is all the index needs); of the header, all of it, up to MAX_LINE.
    let carry: Buffer[] = []
    let carried = 0
    let carryStart = 0
    const lineOf = (tail: Buffer): Buffer => (carried === 0 ? tail : Buffer.concat([...carry, tail]))
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK, position)
      if (n === 0) break
      let from = 0
      for (;;) {
        const end = chunk.indexOf(10, from)
        if (end < 0 || end >= n) break
        const lineStart = carried > 0 ? carryStart : position + from
        if (header === undefined) {
          header = lineOf(chunk.subarray(from, end)).toString()
        } else {
          const line = lineOf(chunk.subarray(from, Math.min(end, from + PATH_PREFIX)))
          if (count === hashes.length) {
            hashes = grow(hashes)
            starts = grow(starts)
          }
          hashes[count] = hashPathOfLine(line)
          starts[count++] = lineStart
        }
        carry = []
        carried = 0
        from = end + 1
      }
      if (from < n) {
        if (carried === 0) carryStart = position + from
        const keep = header === undefined ? MAX_LINE : PATH_PREFIX
        if (carried < keep) carry.push(Buffer.from(chunk.subarray(from, Math.min(n, from + keep - carried))))
        carried += n - from
        if (header === undefined && carried > MAX_LINE) throw `${NOT_STATE} (no header line)`
      }
      position += n
      // --full: only the header is checked (that the file is a state), the records are not needed.
      if (header !== undefined && signature === undefined) break
    }
    if (header === undefined && position === 0) return new PreviousState(fd, hashes, starts, 0)
    let parsed: { etl_state?: number; signature?: string } | undefined
    try {
      parsed = JSON.parse(header ?? '') as typeof parsed
    } catch {
      // Not JSON: said below.
    }
    if (typeof parsed !== 'object' || parsed === null || parsed.etl_state === undefined) {
      throw `${NOT_STATE} (its first line is not the header of one)`
    }
    if (parsed.etl_state !== STATE_VERSION) throw 'was made by an earlier version of etl'
    if (signature !== undefined && parsed.signature !== signature)
      throw 'was made for other columns, cell formats or rows'
    return new PreviousState(fd, hashes, starts, count)
  }

  /** The record of `path` and its line as stored, or undefined (none, or not usable: `bad` is told). */
  lookup(path: string, width: number, bad: () => void): { entry: StateEntry; line: Buffer } | undefined {
    const key = Buffer.from(JSON.stringify(path))
    const hash = hashBytes(key, 0, key.length) >>> (32 - this.hashBits)
    const scale = 2 ** this.indexBits
    const low = hash * scale
    const keys = this.keys
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (keys[mid] < low) lo = mid + 1
      else hi = mid
    }
    for (let k = lo; k < keys.length && keys[k] < low + scale; k++) {
      const line = this.lineAt(this.starts[keys[k] - low])
      if (line === undefined) {
        // Too long to be a record of ours (its path cannot be told): not used.
        bad()
        continue
      }
      if (line.length <= key.length + 1 || line.compare(key, 0, key.length, 1, key.length + 1) !== 0) continue
      const entry = parseRecord(line, path, width)
      if (!entry) {
        bad()
        return undefined
      }
      return { entry, line }
    }
    return undefined
  }

  /** The line (without its newline) that starts at `start`. */
  private lineAt(start: number): Buffer | undefined {
    let length = 0
    for (;;) {
      if (this.buffer.length - length < LINE) {
        const grown = Buffer.allocUnsafe(Math.min(this.buffer.length * 2, MAX_LINE + LINE))
        this.buffer.copy(grown, 0, 0, length)
        this.buffer = grown
      }
      const want = Math.min(this.buffer.length - length, MAX_LINE + 1 - length)
      const n = readSync(this.fd, this.buffer, length, want, start + length)
      const end = this.buffer.indexOf(10, length)
      const found = end >= 0 && end < length + n
      length = found ? end : length + n
      // Too long to be a record of ours: not used (its file is read again).
      if (length > MAX_LINE) {
        this.keepSmall(0)
        return undefined
      }
      if (found || n === 0) return this.keepSmall(length)
    }
  }

  /** The first `length` bytes of the line buffer, copied; the buffer goes back to its usual size. */
  private keepSmall(length: number): Buffer {
    const line = Buffer.from(this.buffer.subarray(0, length))
    if (this.buffer.length > 16 * LINE) this.buffer = Buffer.allocUnsafe(LINE)
    return line
  }

  close(): void {
    closeSync(this.fd)
  }
}

function grow<T extends Uint32Array | Float64Array>(array: T): T {
  const grown = new (array.constructor as new (n: number) => T)(array.length * 2)
  grown.set(array)
  return grown
}

/** FNV-1a over bytes. */
function hashBytes(bytes: Buffer, from: number, to: number): number {
  let h = 0x811c9dc5
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193)
  return h >>> 0
}

/** The hash of a record line's path: the bytes of its JSON string, the first item of the array. */
function hashPathOfLine(line: Buffer): number {
  if (line[0] !== 0x5b || line[1] !== 0x22) return 0
  let i = 2
  while (i < line.length && line[i] !== 0x22) i += line[i] === 0x5c ? 2 : 1
  return hashBytes(line, 1, Math.min(i + 1, line.length))
}

/** A record line checked for its shape: `[path, size, mtimeMs, sop, rows, ino]`, rows of `width` values. */
function parseRecord(line: Buffer, path: string, width: number): StateEntry | undefined {
  let record: unknown
  try {
    record = parseJson(line.toString())
  } catch {
    return undefined
  }
  if (!Array.isArray(record) || record.length !== 6) return undefined
  const [file, size, mtimeMs, sop, rows, ino] = record as unknown[]
  if (file !== path || typeof size !== 'number' || typeof mtimeMs !== 'number' || typeof sop !== 'string') {
    return undefined
  }
  if (typeof ino !== 'number') return undefined
  if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row) && row.length === width)) return undefined
  return { size, mtimeMs, sop, rows: rows as Row[], ino }
}

/** Opens the previous state for a run; a state that cannot be used is said in `ignored`. */
export function loadState(path: string, signature: string, width: number, full: boolean): RunState {
  const state: RunState = {
    previous: undefined,
    unchanged: 0,
    unchangedRows: 0,
    unusable: 0,
    width,
    known: new WeakMap(),
  }
  try {
    state.previous = PreviousState.open(path, full ? undefined : signature)
  } catch (reason) {
    if (typeof reason !== 'string') throw reason
    if (reason.startsWith(NOT_STATE)) {
      // A CSV given as --state by mistake, say: never replaced by a state.
      throw new EtlError('E_USAGE', `state file ${path} ${reason}: refusing to replace it`, ExitCode.USAGE)
    }
    state.ignored = reason
  }
  if (full) {
    state.previous?.close()
    state.previous = undefined
  }
  return state
}
