/**
 * What a reader thread does with each file, and the compact form in which a batch of results
 * crosses between threads.
 *
 * A reader makes either headers (the planned elements, for callers that want them) or rows
 * (the header projected to typed values right where it was read, so that the thread that reads
 * also decodes: the main thread only lists, sorts and writes). Headers travel as their element
 * values copied into one transferred buffer; rows as a kind byte per value, their numbers in
 * one array and their texts as one string with end offsets. Paths never travel back: results come in the order of the batch.
 */
import { latin1, type DataElement } from '../dicom/data-element.js'
import { readHeader, readHeaderSync, type FileHeader } from '../dicom/read-header.js'
import type { ReadPlan } from '../dicom/read-plan.js'
import type { Damage } from '../dicom/scan-header.js'
import { EtlError } from '../errors.js'
import { displayPath } from '../io/fs-path.js'
import type { FormatOptions } from '../dicom/format-value.js'
import { Tags } from '../dicom/keywords.js'
import type { ColumnSpec } from '../pipeline/spec.js'
import { toSkip, type Row, type Skip } from '../records.js'
import { projectFrames, projectItems, projectValues } from '../transforms/project-keywords.js'
import { keepRows, pathTest, rowTest, whereIndexes } from '../transforms/filter-rows.js'
import type { BoundColumn, WhereExpr } from '../pipeline/where.js'
import type { PathStep } from '../dicom/paths.js'
import { Binary, Decimal, DicomDate, PersonName, type Value } from '../values.js'

/** What a reader does with each file: read its header, and project it to a row if `project` says how. */
export interface ReadJob {
  plan: ReadPlan
  /** fstat each file (size and mtime). */
  stat: boolean
  /** Reads in flight in one thread: 1 reads synchronously (fastest on local disks). */
  concurrency: number
  project?: ProjectJob
}

/** How a reader makes rows. */
export interface ProjectJob {
  columns: readonly ColumnSpec[]
  format?: FormatOptions
  /** Also give each file's facts (size, mtime, inode, SOP Instance UID): what identifies what was read. */
  facts?: boolean
  /** A row per frame of multi-frame images (`rows: per_frame`), not per file. */
  perFrame?: boolean
  /** A row per content item this path reaches (`rows: {per_item: ...}`), not per file. */
  perItem?: PathStep[]
  /**
   * Rows kept: those the filter passes; `columns` then ends with the columns read for the filter
   * alone, cut off the rows kept (`width`: the values a row keeps).
   */
  where?: { expr: WhereExpr<BoundColumn>; width: number }
}

/** What identifies a file as read: its stat and its SOP Instance UID. */
export interface FileFacts {
  size: number
  mtimeMs: number
  /** SOP Instance UID, '' when absent. */
  sop: string
  /** The inode: a path that now names another file (of the same size and mtime) is told by it. */
  ino: number
}

/** What reading one path gave: a header, its rows (one per file, or per frame), or a skip. */
export type ReadResult =
  | { path: string; header: FileHeader }
  | { path: string; rows: Row[]; bytesRead: number; facts?: FileFacts; warnings?: string[]; filtered?: number }
  | { path: string; skip: Skip }

/**
 * Reads one file synchronously as the job says. `buffer` is reused from file to file: a header
 * result's values are views into it, valid until the next read.
 */
export function readOne(path: string, job: ReadJob, buffer?: Buffer): ReadResult {
  const skipped = leftOutByPath(path, job)
  if (skipped) return skipped
  let header: FileHeader
  try {
    header = readHeaderSync(path, job.plan, { stat: job.stat, buffer })
  } catch (err) {
    return { path, skip: toSkip(path, err) }
  }
  return job.project ? rowResult(path, header, job.project) : { path, header }
}

/** Reads one file asynchronously (several in flight hide the latency of slow storage). */
export async function readOneAsync(
  path: string,
  job: ReadJob,
  read: (path: string, plan: ReadPlan, options: { stat: boolean }) => Promise<FileHeader> = readHeader,
): Promise<ReadResult> {
  const skipped = leftOutByPath(path, job)
  if (skipped) return skipped
  let header: FileHeader
  try {
    header = await read(path, job.plan, { stat: job.stat })
  } catch (err) {
    // Out of file descriptors with no read to wait for: the run's fault, not the file's.
    if (err instanceof EtlError && err.code === 'E_FILE_LIMIT') throw err
    return { path, skip: toSkip(path, err) }
  }
  return job.project ? rowResult(path, header, job.project) : { path, header }
}

/** The tests of files by path of the filters met, each made once (jobs cross threads as data). */
const pathTests = new WeakMap<object, ((path: string) => boolean) | null>()

/**
 * The result of a file the filter leaves out by its path alone, before it is opened (a filter
 * that reads only `path` columns); undefined when it must be read. Not for an incremental run,
 * whose state records what each file was.
 */
function leftOutByPath(path: string, job: ReadJob): ReadResult | undefined {
  const project = job.project
  if (!project?.where || project.facts) return undefined
  let test = pathTests.get(project.where)
  if (test === undefined) {
    const paths = project.columns.flatMap((c, i) => (c.source.kind === 'pseudo' && c.source.name === 'path' ? [i] : []))
    test = pathTest(project.where.expr, paths, project.columns.length) ?? null
    pathTests.set(project.where, test)
  }
  if (test === null || test(displayPath(path))) return undefined
  return { path, rows: [], bytesRead: 0, filtered: 1 }
}

/** A column that projects to null at no cost: what the filter's first look leaves out. */
const SKIPPED: ColumnSpec = { name: '', source: { kind: 'pseudo', name: 'frame' } }

/** The columns of a filter's first look, per filter: its own, the others made {@link SKIPPED}. */
const filterColumns = new WeakMap<object, ColumnSpec[]>()

/**
 * Whether a file's one row (per file, not per frame or item) passes the filter, from the cells
 * the filter reads alone: a file it leaves out is projected no further (formatting the other
 * cells is most of the work per file). No warnings: the full projection of a passing file says them.
 */
function passesFirstLook(path: string, header: FileHeader, project: ProjectJob): boolean {
  const where = project.where as NonNullable<ProjectJob['where']>
  let columns = filterColumns.get(where)
  if (!columns) {
    const read = new Set(whereIndexes(where.expr))
    columns = project.columns.map((column, i) => (read.has(i) ? column : SKIPPED))
    filterColumns.set(where, columns)
  }
  return rowTest(where.expr)(projectValues({ path, header }, columns, { format: project.format }))
}

/**
 * A header projected to its rows (and facts); a projection that throws (a bug) is the file's
 * failure, not the run's. The DICOMweb source projects its instances' headers with it too.
 */
export function rowResult(path: string, header: FileHeader, project: ProjectJob): ReadResult {
  let warnings: string[] | undefined
  let rows: Row[]
  let firstLook = false
  try {
    if (project.where && !project.perItem && !project.perFrame && !passesFirstLook(path, header, project)) {
      firstLook = true
    }
    const options = {
      format: project.format,
      onWarning: (_path: string, message: string) => (warnings ??= []).push(message),
    }
    rows = firstLook
      ? []
      : project.perItem
        ? projectItems({ path, header }, project.columns, project.perItem, options)
        : project.perFrame
          ? projectFrames({ path, header }, project.columns, options)
          : [projectValues({ path, header }, project.columns, options)]
  } catch (err) {
    return { path, skip: toSkip(path, err) }
  }
  const result: ReadResult = { path, rows, bytesRead: header.bytesRead }
  if (firstLook) result.filtered = 1
  else if (project.where) result.filtered = keepRows(rows, project.where.expr, project.where.width)
  if (warnings) result.warnings = warnings
  if (project.facts) {
    const sop = header.elements.get(Tags.SOPInstanceUID)
    result.facts = {
      size: header.size ?? 0,
      mtimeMs: header.mtime?.getTime() ?? 0,
      sop: sop ? latin1(sop.value).replace(/[\0 ]+$/, '') : '',
      ino: header.ino ?? 0,
    }
  }
  return result
}

/**
 * Reads every path of a batch, in order, and packs the results for the trip to the main thread.
 * One read at a time reuses one buffer for every file, packing each result before the next
 * read; several at a time read asynchronously.
 */
export async function readBatch(paths: readonly string[], job: ReadJob): Promise<PackedBatch> {
  const packer = new BatchPacker()
  if (job.concurrency <= 1) {
    for (const path of paths) packer.add(readOne(path, job, sharedBuffer))
    return packer.finish()
  }
  const results = new Array<ReadResult>(paths.length)
  let next = 0
  const lane = async () => {
    while (next < paths.length) {
      const i = next++
      results[i] = await readOneAsync(paths[i], job)
    }
  }
  await Promise.all(Array.from({ length: Math.min(job.concurrency, paths.length) }, lane))
  for (const result of results) packer.add(result)
  return packer.finish()
}

/** The first-chunk buffer of this thread's synchronous reads. */
const sharedBuffer = Buffer.allocUnsafe(8192)

/** A batch's results as they cross threads: typed arrays (transferred, not cloned) and a few strings. */
export interface PackedBatch {
  /**
   * Per file: kind, bytesRead, size, mtime (NaN when absent), flags, transfer syntax index, first
   * part, part count, rows left out by the filter.
   */
  files: Float64Array
  /** Per kept element of a header: tag, VR (two bytes), start, end in `values`, sequence encoding (0 none, 1 explicit, 2 implicit). */
  spans: Uint32Array
  values: Uint8Array
  /**
   * The kind of each value of the batch's rows, one after the other, an array's items after it
   * (a row of the state's facts ends with the SOP Instance UID): see {@link ValueKind}.
   */
  kinds: Uint8Array
  /** The numbers of the rows' values (and the lengths of arrays), in order. */
  numbers: Float64Array
  /** The texts of the rows' values, one after the other. */
  text: string
  /** Where each text ends in `text`. */
  cellEnds: Uint32Array
  /** Distinct transfer syntax UIDs of the batch. */
  syntaxes: string[]
  /** The skipped files, by index in the batch. */
  skips: { index: number; skip: Skip }[]
  /** Warnings about values, by index in the batch. */
  warnings: { index: number; message: string }[]
  /** Where headers' data sets became unreadable, by index in the batch. */
  damages: { index: number; damage: Damage }[]
}

const FILE_FIELDS = 9
const SPAN_FIELDS = 5
const LITTLE = 1
const EXPLICIT = 2
const KIND_HEADER = 0
const KIND_SKIP = 1
const KIND_ROW = 2
const KIND_ROW_FACTS = 3

/** How each value of a row travels: its kind, then a number or a text (or, for arrays, a count and the items). */
const enum ValueKind {
  Null,
  Text,
  Number,
  Array,
  Decimal,
  Name,
  DA,
  TM,
  DT,
  Binary,
}

/** Packs results one by one, copying what each keeps at once (its buffer is about to be reused). */
class BatchPacker {
  private readonly files: number[] = []
  private readonly spans: number[] = []
  private readonly cells: string[] = []
  private readonly kinds: number[] = []
  private readonly numbers: number[] = []
  private readonly syntaxes: string[] = []
  private readonly skips: { index: number; skip: Skip }[] = []
  private readonly warnings: { index: number; message: string }[] = []
  private readonly damages: { index: number; damage: Damage }[] = []
  private values = Buffer.allocUnsafe(64 * 1024)
  private used = 0
  private count = 0

  add(r: ReadResult): void {
    const index = this.count++
    if ('skip' in r) {
      this.skips.push({ index, skip: r.skip })
      this.files.push(KIND_SKIP, 0, NaN, NaN, 0, -1, 0, 0, 0)
    } else if ('rows' in r) {
      for (const row of r.rows) for (const value of row) this.addValue(value)
      if (r.warnings) for (const message of r.warnings) this.warnings.push({ index, message })
      const f = r.facts
      if (f) this.addValue(f.sop)
      this.files.push(
        f ? KIND_ROW_FACTS : KIND_ROW,
        r.bytesRead,
        f ? f.size : NaN,
        f ? f.mtimeMs : NaN,
        // Flags are a header's: a row's facts carry the inode there.
        f ? f.ino : 0,
        -1,
        r.rows.length,
        r.rows.length === 0 ? 0 : r.rows[0].length,
        r.filtered ?? 0,
      )
    } else {
      if (r.header.damage) this.damages.push({ index, damage: r.header.damage })
      this.addHeader(r.header)
    }
  }

  private addValue(value: Value): void {
    if (value === null) this.kinds.push(ValueKind.Null)
    else if (typeof value === 'string') {
      this.kinds.push(ValueKind.Text)
      this.cells.push(value)
    } else if (typeof value === 'number') {
      this.kinds.push(ValueKind.Number)
      this.numbers.push(value)
    } else if (Array.isArray(value)) {
      this.kinds.push(ValueKind.Array)
      this.numbers.push(value.length)
      for (const item of value) this.addValue(item)
    } else if (value instanceof Decimal) {
      this.kinds.push(ValueKind.Decimal)
      this.cells.push(value.text)
    } else if (value instanceof PersonName) {
      this.kinds.push(ValueKind.Name)
      this.cells.push(value.stored)
    } else if (value instanceof DicomDate) {
      this.kinds.push(value.vr === 'DA' ? ValueKind.DA : value.vr === 'TM' ? ValueKind.TM : ValueKind.DT)
      this.cells.push(value.stored)
    } else {
      this.kinds.push(ValueKind.Binary)
      const { bytes } = value
      this.cells.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'))
    }
  }

  private addHeader(h: FileHeader): void {
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
    this.files.push(KIND_HEADER, h.bytesRead, h.size ?? NaN, mtime, flags, syntax, firstSpan, h.elements.size, 0)
  }

  private reserve(length: number): void {
    if (this.used + length <= this.values.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.values.length * 2, this.used + length))
    this.values.copy(grown, 0, 0, this.used)
    this.values = grown
  }

  finish(): PackedBatch {
    const cellEnds = new Uint32Array(this.cells.length)
    let end = 0
    for (let i = 0; i < this.cells.length; i++) cellEnds[i] = end += this.cells[i].length
    return {
      files: Float64Array.from(this.files),
      spans: Uint32Array.from(this.spans),
      values: Uint8Array.from(this.values.subarray(0, this.used)),
      kinds: Uint8Array.from(this.kinds),
      numbers: Float64Array.from(this.numbers),
      text: this.cells.join(''),
      cellEnds,
      syntaxes: this.syntaxes,
      skips: this.skips,
      warnings: this.warnings,
      damages: this.damages,
    }
  }
}

/** The buffers to transfer with a batch. */
export function transferList(batch: PackedBatch): ArrayBuffer[] {
  return [
    batch.files.buffer,
    batch.spans.buffer,
    batch.values.buffer,
    batch.kinds.buffer,
    batch.numbers.buffer,
    batch.cellEnds.buffer,
  ] as ArrayBuffer[]
}

/** Packs results that are already read (tests, and callers outside a worker). */
export function packBatch(results: readonly ReadResult[]): PackedBatch {
  const packer = new BatchPacker()
  for (const r of results) packer.add(r)
  return packer.finish()
}

/** The results of a batch, given the paths it was sent with. */
export function unpackBatch(paths: readonly string[], batch: PackedBatch): ReadResult[] {
  const { files, spans, values, kinds, numbers, text, cellEnds } = batch
  const results = new Array<ReadResult>(paths.length)
  // Cursors in kinds, numbers and texts: rows' values come in batch order.
  let k0 = 0
  let n = 0
  let x = 0
  const nextText = (): string => text.slice(x === 0 ? 0 : cellEnds[x - 1], cellEnds[x++])
  const nextValue = (): Value => {
    switch (kinds[k0++] as ValueKind) {
      case ValueKind.Null:
        return null
      case ValueKind.Text:
        return nextText()
      case ValueKind.Number:
        return numbers[n++]
      case ValueKind.Array: {
        const items = new Array<Value>(numbers[n++])
        for (let i = 0; i < items.length; i++) items[i] = nextValue()
        return items
      }
      case ValueKind.Decimal:
        return new Decimal(nextText())
      case ValueKind.Name:
        return new PersonName(nextText())
      case ValueKind.DA:
        return new DicomDate('DA', nextText())
      case ValueKind.TM:
        return new DicomDate('TM', nextText())
      case ValueKind.DT:
        return new DicomDate('DT', nextText())
      case ValueKind.Binary:
        return new Binary(Buffer.from(nextText(), 'latin1'))
    }
  }
  for (const { index, skip } of batch.skips) results[index] = { path: paths[index], skip }
  const view = Buffer.from(values.buffer, values.byteOffset, values.byteLength)
  for (let i = 0; i < paths.length; i++) {
    const f = i * FILE_FIELDS
    const kind = files[f]
    if (kind === KIND_SKIP) continue
    if (kind === KIND_HEADER) {
      results[i] = { path: paths[i], header: unpackHeader(batch, view, f, files[f + 6], files[f + 6] + files[f + 7]) }
      continue
    }
    const rows = new Array<Row>(files[f + 6])
    for (let r = 0; r < rows.length; r++) {
      const row: Row = new Array<Value>(files[f + 7])
      for (let c = 0; c < row.length; c++) {
        // The common kinds inline; the others (and arrays' items) through nextValue.
        const k = kinds[k0] as ValueKind
        if (k === ValueKind.Text) {
          k0++
          row[c] = text.slice(x === 0 ? 0 : cellEnds[x - 1], cellEnds[x++])
        } else if (k === ValueKind.Number) {
          k0++
          row[c] = numbers[n++]
        } else if (k === ValueKind.Null) {
          k0++
          row[c] = null
        } else row[c] = nextValue()
      }
      rows[r] = row
    }
    const result: ReadResult = { path: paths[i], rows, bytesRead: files[f + 1] }
    if (files[f + 8] > 0) result.filtered = files[f + 8]
    if (kind === KIND_ROW_FACTS) {
      result.facts = { size: files[f + 2], mtimeMs: files[f + 3], sop: nextValue() as string, ino: files[f + 4] }
    }
    results[i] = result
  }
  for (const { index, damage } of batch.damages) {
    const result = results[index]
    if ('header' in result) result.header.damage = damage
  }
  for (const { index, message } of batch.warnings) {
    const result = results[index]
    if ('rows' in result) (result.warnings ??= []).push(message)
  }
  return results

  function unpackHeader(batch: PackedBatch, view: Buffer, f: number, first: number, end: number): FileHeader {
    const elements = new Map<number, DataElement>()
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
    return {
      elements,
      bytesRead: files[f + 1],
      size: Number.isNaN(files[f + 2]) ? undefined : files[f + 2],
      mtime: Number.isNaN(files[f + 3]) ? undefined : new Date(files[f + 3]),
      littleEndian: (flags & LITTLE) !== 0,
      explicitVR: (flags & EXPLICIT) !== 0,
      transferSyntaxUID: files[f + 5] < 0 ? undefined : batch.syntaxes[files[f + 5]],
    }
  }
}
