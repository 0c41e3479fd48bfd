/**
 * One batch of header reads, as a worker thread (or the main thread) does it, and the compact
 * form in which its results cross between threads: the values of every kept element copied into
 * one buffer that is transferred, not cloned, and plain numbers and strings for the rest.
 */
import { readHeader, readHeaderSync, type FileHeader, type ReadPlan, type DataElement } from '../dicom/read-header.js'
import type { Skip } from './read-headers.js'
import { toSkip } from './read-headers.js'

/** What reading one path gave: a header, or a skip. */
export type ReadResult = { path: string; header: FileHeader } | { path: string; skip: Skip }

/** How a batch is read. */
export interface BatchSetup {
  plan: ReadPlan
  stat: boolean
  /** Reads in flight in this thread: 1 reads synchronously (fastest on local disks). */
  concurrency: number
}

/**
 * Reads every path of a batch, in order, and packs the results for the trip to the main thread.
 * One read at a time reuses one buffer for every file, copying what each header kept before the
 * next read; several at a time read asynchronously.
 */
export async function readBatch(paths: readonly string[], setup: BatchSetup): Promise<PackedBatch> {
  const packer = new BatchPacker()
  if (setup.concurrency <= 1) {
    const options = { stat: setup.stat, buffer: sharedBuffer }
    for (const path of paths) {
      try {
        packer.add({ path, header: readHeaderSync(path, setup.plan, options) })
      } catch (err) {
        packer.add({ path, skip: toSkip(path, err) })
      }
    }
    return packer.finish()
  }
  const options = { stat: setup.stat }
  const results = new Array<ReadResult>(paths.length)
  let next = 0
  const lane = async () => {
    while (next < paths.length) {
      const i = next++
      const path = paths[i]
      try {
        results[i] = { path, header: await readHeader(path, setup.plan, options) }
      } catch (err) {
        results[i] = { path, skip: toSkip(path, err) }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(setup.concurrency, paths.length) }, lane))
  for (const result of results) packer.add(result)
  return packer.finish()
}

/** The first-chunk buffer of this thread's synchronous reads. */
const sharedBuffer = Buffer.allocUnsafe(8192)

/**
 * A batch's results as they cross threads: typed arrays (transferred, not cloned) and a few
 * strings. Paths do not travel back: results come in the order of the batch's paths.
 */
export interface PackedBatch {
  /** Per file: kind (0 header, 1 skip), bytesRead, size, mtime (NaN when absent), flags, transfer syntax index, first span, span count. */
  files: Float64Array
  /** Per kept element: tag, VR (two bytes), start, end in `values`, sequence encoding (0 none, 1 explicit, 2 implicit). */
  spans: Uint32Array
  values: Uint8Array
  /** Distinct transfer syntax UIDs of the batch. */
  syntaxes: string[]
  /** The skipped files, by index in the batch. */
  skips: { index: number; skip: Skip }[]
}

const FILE_FIELDS = 8
const SPAN_FIELDS = 5
const LITTLE = 1
const EXPLICIT = 2

/** Packs results one by one, copying the kept values at once (their buffer is about to be reused). */
class BatchPacker {
  private readonly files: number[] = []
  private readonly spans: number[] = []
  private readonly syntaxes: string[] = []
  private readonly skips: { index: number; skip: Skip }[] = []
  private values = Buffer.allocUnsafe(64 * 1024)
  private used = 0
  private count = 0

  add(r: ReadResult): void {
    const index = this.count++
    if ('skip' in r) {
      this.skips.push({ index, skip: r.skip })
      this.files.push(1, 0, NaN, NaN, 0, -1, 0, 0)
      return
    }
    const h = r.header
    const firstSpan = this.spans.length / SPAN_FIELDS
    for (const e of h.elements.values()) {
      this.reserve(e.value.length)
      this.values.set(e.value, this.used)
      const sequence = e.explicit === undefined ? 0 : e.explicit ? 1 : 2
      const vr = (e.vr.charCodeAt(0) << 8) | e.vr.charCodeAt(1)
      this.spans.push(e.tag, vr, this.used, this.used + e.value.length, sequence)
      this.used += e.value.length
    }
    let syntax = -1
    if (h.transferSyntaxUID !== undefined) {
      syntax = this.syntaxes.indexOf(h.transferSyntaxUID)
      if (syntax < 0) syntax = this.syntaxes.push(h.transferSyntaxUID) - 1
    }
    const flags = (h.littleEndian ? LITTLE : 0) | (h.explicitVR ? EXPLICIT : 0)
    const mtime = h.mtime ? h.mtime.getTime() : NaN
    this.files.push(0, h.bytesRead, h.size ?? NaN, mtime, flags, syntax, firstSpan, h.elements.size)
  }

  private reserve(length: number): void {
    if (this.used + length <= this.values.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.values.length * 2, this.used + length))
    this.values.copy(grown, 0, 0, this.used)
    this.values = grown
  }

  finish(): PackedBatch {
    return {
      files: Float64Array.from(this.files),
      spans: Uint32Array.from(this.spans),
      values: Uint8Array.from(this.values.subarray(0, this.used)),
      syntaxes: this.syntaxes,
      skips: this.skips,
    }
  }
}

/** The buffers to transfer with a batch. */
export function transferList(batch: PackedBatch): ArrayBuffer[] {
  return [batch.files.buffer, batch.spans.buffer, batch.values.buffer] as ArrayBuffer[]
}

/** Packs results that are already read (tests, and callers outside a worker). */
export function packBatch(results: readonly ReadResult[]): PackedBatch {
  const packer = new BatchPacker()
  for (const r of results) packer.add(r)
  return packer.finish()
}

/** The results of a batch, given the paths it was sent with. */
export function unpackBatch(paths: readonly string[], batch: PackedBatch): ReadResult[] {
  const { files, spans, values } = batch
  const results = new Array<ReadResult>(paths.length)
  for (const { index, skip } of batch.skips) results[index] = { path: paths[index], skip }
  const view = Buffer.from(values.buffer, values.byteOffset, values.byteLength)
  for (let i = 0; i < paths.length; i++) {
    const f = i * FILE_FIELDS
    if (files[f] !== 0) continue
    const elements = new Map<number, DataElement>()
    const first = files[f + 6]
    const end = first + files[f + 7]
    for (let k = first; k < end; k++) {
      const at = SPAN_FIELDS * k
      const tag = spans[at]
      const vr = spans[at + 1]
      const element: DataElement = {
        tag,
        vr: String.fromCharCode(vr >> 8, vr & 0xff),
        value: view.subarray(spans[at + 2], spans[at + 3]),
      }
      if (spans[at + 4] !== 0) element.explicit = spans[at + 4] === 1
      elements.set(tag, element)
    }
    const flags = files[f + 4]
    results[i] = {
      path: paths[i],
      header: {
        elements,
        bytesRead: files[f + 1],
        size: Number.isNaN(files[f + 2]) ? undefined : files[f + 2],
        mtime: Number.isNaN(files[f + 3]) ? undefined : new Date(files[f + 3]),
        littleEndian: (flags & LITTLE) !== 0,
        explicitVR: (flags & EXPLICIT) !== 0,
        transferSyntaxUID: files[f + 5] < 0 ? undefined : batch.syntaxes[files[f + 5]],
      },
    }
  }
  return results
}
