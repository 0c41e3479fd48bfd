/**
 * Reader stages: paths in, headers (`readHeaders`) or rows (`readRows`) out, with a bound on the
 * files being read at once.
 *
 * Two ways to read, one contract:
 * - in this thread: while the job is small (the first `inlineFiles` paths) or `threads` is 0.
 *   One read per thread (`concurrency` <= threads) reads synchronously, the fastest way on local
 *   or cached storage; more uses asynchronous reads, `concurrency` of them in flight at most
 *   (p-limit counts them), which hides the latency of network or cold storage.
 * - in worker threads, once the job proves big: paths go in batches to `threads` workers, each
 *   reading `concurrency / threads` files at a time the same way.
 * `readRows` projects each header to its row in the thread that read it: decoding and
 * formatting values is most of the work per file, and it is spread with the reads.
 * Either way a path is taken only while there is room (a slot, or a batch not yet full), so a
 * slow consumer stops the lister upstream: memory does not grow with the number of files.
 * Results come out in the order of the paths that came in, whichever thread read what first
 * (the same files give the same CSV, run after run). Files that are not DICOM, or that fail,
 * are reported through `onSkip` as they come, and counted; they never stop the stream. A chunk
 * that is not a path (an unchanged file's row, from the state of an incremental run) is passed
 * on as it is, in its place.
 */
import { Transform } from 'node:stream'
import { MAX_OUTSTANDING, ReaderThread, spares } from './reader-threads.js'
import pLimit from 'p-limit'
import { EtlError } from '../errors.js'
import type { FormatOptions } from '../dicom/format-value.js'
import { Tags } from '../dicom/keywords.js'
import type { FileHeader, ReadHeaderOptions } from '../dicom/read-header.js'
import { planRead, type ReadPlan } from '../dicom/read-plan.js'
import type { ColumnSpec } from '../pipeline/spec.js'
import type { HeaderRecord, Skip, SourceRecord } from '../records.js'
import { FRAME_TAGS } from '../dicom/frames.js'
import { columnGroups, columnTags, needsStat } from '../transforms/project-keywords.js'
import { readOne, readOneAsync, unpackBatch, type FileFacts, type ReadJob, type ReadResult } from './read-batch.js'
import type { PathStep } from '../dicom/paths.js'
import type { RowFilter } from '../pipeline/where.js'

/** Counts kept by the stage. */
export interface ReadInfo {
  read: number
  /** Rows made by `readRows`: one per header, or one per frame with `perFrame`; those the filter kept. */
  rows: number
  /** Rows the filter (`where`) left out. */
  filtered: number
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

/** Options of both reader stages. */
export interface ReaderOptions {
  /** Files read at once at most, over all threads. */
  concurrency: number
  /** Worker threads to read with once the job is big; 0 reads in this thread only. Default 0. */
  threads?: number
  /** Paths read in this thread before workers start, so small jobs never pay their start-up. Default 256. */
  inlineFiles?: number
  /** Paths per batch sent to a worker. Default 128. */
  batchSize?: number
  onSkip?: (skip: Skip) => void
  info?: ReadInfo
  /** The per-file reader of this thread when asynchronous; replaceable in tests. */
  read?: (path: string, plan: ReadPlan, options: ReadHeaderOptions) => Promise<FileHeader>
}

/** Options of {@link readHeaders}. */
export interface ReadHeadersOptions extends ReaderOptions {
  plan: ReadPlan
  /** fstat each file (for the size_bytes and mtime columns). */
  stat?: boolean
}

/** Options of {@link readRows}. */
export interface ReadRowsOptions extends ReaderOptions {
  columns: readonly ColumnSpec[]
  /** How cells are written (separator, dates, names, binary values, fallback character set). */
  format?: FormatOptions
  /**
   * Emit a {@link SourceRecord} per file (its rows and the facts that identify it: size, mtime,
   * inode, SOP Instance UID), not its rows one by one. Default false.
   */
  records?: boolean
  /** One row per frame of multi-frame images (`rows: per_frame`). Default false. */
  perFrame?: boolean
  /** One row per content item this path reaches (`rows: {per_item: ...}`); its first tag is read. */
  perItem?: PathStep[]
  /** Warnings about values (an invalid number left empty), with the file they come from. */
  onWarning?: (path: string, message: string) => void
  /**
   * Rows kept: those this filter passes, decided in the thread that makes them; the columns it
   * reads that are not extracted are read too, and dropped from the rows.
   */
  where?: RowFilter
}

export function newReadInfo(): ReadInfo {
  return {
    read: 0,
    rows: 0,
    filtered: 0,
    ignored: 0,
    failed: 0,
    bytesRead: 0,
    inFlight: 0,
    maxInFlight: 0,
    threads: 0,
  }
}

/** The header reader as a Transform stream (object mode: path strings in, HeaderRecords out). */
export function readHeaders(options: ReadHeadersOptions): Transform {
  const job = { plan: options.plan, stat: options.stat ?? false }
  return readerStage(options, job, (result, push) => {
    if ('header' in result) push({ path: result.path, header: result.header } satisfies HeaderRecord)
  })
}

/**
 * The header reader and keyword projector in one, each header made its rows in the thread that
 * read it (object mode: path strings in, Rows out; or SourceRecords with `records`).
 */
export function readRows(options: ReadRowsOptions): Transform {
  const { onWarning, where } = options
  // The columns the filter reads and the pipeline does not: read, tested, then cut off.
  const columns = where ? [...options.columns, ...where.hidden] : options.columns
  const facts = options.records ?? false
  const perFrame = options.perFrame ?? false
  const info = options.info ?? newReadInfo()
  const tags = columnTags(columns)
  if (facts) tags.push(Tags.SOPInstanceUID)
  if (perFrame) tags.push(...FRAME_TAGS)
  if (options.perItem) tags.push(options.perItem[0].tag)
  const job = {
    plan: planRead(tags, { groups: columnGroups(columns) }),
    stat: needsStat(columns) || facts,
    project: {
      columns,
      format: options.format,
      facts,
      perFrame,
      perItem: options.perItem,
      ...(where && { where: { expr: where.expr, width: options.columns.length } }),
    },
  }
  return readerStage({ ...options, info }, job, (result, push) => {
    if (!('rows' in result)) return
    info.rows += result.rows.length
    info.filtered += result.filtered ?? 0
    if (result.warnings && onWarning) for (const message of result.warnings) onWarning(result.path, message)
    if (facts) {
      const f = result.facts as FileFacts
      push({ path: result.path, rows: result.rows, ...f } satisfies SourceRecord)
    } else if (result.rows.length === 1) push(result.rows[0])
    else for (const row of result.rows) push(row)
  })
}

/** The first-chunk buffer of this thread's synchronous row reads. */
const rowBuffer = Buffer.allocUnsafe(8192)

/** A chunk that came in instead of a path, waiting for its turn to go out unchanged. */
class PassedThrough {
  constructor(readonly chunk: object) {}
}

/** The reading machinery of both stages: `emit` turns each result that is not a skip into output. */
function readerStage(
  options: ReaderOptions,
  work: Omit<ReadJob, 'concurrency'>,
  emit: (result: ReadResult, push: (output: unknown) => void) => void,
): Transform {
  const { concurrency } = options
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`Expected \`concurrency\` to be an integer >= 1, got ${concurrency}`)
  }
  const threads = options.threads ?? 0
  const perThread = Math.max(1, Math.floor(concurrency / Math.max(1, threads)))
  const job: ReadJob = { ...work, concurrency: perThread }
  const inlineFiles = options.inlineFiles ?? 256
  const batchSize = options.batchSize ?? 128
  const info = options.info ?? newReadInfo()
  const limit = pLimit(perThread)
  const pool: ReaderThread[] = []
  let seen = 0
  let batch: string[] = []
  /** The place in the input of each path of `batch`. */
  let batchPlaces: number[] = []
  let nextBatchId = 0
  /** The paths of each batch sent, and their places, by id: results come back without them. */
  const sent = new Map<number, { paths: string[]; places: number[] }>()
  /**
   * Results read before their turn, by place in the input (undefined for a skip): output keeps
   * the input's order, so that the same files give the same CSV, run after run, whichever
   * thread read what first. Bounded: while it holds `maxEarly`, no new path is taken.
   */
  const early = new Map<number, ReadResult | PassedThrough | undefined>()
  /** The place in the input of the next chunk that comes in, and of the next to go out. */
  let nextPlace = 0
  let nextOut = 0
  let partialScheduled = false
  let waiting: (() => void) | undefined
  let flushed: ((error?: Error) => void) | undefined
  let failure: Error | undefined
  const push = (output: unknown) => void stream.push(output)
  /**
   * This thread reads too when it reads synchronously: a path that finds the workers' batches
   * full is read here at once, so both cores read while the workers are busy.
   */
  const sharing = perThread === 1 && !options.read
  // A thread that this one helps needs a batch being read and the next one waiting, no more:
  // what waits in its queue at the end is waited for (a cold thread reads 128 files in ~25 ms).
  const maxOutstanding = sharing ? 3 : MAX_OUTSTANDING
  const maxEarly = 16 * batchSize * Math.max(1, threads)

  /** Counts a result at once (skips are reported as they come) and emits it in its turn. */
  function done(place: number, result: ReadResult): void {
    info.inFlight--
    if ('skip' in result) {
      if (result.skip.outcome === 'ignored') info.ignored++
      else info.failed++
      options.onSkip?.(result.skip)
      settle(place, undefined)
      return
    }
    info.read++
    info.bytesRead += 'header' in result ? result.header.bytesRead : result.bytesRead
    settle(place, result)
  }

  /** Emits what has its turn: a result, something passed through (not a path), or nothing (a skip). */
  function settle(place: number, output: ReadResult | PassedThrough | undefined): void {
    if (place !== nextOut) {
      early.set(place, output)
      return
    }
    out(output)
    for (nextOut++; early.has(nextOut); nextOut++) {
      const next = early.get(nextOut)
      early.delete(nextOut)
      out(next)
    }
  }

  function out(output: ReadResult | PassedThrough | undefined): void {
    if (output instanceof PassedThrough) push(output.chunk)
    else if (output) emit(output, push)
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
    if (early.size >= maxEarly) return false
    if (!anyReady() || sharing) return info.inFlight < perThread || sharing
    return batch.length < batchSize
  }

  /** Whether a thread has loaded (asked for each path: no array made). */
  function anyReady(): boolean {
    return pool.some((w) => w.ready)
  }

  /**
   * Sends the batch being filled to a ready worker: a full one at once (to an idle worker, or as
   * the second batch of a busy one), a partial one only to an idle worker and only after the
   * current turn of the event loop, so that paths listed together travel together.
   */
  function dispatch(): void {
    while (batch.length >= batchSize || (batch.length > 0 && flushed)) {
      const idle = pool.find((w) => w.ready && w.outstanding === 0)
      if (!idle && flushed && sharing) {
        // The last paths: read here at once rather than queued behind the threads' batches.
        const [rest, places] = [batch, batchPlaces]
        batch = []
        batchPlaces = []
        rest.forEach((path, i) => readHere(path, places[i]))
        return
      }
      const target = idle ?? pool.find((w) => w.ready && w.outstanding < maxOutstanding)
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

  function send(target: ReaderThread): void {
    target.outstanding++
    const id = nextBatchId++
    sent.set(id, { paths: batch, places: batchPlaces })
    target.worker.postMessage({ id, paths: batch })
    batch = []
    batchPlaces = []
  }

  function startWorkers(): void {
    for (let i = 0; i < threads; i++) {
      const thread = spares.pop() ?? new ReaderThread()
      thread.worker.ref()
      thread.worker.postMessage({ job })
      thread.listener = (message) => {
        if (message instanceof Error) failure = message
        else if ('fatal' in message) {
          const { code, message: text, exitCode } = message.fatal
          stream.destroy(new EtlError(code, text, exitCode))
          return
        } else if ('batch' in message) {
          thread.outstanding--
          const { paths, places } = sent.get(message.id) as { paths: string[]; places: number[] }
          sent.delete(message.id)
          unpackBatch(paths, message.batch).forEach((result, i) => done(places[i], result))
        }
        progress()
      }
      if (thread.error) failure = thread.error
      pool.push(thread)
    }
    info.threads = threads
  }

  /** Reads one path in this thread. */
  function readHere(path: string, place: number): void {
    info.maxInFlight = Math.max(info.maxInFlight, info.inFlight)
    if (perThread === 1 && !options.read) {
      // A row keeps nothing of the read buffer, so rows reuse one; a header's values are views into its own.
      done(place, readOne(path, job, job.project ? rowBuffer : undefined))
      return
    }
    limit(() => readOneAsync(path, job, options.read)).then(
      (result) => {
        done(place, result)
        progress()
      },
      (err: Error) => stream.destroy(err),
    )
  }

  const stream: Transform = new Transform({
    objectMode: true,
    highWaterMark: Math.max(16, batchSize),
    transform(path: string | object, _encoding, callback) {
      if (typeof path !== 'string') {
        // Not a path: passed on as it is, in its place (an unchanged file's row from the state).
        settle(nextPlace++, new PassedThrough(path))
        return callback()
      }
      const place = nextPlace++
      seen++
      info.inFlight++
      if (threads > 0 && seen > inlineFiles && pool.length === 0) startWorkers()
      if (anyReady() && !(sharing && batch.length >= batchSize)) {
        batch.push(path)
        batchPlaces.push(place)
        dispatch()
      } else {
        readHere(path, place)
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
