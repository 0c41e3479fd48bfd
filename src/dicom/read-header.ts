/**
 * Header reader: reads the requested data elements of one DICOM file, windows of it at a time,
 * for the scanner (scan-header.ts). The read logic ({@link readSteps}) is written once as a
 * generator that yields the I/O it needs; two drivers run it, with synchronous I/O
 * ({@link readHeaderSync}) or asynchronous I/O ({@link readHeader}). The bytes they hold are
 * counted against a budget (read-budget.ts).
 */
import { close, closeSync, constants, fstat, fstatSync, open, openSync, read, readSync, type Stats } from 'node:fs'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'
import { displayPath, toFsPath } from '../io/fs-path.js'
import { walkSequence } from './items.js'
import {
  DEFAULT_MAX_BYTES,
  ReadBudget,
  charge,
  reserve,
  threadBudget,
  type Budget,
  type Holding,
  type Step,
  type StepResult,
} from './read-budget.js'
import type { ReadPlan } from './read-plan.js'
import {
  scanDeflated,
  scanHeader,
  resumeScan,
  type Damage,
  type Header,
  type ScanResult,
  type ScanState,
} from './scan-header.js'

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

/** A header plus the file's size and mtime when asked for. */
export interface FileHeader extends Header {
  size?: number
  mtime?: Date
  /** The file's inode (with the stat): tells two files of one size and mtime apart. */
  ino?: number
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
