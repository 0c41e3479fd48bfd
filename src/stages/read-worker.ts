/** A reader thread: reads the batches of paths it is sent and posts their packed headers back. */
import { parentPort, workerData } from 'node:worker_threads'
import { readBatch, transferList, type BatchSetup } from './read-batch.js'

interface WorkerSetup {
  tags: number[]
  groups: number[]
  all: boolean
  metaTags: number[]
  maxTag: number
  stat: boolean
  concurrency: number
}

const data = workerData as WorkerSetup
const setup: BatchSetup = {
  plan: {
    tags: new Set(data.tags),
    groups: new Set(data.groups),
    all: data.all,
    metaTags: new Set(data.metaTags),
    maxTag: data.maxTag,
  },
  stat: data.stat,
  concurrency: data.concurrency,
}

parentPort?.on('message', (message: { id: number; paths: string[] }) => {
  void readBatch(message.paths, setup).then((packed) => {
    parentPort?.postMessage({ id: message.id, batch: packed }, transferList(packed))
  })
})
parentPort?.postMessage({ ready: true })
