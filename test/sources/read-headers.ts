import t from 'tap'
import type { Row, SourceRecord } from '../../src/records.js'
import { rowText } from '../../src/values.js'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { EtlError } from '../../src/errors.js'
import type { FileHeader } from '../../src/dicom/read-header.js'
import { planRead } from '../../src/dicom/read-plan.js'
import type { HeaderRecord, Skip } from '../../src/records.js'
import { newReadInfo, readHeaders } from '../../src/sources/read-headers.js'
import { DICOM_FILES, NOT_DICOM } from '../fixtures/samples.js'

const plan = planRead([0x00080060])
const header = (): FileHeader => ({
  elements: new Map(),
  transferSyntaxUID: undefined,
  littleEndian: true,
  explicitVR: true,
  bytesRead: 10,
})

/** A reader that resolves after a few turns of the event loop, counting how many run at once. */
function slowReader(state: { running: number; peak: number }) {
  return async (path: string) => {
    state.running++
    state.peak = Math.max(state.peak, state.running)
    for (let i = 0; i < 1 + (path.length % 5); i++) await new Promise((r) => setImmediate(r))
    state.running--
    if (path.endsWith('.txt')) throw new EtlError('E_NOT_DICOM', 'not DICOM')
    if (path.endsWith('.bad')) throw new EtlError('E_TRUNCATED', 'file ends inside the header')
    return header()
  }
}

function collect(into: HeaderRecord[], slow = false): Writable {
  return new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(record: HeaderRecord, _e, cb) {
      into.push(record)
      if (slow) setTimeout(cb, 1)
      else cb()
    },
  })
}

t.test('never more than N reads in flight, however many files are listed', async (t) => {
  for (const concurrency of [1, 3, 16]) {
    const state = { running: 0, peak: 0 }
    const info = newReadInfo()
    const paths = Array.from(
      { length: 500 },
      (_, i) => `/data/IM${i}${i % 50 === 0 ? '.txt' : i % 70 === 0 ? '.bad' : ''}`,
    )
    const out: HeaderRecord[] = []
    const skips: Skip[] = []
    await pipeline(
      Readable.from(paths),
      readHeaders({ plan, concurrency, info, onSkip: (s) => skips.push(s), read: slowReader(state) }),
      collect(out, concurrency === 3),
    )
    t.ok(state.peak <= concurrency, `concurrency ${concurrency}: peak ${state.peak}`)
    t.equal(
      info.maxInFlight,
      Math.min(concurrency, 500),
      `concurrency ${concurrency}: the stage used every slot and no more`,
    )
    t.equal(out.length + skips.length, 500, 'every path gives a row or a skip')
    t.equal(info.ignored, paths.filter((p) => p.endsWith('.txt')).length, 'non-DICOM files are ignored')
    t.equal(info.failed, paths.filter((p) => p.endsWith('.bad')).length, 'broken DICOM files fail')
    t.same(new Set(skips.map((s) => s.outcome)), new Set(['ignored', 'failed']))
    t.match(
      skips.find((s) => s.path === '/data/IM70.bad'),
      { outcome: 'failed', code: 'E_TRUNCATED', reason: /ends inside/ },
    )
  }
})

t.test('results come out in the order paths came in, whatever order the reads complete in', async (t) => {
  for (const concurrency of [1, 7, 32]) {
    const state = { running: 0, peak: 0 }
    const paths = Array.from({ length: 300 }, (_, i) => `/data/${'x'.repeat(i % 7)}IM${i}${i % 40 === 0 ? '.txt' : ''}`)
    const out: HeaderRecord[] = []
    await pipeline(Readable.from(paths), readHeaders({ plan, concurrency, read: slowReader(state) }), collect(out))
    t.same(
      out.map((r) => r.path),
      paths.filter((p) => !p.endsWith('.txt')),
      `concurrency ${concurrency}: input order, skips left out`,
    )
  }
})

t.test('a chunk that is not a path is passed on as it is, in its place', async (t) => {
  const state = { running: 0, peak: 0 }
  const input: (string | { made: number })[] = []
  for (let i = 0; i < 60; i++) input.push(i % 3 === 1 ? { made: i } : `/data/${'x'.repeat(i % 5)}IM${i}`)
  const out: unknown[] = []
  const sink = new Writable({
    objectMode: true,
    write(chunk: unknown, _e, cb) {
      out.push(chunk)
      cb()
    },
  })
  await pipeline(Readable.from(input), readHeaders({ plan, concurrency: 8, read: slowReader(state) }), sink)
  t.same(
    out.map((o) => ((o as HeaderRecord).path !== undefined ? (o as HeaderRecord).path : o)),
    input,
    'paths read and chunks passed on, in input order',
  )
})

t.test('backpressure: a stalled consumer stops the reads', async (t) => {
  const state = { running: 0, peak: 0 }
  let pulled = 0
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < 10000; i++) {
        pulled++
        yield `/data/IM${i}`
      }
    })(),
  )
  const stage = readHeaders({ plan, concurrency: 4, batchSize: 16, read: slowReader(state) })
  source.pipe(stage)
  await new Promise((r) => setTimeout(r, 100))
  // Buffers: the source's (16), the stage's readable side (16) and its reads in flight (4).
  t.ok(pulled <= 16 + 16 + 4 + 2, `nothing reads the output, so only what the buffers hold was pulled (${pulled})`)
  source.destroy()
  stage.destroy()
})

t.test('a reader error that is not an EtlError is a failure, not a crash', async (t) => {
  const skips: Skip[] = []
  await pipeline(
    Readable.from(['/x']),
    readHeaders({
      plan,
      concurrency: 2,
      onSkip: (s) => skips.push(s),
      read: async () => Promise.reject(new RangeError('boom')),
    }),
    collect([]),
  )
  t.match(skips, [{ path: '/x', outcome: 'failed', reason: 'boom' }])
})

t.test('concurrency must be a positive integer', async (t) => {
  t.throws(() => readHeaders({ plan, concurrency: 0 }), {
    message: /Expected `concurrency` to be an integer >= 1, got 0/,
  })
})

t.test('worker threads read the same headers as this thread, every path once', async (t) => {
  const { listFiles } = await import('../../src/sources/list-files.js')
  const { projectRow } = await import('../../src/transforms/project-keywords.js')
  const { parseColumn } = await import('../../src/pipeline/columns.js')
  const columns = ['SOPInstanceUID', 'SliceLocation', 'CTDIvol', 'ImageType', 'TransferSyntaxUID', 'size_bytes'].map(
    (k) => {
      const parsed = parseColumn(k)
      if (!parsed.ok) throw new Error(parsed.message)
      return parsed.column
    },
  )
  const samplePlan = planRead([0x00080018, 0x00201041, 0x00189345, 0x00080008, 0x00020010])
  const run = async (threads: number, concurrency: number) => {
    const info = newReadInfo()
    const rows: string[] = []
    const skips: Skip[] = []
    await pipeline(
      listFiles({ paths: ['samples'] }),
      readHeaders({
        plan: samplePlan,
        concurrency,
        threads,
        inlineFiles: 10,
        batchSize: 8,
        stat: true,
        info,
        onSkip: (s) => skips.push(s),
      }),
      new Writable({
        objectMode: true,
        write(record: HeaderRecord, _e, cb) {
          rows.push(projectRow(record, columns).join(','))
          cb()
        },
      }),
    )
    return { rows: rows.sort(), skips: skips.map((s) => `${s.path} ${s.outcome}`).sort(), info }
  }
  const here = await run(0, 1)
  t.equal(here.rows.length, DICOM_FILES.length, 'a row per DICOM file: the images and the dose report')
  for (const [threads, concurrency] of [
    [2, 2],
    [1, 4],
  ]) {
    const there = await run(threads, concurrency)
    t.equal(there.info.threads, threads, `${threads} workers started`)
    t.same(there.rows, here.rows, `threads ${threads}, concurrency ${concurrency}: same rows`)
    t.same(there.skips, here.skips, `threads ${threads}, concurrency ${concurrency}: same skips`)
    t.equal(there.info.inFlight, 0, 'nothing left in flight')
  }
})

t.test('readRows: rows, warnings and file facts made in worker threads equal those made here', async (t) => {
  const { mkdtempSync, writeFileSync, copyFileSync, readdirSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { listFiles } = await import('../../src/sources/list-files.js')
  const { parseColumn } = await import('../../src/pipeline/columns.js')
  const { readRows } = await import('../../src/sources/read-headers.js')
  const { dataSet, part10, EXPLICIT_LE, TS } = await import('../fixtures/dicom-builder.js')
  const dir = mkdtempSync(join(tmpdir(), 'etl-rows-'))
  t.teardown(async () => (await import('node:fs')).rmSync(dir, { recursive: true, force: true }))
  // Real sample slices, plus files whose Rows (IS) is not a number: each gives a warning.
  const sampleDir = 'samples/PAT001/STUDY_20240312/SER002_HEAD'
  for (const f of readdirSync(sampleDir)) copyFileSync(join(sampleDir, f), join(dir, f))
  for (let i = 0; i < 20; i++) {
    const body = dataSet(
      [
        { tag: 0x00080018, vr: 'UI', value: `1.2.3.${i}` },
        { tag: 0x00280010, vr: 'IS', value: `${i}A` },
      ],
      EXPLICIT_LE,
    )
    writeFileSync(join(dir, `bad${i}.dcm`), part10(body, TS.explicitLE))
  }
  writeFileSync(join(dir, 'notes.txt'), 'not DICOM\n')
  const columns = ['path', 'SOPInstanceUID', 'SliceLocation', 'CTDIvol', 'Rows', 'ImageType', 'size_bytes'].map((k) => {
    const parsed = parseColumn(k)
    if (!parsed.ok) throw new Error(parsed.message)
    return parsed.column
  })
  const run = async (threads: number, concurrency: number) => {
    const info = newReadInfo()
    const rows: string[] = []
    const warnings: string[] = []
    const facts: string[] = []
    const skips: string[] = []
    await pipeline(
      listFiles({ paths: [dir] }),
      readRows({
        columns,
        concurrency,
        threads,
        inlineFiles: 4,
        batchSize: 8,
        info,
        onSkip: (s) => skips.push(`${s.path} ${s.outcome}`),
        onWarning: (path, message) => warnings.push(`${path}: ${message}`),
        records: true,
      }),
      new Writable({
        objectMode: true,
        write(record: SourceRecord, _e, cb) {
          for (const row of record.rows) {
            facts.push(`${record.path} ${record.size} ${record.sop} ${row.length}`)
            rows.push(rowText(row).join(','))
          }
          cb()
        },
      }),
    )
    return {
      inOrder: [...rows],
      rows: rows.sort(),
      warnings: warnings.sort(),
      facts: facts.sort(),
      skips: skips.sort(),
      info,
    }
  }
  const here = await run(0, 1)
  const files = readdirSync(dir).length - 1
  t.equal(here.rows.length, files, 'a row per DICOM file')
  t.equal(here.warnings.length, 20, 'a warning per invalid Rows value')
  t.match(here.warnings[0], /bad\d+\.dcm: \(0028,0010\) IS value "\d+A" is not a valid number; left empty/)
  t.match(
    here.facts.find((f) => f.includes('bad3.dcm')),
    /bad3\.dcm \d+ 1\.2\.3\.3 7$/,
    'facts: size and SOP UID',
  )
  t.same(here.skips, [`${join(dir, 'notes.txt')} ignored`])
  for (const [threads, concurrency] of [
    [1, 1],
    [2, 2],
    [1, 4],
  ]) {
    const there = await run(threads, concurrency)
    const what = `threads ${threads}, concurrency ${concurrency}`
    t.equal(there.info.threads, threads, `${what}: workers started`)
    t.same(there.rows, here.rows, `${what}: same rows`)
    t.same(there.inOrder, here.inOrder, `${what}: in the same order`)
    t.same(there.warnings, here.warnings, `${what}: same warnings`)
    t.same(there.facts, here.facts, `${what}: same facts`)
    t.same(there.skips, here.skips, `${what}: same skips`)
    t.equal(there.info.read, here.info.read)
    t.equal(there.info.inFlight, 0, `${what}: nothing left in flight`)
  }
})

t.test('a prestarted reader thread is adopted by the next stage that needs one', async (t) => {
  const { readRows } = await import('../../src/sources/read-headers.js')
  const { prestartReaders, spareReaders } = await import('../../src/sources/reader-threads.js')
  const { listFiles } = await import('../../src/sources/list-files.js')
  const { parseColumn } = await import('../../src/pipeline/columns.js')
  const parsed = parseColumn('SliceLocation')
  if (!parsed.ok) throw new Error(parsed.message)
  prestartReaders(1)
  t.equal(spareReaders(), 1)
  // Give the thread time to load, as the CLI's start-up does.
  await new Promise((r) => setTimeout(r, 300))
  const info = newReadInfo()
  let rows = 0
  await pipeline(
    listFiles({ paths: ['samples'] }),
    readRows({ columns: [parsed.column], concurrency: 1, threads: 1, inlineFiles: 0, batchSize: 4, info }),
    new Writable({
      objectMode: true,
      write(_row, _e, cb) {
        rows++
        cb()
      },
    }),
  )
  t.equal(rows, DICOM_FILES.length, 'every sample DICOM file gives a row: each slice and the dose report')
  t.equal(info.threads, 1)
  t.equal(spareReaders(), 0, 'the stage took the prestarted thread')
  t.equal(info.ignored, NOT_DICOM.length, 'the non-DICOM samples are ignored')
})

t.test('issue 10: a header crosses threads with its damage', async (t) => {
  const { packBatch, unpackBatch } = await import('../../src/sources/read-batch.js')
  const header: FileHeader = {
    elements: new Map([[0x00080060, { tag: 0x00080060, vr: 'CS', value: Buffer.from('CT') }]]),
    transferSyntaxUID: undefined,
    littleEndian: true,
    explicitVR: true,
    bytesRead: 300,
    damage: { tag: 0x00180050, at: 246, reason: 'element (0018,0050) at byte 246 has no valid VR' },
  }
  const [result] = unpackBatch(['a.dcm'], packBatch([{ path: 'a.dcm', header }]))
  t.same('header' in result && result.header.damage, header.damage)
})

t.test(
  'readRows with where: rows tested where they are made, cut to the extracted columns, in threads too',
  async (t) => {
    const { listFiles } = await import('../../src/sources/list-files.js')
    const { parseColumn } = await import('../../src/pipeline/columns.js')
    const { resolveWhere } = await import('../../src/pipeline/where-columns.js')
    const { readRows } = await import('../../src/sources/read-headers.js')
    const columns = ['path', 'SliceLocation'].map((k) => {
      const parsed = parseColumn(k)
      if (!parsed.ok) throw new Error(parsed.message)
      return parsed.column
    })
    const where = resolveWhere('SeriesDescription ~ /^head/i and SliceLocation >= 40', columns).filter
    if (!where) throw new Error('the filter does not resolve')
    const run = async (threads: number, records: boolean) => {
      const info = newReadInfo()
      const rows: string[] = []
      await pipeline(
        listFiles({ paths: ['samples'] }),
        readRows({
          columns,
          concurrency: Math.max(1, threads),
          threads,
          inlineFiles: 4,
          batchSize: 8,
          info,
          where,
          records,
        }),
        new Writable({
          objectMode: true,
          write(chunk: SourceRecord | Row, _e, cb) {
            for (const row of records ? (chunk as SourceRecord).rows : [chunk as Row]) rows.push(rowText(row).join(','))
            cb()
          },
        }),
      )
      return { rows, info }
    }
    const here = await run(0, false)
    t.equal(here.rows.length, 5, 'the head slices from 40 mm up')
    t.ok(
      here.rows.every((row) => /SER002_HEAD.*,(\d+(\.\d+)?)$/.test(row) && Number(row.split(',')[1]) >= 40),
      'each passes',
    )
    t.equal(here.info.rows, 5)
    t.equal(here.info.filtered, DICOM_FILES.length - 5, 'the others counted, the dose report too')
    for (const [threads, records] of [
      [1, false],
      [2, true],
    ] as const) {
      const there = await run(threads, records)
      t.equal(there.info.threads, threads, `threads ${threads}: workers started`)
      t.strictSame(there.rows, here.rows, `threads ${threads}, records ${records}: the same rows in the same order`)
      t.equal(there.info.filtered, here.info.filtered, `threads ${threads}: the same count`)
    }
  },
)
