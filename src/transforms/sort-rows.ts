/**
 * Sorter: the only stage that holds rows. It sorts by one or more columns: numbers numerically,
 * other text in natural order ("IM2" before "IM10"), empty cells last whatever the direction,
 * ties in arrival order (stable).
 *
 * State, in bounded memory:
 * - Rows are held as lines of JSON in 1 MiB chunks of memory outside the JS heap, reused from
 *   run to run, with only the cells of the sort keys kept aside (as text and as numbers) to
 *   compare. Held rows are thus never garbage for V8 to collect late, and the process's peak
 *   RSS follows the budget (`memoryBytes`) rather than a multiple of it.
 * - When the held rows reach the budget they are sorted and written, in order, to a temporary
 *   file: a sorted run. Collecting starts again in the same chunks.
 * - When the input ends, rows that never had to leave memory are emitted from there. Otherwise
 *   the last rows become a run too and the runs are merged k ways, each read a block at a
 *   time, at most `fanIn(budget)` runs at once (more are first merged into longer runs, in
 *   order). A tie between runs goes to the earlier run, which holds the earlier rows, so the
 *   external sort is as stable as the in-memory one.
 *
 * The runs live in a folder of their own under the temporary folder (`TMPDIR`), removed when
 * the output ends, when the stream is destroyed (a failure anywhere in the pipeline, or a
 * SIGINT, SIGTERM or SIGHUP handler aborting it, as `etl` does), and at process exit. The sorter does
 * not listen for signals itself: a library cannot know whether the program means to handle
 * them, and two listeners that each leave the signal to the other (as signal-exit does) would
 * keep the process alive. A program gets clean runs on Ctrl-C by aborting its pipeline.
 */
import { closeSync, lstatSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs'
import { open, rm, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isRunning, thisProcess } from '../io/process.js'
import { join } from 'node:path'
import { Duplex } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import {
  compareValues,
  naturalOrder,
  orderNumber,
  orderText,
  parseRow,
  stringifyRow,
  type Row,
  type TextOptions,
} from '../values.js'

/** One sort key: a column index and its direction. */
export interface SortColumn {
  index: number
  descending: boolean
}

/** Options of {@link sortRows}. */
export interface SortOptions {
  /**
   * The memory the sorter may use, in bytes: the rows it holds (their JSON text, plus 64 bytes
   * per row, 16 per sort-key cell, and 24 plus its length for a cell that is text) and, while
   * merging, a 64 KiB block and its rows per run. Default 64 MiB.
   */
  memoryBytes?: number
  /** Where the folder of sorted runs is made. Default `os.tmpdir()` (`TMPDIR`). */
  tempDir?: string
  /** Counts, updated as the stream goes. */
  info?: SortInfo
  /** How values are ordered where their text counts: names and binary values as the cells show them. */
  format?: TextOptions
}

/** What the sorter has done. */
export interface SortInfo {
  /** Sorted runs written to disk (0 when every row fitted in memory). */
  runs: number
  /** Merges of runs into longer runs, before the final merge. */
  intermediateMerges: number
}

/** The default of {@link SortOptions.memoryBytes}: 64 MiB. */
export const DEFAULT_SORT_MEMORY_BYTES = 64 * 1024 * 1024

/** A row comparator for the keys; empty cells stay last in descending order too. */
export function compareRows(keys: readonly SortColumn[], format: TextOptions = {}): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const { index, descending } of keys) {
      const x = a[index] ?? null
      const y = b[index] ?? null
      if (x === y) continue
      if (x === null || y === null || x === '' || y === '') {
        const emptyX = x === null || x === ''
        const emptyY = y === null || y === ''
        if (emptyX && emptyY) continue
        return emptyX ? 1 : -1
      }
      const c = compareValues(x, y, format)
      if (c !== 0) return descending ? -c : c
    }
    return 0
  }
}

/** Sorts rows in place (Array.prototype.sort is stable). */
export function sortRowsInMemory(rows: Row[], keys: readonly SortColumn[]): Row[] {
  return rows.sort(compareRows(keys))
}

/** Bytes read from a run at a time while merging. */
const BLOCK_BYTES = 64 * 1024

/**
 * How many runs are merged at once: each open run costs its read block and the rows parsed
 * from it (about 4 blocks in all), and all of them together stay within the budget. At least
 * 2, at most 64 (open files).
 */
export function fanIn(memoryBytes: number): number {
  return Math.max(2, Math.min(64, Math.floor(memoryBytes / (4 * BLOCK_BYTES))))
}

/**
 * The sorter as a stream (object mode: Rows in, equal Rows out in order), in bounded memory;
 * see the top of this file.
 */
export function sortRows(keys: readonly SortColumn[], options: SortOptions = {}): Duplex {
  return new RowSorter(keys, options)
}

/** Rows emitted per step of the output (the readable side takes them with backpressure). */
const BATCH = 256
/** Bytes gathered before a write to a run. */
const WRITE_BYTES = 256 * 1024

class RowSorter extends Duplex {
  private readonly held: HeldRows
  private readonly compare: (a: Row, b: Row) => number
  private readonly memoryBytes: number
  private readonly tempDir: string
  private readonly info: SortInfo
  /** The folder of runs, made at the first spill. */
  private dir: string | undefined
  /** Run files, earliest rows first. */
  private runs: string[] = []
  /** Run files made so far, to name the next. */
  private files = 0
  /** Open files, closed on destroy. */
  private readonly handles = new Set<FileHandle>()
  private output: AsyncIterator<Row[]> | undefined
  private reading = false

  constructor(keys: readonly SortColumn[], options: SortOptions) {
    super({ objectMode: true, highWaterMark: 16 })
    this.held = new HeldRows(keys, options.format ?? {})
    this.compare = compareRows(keys, options.format)
    this.memoryBytes = options.memoryBytes ?? DEFAULT_SORT_MEMORY_BYTES
    this.tempDir = options.tempDir ?? tmpdir()
    this.info = options.info ?? { runs: 0, intermediateMerges: 0 }
  }

  override _write(row: Row, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.held.add(row)
    if (this.held.bytes < this.memoryBytes) return callback()
    this.spill().then(() => callback(), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.prepareOutput().then(() => {
      callback()
      this._read()
    }, callback)
  }

  override _read(): void {
    if (!this.output || this.reading) return
    this.reading = true
    this.output.next().then(
      ({ done, value }) => {
        this.reading = false
        if (done) {
          this.removeRuns()
          this.push(null)
          return
        }
        let wanted = true
        for (const row of value) wanted = this.push(row)
        if (wanted) this._read()
      },
      (err: Error) => this.destroy(err),
    )
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const handle of this.handles) handle.close().catch(() => {})
    this.handles.clear()
    this.removeRuns()
    this.held.release()
    callback(error)
  }

  /** Writes the held rows, sorted, as a run, and empties the store. */
  private async spill(): Promise<void> {
    const order = this.held.sortedOrder()
    this.runs.push(await this.writeRun([this.held.lines(order)]))
    this.held.clear()
    this.info.runs++
  }

  /** After the last row: the rows from memory, or a merge of the runs. */
  private async prepareOutput(): Promise<void> {
    if (this.runs.length === 0) {
      this.output = this.held.rows(this.held.sortedOrder())
      return
    }
    if (this.held.count > 0) await this.spill()
    this.held.release()
    const width = fanIn(this.memoryBytes)
    while (this.runs.length > width) {
      const merged: string[] = []
      for (let i = 0; i < this.runs.length; i += width) {
        const group = this.runs.slice(i, i + width)
        if (group.length === 1) {
          merged.push(group[0])
          continue
        }
        merged.push(await this.writeRun(lines(this.merge(await this.openRuns(group)))))
        this.info.intermediateMerges++
        for (const path of group) await rm(path)
      }
      this.runs = merged
    }
    this.output = this.merge(await this.openRuns(this.runs))
  }

  /** Writes lines (each the UTF-8 of a row's JSON) to a new run file; returns its path. */
  private async writeRun(batches: Iterable<Iterable<Buffer>> | AsyncIterable<Iterable<Buffer>>): Promise<string> {
    if (this.destroyed) throw new Error('the sort was stopped')
    if (!this.dir) {
      this.dir = mkdtempSync(join(this.tempDir, sortFolderPrefix()))
      trackSpillDir(this.dir)
    }
    const path = join(this.dir, `run-${++this.files}.jsonl`)
    // The file is made now, not in the thread pool: a destroy that comes while a run is being
    // written finds every file the folder will hold, and the folder goes in one removal. Once
    // the folder is gone, the open below fails and the run with it.
    closeSync(openSync(path, 'wx', 0o600))
    const handle = await open(path, 'r+')
    this.handles.add(handle)
    try {
      const out = Buffer.allocUnsafe(WRITE_BYTES)
      let used = 0
      for await (const batch of batches) {
        for (const line of batch) {
          if (used + line.length + 1 > WRITE_BYTES) {
            await writeAll(handle, out.subarray(0, used))
            used = 0
          }
          if (line.length + 1 > WRITE_BYTES) {
            await writeAll(handle, Buffer.concat([line, NEWLINE]))
            continue
          }
          used += line.copy(out, used)
          out[used++] = 0x0a
        }
      }
      await writeAll(handle, out.subarray(0, used))
    } finally {
      this.handles.delete(handle)
      await handle.close()
    }
    return path
  }

  private async openRuns(paths: readonly string[]): Promise<RunReader[]> {
    const readers: RunReader[] = []
    for (const [order, path] of paths.entries()) {
      const handle = await open(path, 'r')
      this.handles.add(handle)
      const reader = new RunReader(handle, order, () => this.handles.delete(handle))
      readers.push(reader)
      await reader.fill()
    }
    return readers
  }

  /** Merges runs (in run order, for stability) into batches of sorted rows. */
  private async *merge(readers: RunReader[]): AsyncGenerator<Row[]> {
    const heap = new RunHeap((a, b) => this.compare(a.head as Row, b.head as Row) || a.order - b.order)
    for (const reader of readers) if (reader.head) heap.push(reader)
    let batch: Row[] = []
    while (heap.size > 0) {
      const reader = heap.top
      batch.push(reader.head as Row)
      if (!reader.advance()) await reader.fill()
      if (reader.head) heap.updateTop()
      else heap.pop()
      if (batch.length === BATCH) {
        yield batch
        batch = []
      }
    }
    if (batch.length > 0) yield batch
  }

  private removeRuns(): void {
    if (!this.dir) return
    removeSpillDir(this.dir)
    untrackSpillDir(this.dir)
    this.dir = undefined
    this.runs = []
  }
}

const NEWLINE = Buffer.from('\n')

/** Batches of rows as batches of lines for a run. */
async function* lines(batches: AsyncIterable<Row[]>): AsyncGenerator<Buffer[]> {
  for await (const batch of batches) yield batch.map((row) => Buffer.from(JSON.stringify(row), 'utf8'))
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += (await handle.write(bytes, offset)).bytesWritten
}

/** Bytes of a chunk of held rows. */
const CHUNK_BYTES = 1024 * 1024
/**
 * Bytes counted per held row besides its JSON: where it is (12), its place in the sort order
 * (8, and 4 more while sorting), and the arrays' room to grow (measured: about 60 in all).
 */
const ROW_OVERHEAD = 64
/** Bytes counted per sort-key cell: its number and a pointer; text adds a string (24 + length). */
const KEY_OVERHEAD = 16
const STRING_OVERHEAD = 24

/** The cells of one sort key, for every held row. */
interface KeyColumn {
  index: number
  descending: boolean
  /** The cell's number; NaN when it is text or empty. */
  numbers: Float64Array
  /** The cell's text: undefined when it is the number's own text (`String(number)`), '' when empty. */
  texts: (string | undefined)[]
}

/**
 * Rows held in memory: each one's JSON in chunks of memory outside the JS heap, and the cells of
 * its sort keys. `bytes` counts what they take (see {@link SortOptions.memoryBytes}). Chunks and
 * per-row arrays keep their size from run to run, so spilling leaves no garbage behind.
 */
class HeldRows {
  count = 0
  bytes = 0
  private readonly chunks: Buffer[] = []
  /** The chunk being filled and the bytes used in it. */
  private chunk = 0
  private used = 0
  /** Where each row's JSON is (chunk * 2^32 + offset), and its length. */
  private starts = new Float64Array(1024)
  private lengths = new Uint32Array(1024)
  private order: number[] = []
  private readonly keys: KeyColumn[]

  constructor(
    keys: readonly SortColumn[],
    private readonly format: TextOptions,
  ) {
    this.keys = keys.map(({ index, descending }) => ({ index, descending, numbers: new Float64Array(1024), texts: [] }))
  }

  add(row: Row): void {
    const json = stringifyRow(row)
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const room = json.length * 3
    let chunk = this.chunks[this.chunk]
    if (!chunk || this.used + room > chunk.length) {
      if (chunk) this.chunk++
      chunk = this.chunks[this.chunk]
      if (!chunk || room > chunk.length) {
        chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, room))
        this.chunks[this.chunk] = chunk
      }
      this.used = 0
    }
    const i = this.count
    if (i === this.starts.length) this.grow()
    const length = chunk.write(json, this.used, 'utf8')
    this.starts[i] = this.chunk * 2 ** 32 + this.used
    this.lengths[i] = length
    this.used += length
    let bytes = length + ROW_OVERHEAD
    for (const key of this.keys) {
      const value = row[key.index] ?? null
      if (typeof value === 'number' && value === value) {
        // A number orders by itself: no text to keep.
        key.numbers[i] = value
        key.texts[i] = undefined
        bytes += KEY_OVERHEAD
        continue
      }
      const cell = typeof value === 'string' ? value : orderText(value, this.format)
      const number = typeof value === 'number' ? value : orderNumber(value, this.format)
      key.numbers[i] = number ?? NaN
      const above = i > 0 ? key.texts[i - 1] : undefined
      if (number !== undefined && String(number) === cell) key.texts[i] = undefined
      else if (cell === '') key.texts[i] = ''
      // A cell equal to the one above (the same series, say) shares its string.
      else if (cell === above) key.texts[i] = above
      else {
        key.texts[i] = cell
        bytes += STRING_OVERHEAD + cell.length
      }
      bytes += KEY_OVERHEAD
    }
    this.bytes += bytes
    this.count++
  }

  /** The held rows' indexes in sorted order: by the keys as `compareRows` orders, then as they came. */
  sortedOrder(): number[] {
    const keys = this.keys
    const order = this.order
    order.length = this.count
    for (let i = 0; i < this.count; i++) order[i] = i
    return order.sort((i, j) => {
      for (const { numbers, texts, descending } of keys) {
        const x = texts[i]
        const y = texts[j]
        if (x === '' || y === '') {
          if (x === y) continue
          return x === '' ? 1 : -1
        }
        const a = numbers[i]
        const b = numbers[j]
        let c: number
        if (a === a && b === b) c = a - b || (x === y ? 0 : naturalOrder.compare(x ?? String(a), y ?? String(b)))
        else if (a === a) c = -1
        else if (b === b) c = 1
        else c = x === y ? 0 : naturalOrder.compare(x as string, y as string)
        if (c !== 0) return descending ? -c : c
      }
      return i - j
    })
  }

  /** Makes the per-row arrays half as large again. */
  private grow(): void {
    const size = Math.ceil(this.starts.length * 1.5)
    const starts = new Float64Array(size)
    starts.set(this.starts)
    this.starts = starts
    const lengths = new Uint32Array(size)
    lengths.set(this.lengths)
    this.lengths = lengths
    for (const key of this.keys) {
      const numbers = new Float64Array(size)
      numbers.set(key.numbers)
      key.numbers = numbers
    }
  }

  /** The UTF-8 JSON of a held row (a view, valid until the store is cleared). */
  line(i: number): Buffer {
    const start = this.starts[i]
    const offset = start % 2 ** 32
    return this.chunks[Math.floor(start / 2 ** 32)].subarray(offset, offset + this.lengths[i])
  }

  *lines(order: readonly number[]): Generator<Buffer> {
    for (const i of order) yield this.line(i)
  }

  /** The held rows in the given order, in batches. */
  async *rows(order: readonly number[]): AsyncGenerator<Row[]> {
    for (let i = 0; i < order.length; i += BATCH) {
      yield order.slice(i, i + BATCH).map((j) => parseRow(this.line(j).toString('utf8')))
    }
    this.release()
  }

  /** Forgets the rows, keeping the chunks and arrays for the next ones. */
  clear(): void {
    this.count = 0
    this.bytes = 0
    this.chunk = 0
    this.used = 0
    for (const key of this.keys) key.texts.fill(undefined)
  }

  /** Forgets the rows, the chunks and the arrays. */
  release(): void {
    this.clear()
    this.chunks.length = 0
    this.starts = new Float64Array(0)
    this.lengths = new Uint32Array(0)
    this.order = []
    for (const key of this.keys) {
      key.numbers = new Float64Array(0)
      key.texts = []
    }
  }
}

/** A run file read a block at a time: the rows of the current block, and the one at the head. */
class RunReader {
  private rows: Row[] = []
  private index = 0
  private position = 0
  private carry = ''
  private readonly decoder = new StringDecoder('utf8')
  private readonly block = Buffer.allocUnsafe(BLOCK_BYTES)
  private ended = false

  constructor(
    private readonly handle: FileHandle,
    /** The run's place among those merged: ties go to the lower. */
    readonly order: number,
    private readonly onClose: () => void,
  ) {}

  /** The current row; undefined once the run is used up. */
  get head(): Row | undefined {
    return this.rows[this.index]
  }

  /** Moves to the next row of the block; false when the block is used up (call `fill`). */
  advance(): boolean {
    this.index++
    return this.index < this.rows.length || this.ended
  }

  /** Reads blocks until it has rows, or to the end of the run (where it closes the file). */
  async fill(): Promise<void> {
    this.rows = []
    this.index = 0
    while (this.rows.length === 0 && !this.ended) {
      const { bytesRead } = await this.handle.read(this.block, 0, BLOCK_BYTES, this.position)
      this.position += bytesRead
      let text = this.carry + this.decoder.write(this.block.subarray(0, bytesRead))
      if (bytesRead === 0) {
        this.ended = true
        text += this.decoder.end()
        this.onClose()
        await this.handle.close()
      }
      const lines = text.split('\n')
      this.carry = lines.pop() as string
      this.rows = lines.map(parseRow)
    }
  }
}

/** A binary min-heap of run readers. */
class RunHeap {
  private readonly items: RunReader[] = []

  constructor(private readonly less: (a: RunReader, b: RunReader) => number) {}

  get size(): number {
    return this.items.length
  }

  get top(): RunReader {
    return this.items[0]
  }

  push(item: RunReader): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.less(items[i], items[parent]) >= 0) break
      ;[items[i], items[parent]] = [items[parent], items[i]]
      i = parent
    }
  }

  pop(): void {
    const last = this.items.pop() as RunReader
    if (this.items.length === 0) return
    this.items[0] = last
    this.updateTop()
  }

  /** Restores the order after the top's head has changed. */
  updateTop(): void {
    const items = this.items
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= items.length) return
      const right = left + 1
      const child = right < items.length && this.less(items[right], items[left]) < 0 ? right : left
      if (this.less(items[child], items[i]) >= 0) return
      ;[items[i], items[child]] = [items[child], items[i]]
      i = child
    }
  }
}

/** Sort folders are named after their process, `etl-sort-<pid>-<start>-XXXXXX`, so a later run can tell a killed one's. */
function sortFolderPrefix(): string {
  const { pid, start } = thisProcess()
  return `etl-sort-${pid}-${start ?? 0}-`
}

/**
 * Removes the sort folders that runs killed with SIGKILL left in `dir` (they hold rows: patient
 * data); each removal is told to `note`. Folders of running processes stay.
 */
export function removeStaleSortFolders(note: (message: string) => void, dir = tmpdir()): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const m = /^etl-sort-(\d+)-(\d+)-[A-Za-z0-9]{6}$/.exec(name)
    if (!m || isRunning({ pid: Number(m[1]), start: m[2] === '0' ? undefined : Number(m[2]) })) continue
    // Only a folder of this user's (in /tmp, another user may plant one, or a link, to have
    // a root job remove what it chose).
    const st = lstatSync(join(dir, name), { throwIfNoEntry: false })
    if (!st?.isDirectory() || st.uid !== process.geteuid?.()) continue
    try {
      rmSync(join(dir, name), { recursive: true, force: true })
      note(`removed ${join(dir, name)}, the sort folder of a run that was killed`)
    } catch {
      // Another user's, or going already: left alone.
    }
  }
}

// Folders of runs that exist now, removed at exit if their stream has not removed them: a
// program that calls process.exit (as etl does on a second Ctrl-C) leaves none behind.
const spillDirs = new Set<string>()

function removeSpillDir(dir: string): void {
  // A spill's file may be being created as the folder goes: try again (ENOTEMPTY).
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
}

function removeSpillDirs(): void {
  for (const dir of spillDirs) removeSpillDir(dir)
  spillDirs.clear()
}

function trackSpillDir(dir: string): void {
  if (spillDirs.size === 0) process.on('exit', removeSpillDirs)
  spillDirs.add(dir)
}

function untrackSpillDir(dir: string): void {
  spillDirs.delete(dir)
  if (spillDirs.size === 0) process.off('exit', removeSpillDirs)
}
