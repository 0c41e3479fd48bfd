/**
 * Header reader stage: paths in, headers out, with a bound on the files being read at once.
 *
 * Two ways to read, one contract:
 * - in this thread: while the job is small (the first `inlineFiles` paths) or `threads` is 0.
 *   One read per thread (`concurrency` <= threads) reads synchronously, the fastest way on local
 *   or cached storage; more uses asynchronous reads, `concurrency` of them in flight at most
 *   (p-limit counts them), which hides the latency of network or cold storage.
 * - in worker threads, once the job proves big: paths go in batches to `threads` workers, each
 *   reading `concurrency / threads` files at a time the same way, so both cores parse.
 * Either way a path is taken only while there is room (a slot, or a batch not yet full), so a
 * slow consumer stops the lister upstream: memory does not grow with the number of files.
 * Headers come out in completion order. Files that are not DICOM, or that fail, are reported
 * through `onSkip` and counted; they never stop the stream.
 */
import { Transform } from 'node:stream'
import { Worker } from 'node:worker_threads'
import pLimit from 'p-limit'
import { EtlError, type ErrorCode } from '../errors.js'
import {
  readHeader,
  readHeaderSync,
  type FileHeader,
  type ReadHeaderOptions,
  type ReadPlan,
} from '../dicom/read-header.js'
import { unpackBatch, type PackedBatch, type ReadResult } from './read-batch.js'

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
  /** Paths taken and not yet done (being read, or queued in a batch for a worker). */
  inFlight: number
  /** The most reads ever in flight in this thread at once (never above `concurrency`). */
  maxInFlight: number
  /** Worker threads started. */
  threads: number
}

/** Options of {@link readHeaders}. */
export interface ReadHeadersOptions {
  plan: ReadPlan
  /** Files read at once at most, over all threads. */
  concurrency: number
  /** Worker threads to read with once the job is big; 0 reads in this thread only. Default 0. */
  threads?: number
  /** Paths read in this thread before workers start, so small jobs never pay their start-up. Default 256. */
  inlineFiles?: number
  /** Paths per batch sent to a worker. Default 128. */
  batchSize?: number
  /** fstat each file (for the size_bytes and mtime columns). */
  stat?: boolean
  onSkip?: (skip: Skip) => void
  info?: ReadInfo
  /** The per-file reader of this thread when asynchronous; replaceable in tests. */
  read?: (path: string, plan: ReadPlan, options: ReadHeaderOptions) => Promise<FileHeader>
}

export function newReadInfo(): ReadInfo {
  return { read: 0, ignored: 0, failed: 0, bytesRead: 0, inFlight: 0, maxInFlight: 0, threads: 0 }
}

/** Classifies an error of one file. Anything not an EtlError is a failure with its message. */
export function toSkip(path: string, err: unknown): Skip {
  if (err instanceof EtlError) {
    const outcome = err.code === 'E_NOT_DICOM' ? 'ignored' : 'failed'
    return { path, outcome, code: err.code, reason: err.message }
  }
  return { path, outcome: 'failed', code: 'E_CORRUPT', reason: (err as Error)?.message ?? String(err) }
}

/** Batches a worker holds at once: one being read, the next ones waiting, so it never idles. */
const MAX_OUTSTANDING = 3

interface PoolWorker {
  worker: Worker
  ready: boolean
  /** Batches sent and not yet answered. */
  outstanding: number
}

/** The header reader as a Transform stream (object mode: path strings in, HeaderRecords out). */
export function readHeaders(options: ReadHeadersOptions): Transform {
  const { concurrency, plan } = options
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`Expected \`concurrency\` to be an integer >= 1, got ${concurrency}`)
  }
  const threads = options.threads ?? 0
  const perThread = Math.max(1, Math.floor(concurrency / Math.max(1, threads)))
  const inlineFiles = options.inlineFiles ?? 256
  const batchSize = options.batchSize ?? 128
  const info = options.info ?? newReadInfo()
  const readAsync = options.read ?? readHeader
  const readOptions: ReadHeaderOptions = { stat: options.stat ?? false }
  const limit = pLimit(perThread)
  const pool: PoolWorker[] = []
  let seen = 0
  let batch: string[] = []
  let nextBatchId = 0
  /** The paths of each batch sent, by id: results come back without them. */
  const sent = new Map<number, string[]>()
  let partialScheduled = false
  let waiting: (() => void) | undefined
  let flushed: ((error?: Error) => void) | undefined
  let failure: Error | undefined

  function done(result: ReadResult): void {
    info.inFlight--
    if ('header' in result) {
      info.read++
      info.bytesRead += result.header.bytesRead
      stream.push({ path: result.path, header: result.header } satisfies HeaderRecord)
    } else {
      if (result.skip.outcome === 'ignored') info.ignored++
      else info.failed++
      options.onSkip?.(result.skip)
    }
  }

  /** Lets the next path in when there is room, and ends the stream when all is done. */
  function progress(): void {
    dispatch()
    if (waiting && hasRoom()) {
      const next = waiting
      waiting = undefined
      next()
    }
    if (flushed && (info.inFlight === 0 || failure)) {
      const end = flushed
      flushed = undefined
      for (const w of pool) void w.worker.terminate()
      end(failure)
    }
  }

  function hasRoom(): boolean {
    if (readyWorkers() === 0) return info.inFlight < perThread
    return batch.length < batchSize
  }

  function readyWorkers(): number {
    return pool.filter((w) => w.ready).length
  }

  /**
   * Sends the batch being filled to a ready worker: a full one at once (to an idle worker, or as
   * the second batch of a busy one), a partial one only to an idle worker and only after the
   * current turn of the event loop, so that paths listed together travel together.
   */
  function dispatch(): void {
    while (batch.length >= batchSize || (batch.length > 0 && flushed)) {
      const target =
        pool.find((w) => w.ready && w.outstanding === 0) ?? pool.find((w) => w.ready && w.outstanding < MAX_OUTSTANDING)
      if (!target) return
      send(target)
    }
    if (batch.length > 0 && !partialScheduled && pool.some((w) => w.ready && w.outstanding === 0)) {
      partialScheduled = true
      setImmediate(() => {
        partialScheduled = false
        const idle = pool.find((w) => w.ready && w.outstanding === 0)
        if (idle && batch.length > 0) send(idle)
        progress()
      })
    }
  }

  function send(target: PoolWorker): void {
    target.outstanding++
    const id = nextBatchId++
    sent.set(id, batch)
    target.worker.postMessage({ id, paths: batch })
    batch = []
  }

  function startWorkers(): void {
    const workerData = {
      tags: [...plan.tags],
      groups: [...plan.groups],
      all: plan.all,
      metaTags: [...plan.metaTags],
      maxTag: plan.maxTag,
      stat: readOptions.stat,
      concurrency: perThread,
    }
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData })
      const entry: PoolWorker = { worker, ready: false, outstanding: 0 }
      worker.on('message', (message: { ready?: true; id?: number; batch?: PackedBatch }) => {
        if (message.ready) entry.ready = true
        else if (message.batch && message.id !== undefined) {
          entry.outstanding--
          const paths = sent.get(message.id) as string[]
          sent.delete(message.id)
          for (const result of unpackBatch(paths, message.batch)) done(result)
        }
        progress()
      })
      worker.on('error', (err) => {
        failure = err
        progress()
      })
      pool.push(entry)
    }
    info.threads = threads
  }

  /** Reads one path in this thread. */
  function readHere(path: string): void {
    info.maxInFlight = Math.max(info.maxInFlight, info.inFlight)
    if (perThread === 1 && !options.read) {
      let result: ReadResult
      try {
        result = { path, header: readHeaderSync(path, plan, readOptions) }
      } catch (err) {
        result = { path, skip: toSkip(path, err) }
      }
      done(result)
      return
    }
    void limit(() => readAsync(path, plan, readOptions)).then(
      (header) => {
        done({ path, header })
        progress()
      },
      (err: unknown) => {
        done({ path, skip: toSkip(path, err) })
        progress()
      },
    )
  }

  const stream: Transform = new Transform({
    objectMode: true,
    highWaterMark: Math.max(16, batchSize),
    transform(path: string, _encoding, callback) {
      seen++
      info.inFlight++
      if (threads > 0 && seen > inlineFiles && pool.length === 0) startWorkers()
      if (readyWorkers() > 0) {
        batch.push(path)
        dispatch()
      } else {
        readHere(path)
      }
      if (hasRoom()) callback()
      else waiting = callback
    },
    flush(callback) {
      flushed = callback
      progress()
    },
    destroy(error, callback) {
      for (const w of pool) void w.worker.terminate()
      callback(error)
    },
  })
  return stream
}
