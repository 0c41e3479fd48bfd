/**
 * Header reader stage: paths in, headers out, with at most `concurrency` files open at once.
 *
 * State: a p-limit counts the reads in flight. A new path is taken as soon as a slot is free;
 * when all are busy the write callback is held back, so the lister upstream waits (real
 * backpressure: however many files are listed, never more than N are open or buffered here).
 * Headers are pushed in completion order. Files that are not DICOM, or that fail, are reported
 * through `onSkip` and counted; they never stop the stream.
 */
import { Transform } from 'node:stream'
import pLimit from 'p-limit'
import { EtlError, type ErrorCode } from '../errors.js'
import { readHeader, type FileHeader, type ReadHeaderOptions, type ReadPlan } from '../dicom/read-header.js'

/** A file whose header was read. */
export interface HeaderRecord {
  path: string
  header: FileHeader
}

/** A file that gave no row: `ignored` (not DICOM) or `failed` (DICOM that cannot be read). */
export interface Skip {
  path: string
  outcome: 'ignored' | 'failed'
  code: ErrorCode
  reason: string
}

/** Counts kept by the stage. */
export interface ReadInfo {
  read: number
  ignored: number
  failed: number
  bytesRead: number
  inFlight: number
  /** The most reads ever in flight at once (an invariant: never above `concurrency`). */
  maxInFlight: number
}

/** Options of {@link readHeaders}. */
export interface ReadHeadersOptions {
  plan: ReadPlan
  /** Files read at once at most. */
  concurrency: number
  /** fstat each file (for the size_bytes and mtime columns). */
  stat?: boolean
  onSkip?: (skip: Skip) => void
  info?: ReadInfo
  /** The per-file reader; replaceable in tests. */
  read?: (path: string, plan: ReadPlan, options: ReadHeaderOptions) => Promise<FileHeader>
}

export function newReadInfo(): ReadInfo {
  return { read: 0, ignored: 0, failed: 0, bytesRead: 0, inFlight: 0, maxInFlight: 0 }
}

/** Classifies an error of one file. Anything not an EtlError is a failure with its message. */
export function toSkip(path: string, err: unknown): Skip {
  if (err instanceof EtlError) {
    const outcome = err.code === 'E_NOT_DICOM' ? 'ignored' : 'failed'
    return { path, outcome, code: err.code, reason: err.message }
  }
  return { path, outcome: 'failed', code: 'E_CORRUPT', reason: (err as Error)?.message ?? String(err) }
}

/** The header reader as a Transform stream (object mode: path strings in, HeaderRecords out). */
export function readHeaders(options: ReadHeadersOptions): Transform {
  const concurrency = options.concurrency
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`Expected \`concurrency\` to be an integer >= 1, got ${concurrency}`)
  }
  const limit = pLimit(concurrency)
  const info = options.info ?? newReadInfo()
  const read = options.read ?? readHeader
  const readOptions: ReadHeaderOptions = { stat: options.stat ?? false }
  let waiting: (() => void) | undefined
  let flushed: (() => void) | undefined

  function settle(): void {
    info.inFlight--
    if (waiting) {
      const next = waiting
      waiting = undefined
      next()
    }
    if (flushed && info.inFlight === 0) flushed()
  }

  return new Transform({
    objectMode: true,
    highWaterMark: concurrency,
    transform(path: string, _encoding, callback) {
      info.inFlight++
      info.maxInFlight = Math.max(info.maxInFlight, info.inFlight)
      void limit(() => read(path, options.plan, readOptions)).then(
        (header) => {
          info.read++
          info.bytesRead += header.bytesRead
          this.push({ path, header } satisfies HeaderRecord)
          settle()
        },
        (err: unknown) => {
          const skip = toSkip(path, err)
          if (skip.outcome === 'ignored') info.ignored++
          else info.failed++
          options.onSkip?.(skip)
          settle()
        },
      )
      if (info.inFlight < concurrency) callback()
      else waiting = callback
    },
    flush(callback) {
      if (info.inFlight === 0) callback()
      else flushed = () => callback()
    },
  })
}
