/** A reader thread: reads the batches of paths it is sent, as its job says, and posts the packed results back. */
import { parentPort, workerData } from 'node:worker_threads'
import { readBatch, transferList, type ReadJob } from './read-batch.js'

// The job arrives by structured clone: its Sets and plain column objects survive the trip.
const job = workerData as ReadJob

parentPort?.on('message', (message: { id: number; paths: string[] }) => {
  void readBatch(message.paths, job).then((packed) => {
    parentPort?.postMessage({ id: message.id, batch: packed }, transferList(packed))
  })
})
parentPort?.postMessage({ ready: true })
