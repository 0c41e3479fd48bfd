/**
 * The reader threads of the reader stages: a thread loads its modules as soon as it is spawned
 * and then waits for its job, so threads can be spawned before the job is known (the CLI does so
 * while it loads yargs) and adopted by a stage later. What a thread does is `read-worker.ts`.
 */
import { Worker } from 'node:worker_threads'
import type { EtlError } from '../errors.js'
import type { PackedBatch } from './read-batch.js'

/** Batches a worker holds at once: one being read, the next ones waiting, so it never idles. */
export const MAX_OUTSTANDING = 3

/** What a reader thread posts: that it has loaded, or the results of a batch. */
export type ReaderMessage =
  | { ready: true }
  | { id: number; batch: PackedBatch }
  | { id: number; fatal: Pick<EtlError, 'code' | 'message' | 'exitCode'> }

/**
 * A reader thread. It loads its modules as soon as it is spawned and then waits for its job,
 * so it can be spawned before the job is known ({@link prestartReaders}) and adopted by a
 * stage later; `listener` is the adopting stage's.
 */
export class ReaderThread {
  readonly worker = new Worker(new URL('./read-worker.js', import.meta.url))
  ready = false
  /** Batches sent and not yet answered. */
  outstanding = 0
  listener?: (message: ReaderMessage | Error) => void
  /** What stopped the thread, if it failed before a stage adopted it. */
  error?: Error

  constructor() {
    this.worker.on('message', (message: ReaderMessage) => {
      if ('ready' in message) this.ready = true
      this.listener?.(message)
    })
    this.worker.on('error', (err) => {
      this.error = err
      this.listener?.(err)
    })
  }
}

/** Reader threads spawned ahead of any stage, kept from holding the process open until adopted. */
export const spares: ReaderThread[] = []

/** Prestarted reader threads not yet adopted. */
export function spareReaders(): number {
  return spares.length
}

/**
 * Spawns `count` reader threads now, for a reader stage to adopt later: a thread takes tens of
 * milliseconds to start, which the CLI spends loading its own modules meanwhile. Threads no
 * stage adopts do not keep the process alive.
 */
export function prestartReaders(count: number): void {
  for (let i = 0; i < count; i++) {
    const thread = new ReaderThread()
    thread.worker.unref()
    spares.push(thread)
  }
}
