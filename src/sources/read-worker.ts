/**
 * A reader thread: loads, says so, takes its job from the first message, then reads the batches
 * of paths it is sent and posts the packed results back.
 */
import { parentPort } from 'node:worker_threads'
import type { EtlError } from '../errors.js'
import { readBatch, transferList, type ReadJob } from './read-batch.js'

let job: ReadJob | undefined

// The job arrives by structured clone: its Sets and plain column objects survive the trip.
parentPort?.on('message', (message: { job: ReadJob } | { id: number; paths: string[] }) => {
  if ('job' in message) {
    job = message.job
    return
  }
  readBatch(message.paths, job as ReadJob).then(
    (packed) => parentPort?.postMessage({ id: message.id, batch: packed }, transferList(packed)),
    // A fatal error of the run (no file descriptor to be had): its code and exit code cross too.
    (err: EtlError) => parentPort?.postMessage({ id: message.id, fatal: { ...err, message: err.message } }),
  )
})
parentPort?.postMessage({ ready: true })
