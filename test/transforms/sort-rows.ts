import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { compareValues as compareCells } from '../../src/values.js'
import { fanIn, sortRows, sortRowsInMemory, type SortInfo } from '../../src/transforms/sort-rows.js'
import { CLI, ROOT } from '../fixtures/cli.js'

t.test('cells: numbers by value, text naturally, empty last', async (t) => {
  const cases: [string, string, number][] = [
    ['2', '10', -1],
    ['-66.25', '-7', -1],
    ['1e2', '99', 1],
    ['1.0', '1', 1],
    ['IM2', 'IM10', -1],
    ['5', 'abc', -1],
    ['', '0', 1],
    ['a', '', -1],
    ['x', 'x', 0],
  ]
  for (const [a, b, sign] of cases) t.equal(Math.sign(compareCells(a, b)), sign, `${a} vs ${b}`)
})

t.test('rows: multi-key, stable, descending keeps empty cells last', async (t) => {
  const rows = [
    ['s2', '10', 'a'],
    ['s1', '', 'b'],
    ['s1', '2.5', 'c'],
    ['s2', '-5', 'd'],
    ['s1', '2.5', 'e'],
    ['s1', '-1', 'f'],
  ]
  t.same(
    sortRowsInMemory(
      rows.map((r) => [...r]),
      [
        { index: 0, descending: false },
        { index: 1, descending: false },
      ],
    ).map((r) => r[2]),
    ['f', 'c', 'e', 'b', 'd', 'a'],
  )
  t.same(
    sortRowsInMemory(
      rows.map((r) => [...r]),
      [{ index: 1, descending: true }],
    ).map((r) => r[2]),
    ['a', 'c', 'e', 'f', 'd', 'b'],
    'descending: equal keys keep their order, empty last',
  )
})

t.test('as a stream it emits every row once, sorted', async (t) => {
  const input = Array.from({ length: 1000 }, (_, i) => [String((i * 7919) % 1000)])
  const out: string[][] = []
  for await (const row of Readable.from(input).compose(sortRows([{ index: 0, descending: false }])))
    out.push(row as string[])
  t.same(
    out.map((r) => Number(r[0])),
    Array.from({ length: 1000 }, (_, i) => i),
  )
})

// Issue 5: the sorter in bounded memory spills sorted runs to disk and merges them.

/** Rows of random cells with many ties: numbers, text, empty, non-ASCII, newlines and quotes. */
function randomRows(count: number, seed: number): string[][] {
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]
  const texts = ['', 'a', 'B', 'IM2', 'IM10', '1', '01', '1.0', '-3', '2e1', 'é', '山田^太郎', 'line\nbreak', '"q",']
  return Array.from({ length: count }, (_, i) => [
    pick(texts),
    String(Math.floor(next() * 40) - 20),
    pick(['x', '', 'y', String(next())]),
    String(i),
  ])
}

const KEYS = [
  { index: 0, descending: false },
  { index: 1, descending: true },
  { index: 2, descending: false },
]

const drain = () => new Writable({ objectMode: true, write: (_row, _encoding, callback) => callback() })

t.test('the external sort gives exactly the in-memory sort, however many runs', async (t) => {
  const rows = randomRows(20000, 1)
  const expected = sortRowsInMemory(
    rows.map((r) => [...r]),
    KEYS,
  )
  const dir = t.testdir({})
  const budgets: [string, number][] = [
    ['16 KiB: hundreds of runs, merged two at a time first', 16 * 1024],
    ['1 MiB: a few runs, one merge', 1024 * 1024],
    ['64 MiB: all in memory', 64 * 1024 * 1024],
  ]
  const runs: SortInfo[] = []
  for (const [name, memoryBytes] of budgets) {
    const tempDir = join(dir, String(memoryBytes))
    mkdirSync(tempDir)
    const info = { runs: 0, intermediateMerges: 0 }
    const sorted = await Readable.from(rows.map((r) => [...r]))
      .compose(sortRows(KEYS, { memoryBytes, tempDir, info }))
      .toArray()
    t.strictSame(sorted, expected, name)
    t.strictSame(readdirSync(tempDir), [], `${name}: no run left behind`)
    runs.push(info)
  }
  t.ok(runs[0].runs > fanIn(16 * 1024) && runs[0].intermediateMerges > 0, `many runs: ${JSON.stringify(runs[0])}`)
  t.ok(runs[1].runs > 1 && runs[1].intermediateMerges === 0, `a few runs: ${JSON.stringify(runs[1])}`)
  t.strictSame(runs[2], { runs: 0, intermediateMerges: 0 }, 'no run when the rows fit')
})

t.test('runs are removed when the input fails, and when the output does', async (t) => {
  const tempDir = t.testdir({})
  const info = { runs: 0, intermediateMerges: 0 }
  let sent = 0
  const failingInput = new Readable({
    objectMode: true,
    read() {
      if (sent === 5000) this.destroy(new Error('the reader failed'))
      else this.push([String(sent++ % 13), 'x'.repeat(50)])
    },
  })
  await t.rejects(pipeline(failingInput, sortRows(KEYS, { memoryBytes: 16 * 1024, tempDir, info }), drain()), {
    message: 'the reader failed',
  })
  t.ok(info.runs > 0, `runs were written: ${info.runs}`)
  t.strictSame(readdirSync(tempDir), [], 'and removed')

  let taken = 0
  const failingOutput = new Writable({
    objectMode: true,
    write: (_row, _encoding, callback) => callback(++taken === 100 ? new Error('the disk is full') : null),
  })
  const merging = { runs: 0, intermediateMerges: 0 }
  await t.rejects(
    pipeline(
      Readable.from(randomRows(5000, 2)),
      sortRows(KEYS, { memoryBytes: 16 * 1024, tempDir, info: merging }),
      failingOutput,
    ),
    { message: 'the disk is full' },
  )
  t.ok(merging.runs > 0, 'it failed while merging')
  t.strictSame(readdirSync(tempDir), [], 'runs removed')
})

t.test('the output follows backpressure: rows are emitted as they are taken', async (t) => {
  const sorter = sortRows(KEYS, { memoryBytes: 16 * 1024, tempDir: t.testdir({}) })
  let most = 0
  const slow = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(_row, _encoding, callback) {
      most = Math.max(most, sorter.readableLength)
      setImmediate(callback)
    },
  })
  await pipeline(Readable.from(randomRows(3000, 3)), sorter, slow)
  t.ok(most <= 512, `at most a batch waits in the sorter: ${most} rows`)
})

/** Never leaves a child running, whatever the test's outcome. */
function reap(t: Test, child: ChildProcess): void {
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
}

/** Polls until `ready()` is true; fails if the child ends first. */
async function whenReady(child: ChildProcess, ready: () => boolean): Promise<void> {
  let ended = false
  child.once('exit', () => (ended = true))
  while (!ready()) {
    if (ended) throw new Error('the process ended before it was ready')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The run files under a temporary folder's etl-sort-* folders. */
const runFiles = (tmp: string) =>
  readdirSync(tmp)
    .filter((name) => name.startsWith('etl-sort-'))
    .flatMap((name) => readdirSync(join(tmp, name)))

const closed = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )

t.test('SIGINT and SIGTERM mid-sort leave no run behind: etl run', async (t) => {
  const dir = t.testdir({ tmp: {} })
  const sample = join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm')
  for (let i = 0; i < 20000; i++) {
    if (i % 1000 === 0) mkdirSync(join(dir, 'in', `S${i / 1000}`), { recursive: true })
    linkSync(sample, join(dir, 'in', `S${Math.floor(i / 1000)}`, `IM${i}`))
  }
  const keywords = ['SOPInstanceUID', 'SeriesInstanceUID', 'StudyInstanceUID', 'ImagePositionPatient']
  writeFileSync(
    join(dir, 'sort.yaml'),
    [
      'source: {paths: [in], threads: 0}',
      `extract: [path, ${keywords.join(', ')}, ImageOrientationPatient, PatientName, StudyDescription]`,
      'sort: {by: [SOPInstanceUID, path], memory_mb: 1}',
    ].join('\n'),
  )
  const tmp = join(dir, 'tmp')
  // A second Ctrl-C makes etl exit at once (process.exit): the runs go at exit.
  for (const [signals, code] of [
    [['SIGINT'], 130],
    [['SIGTERM'], 143],
    [['SIGINT', 'SIGINT'], 130],
  ] as const) {
    const child = spawn(process.execPath, [CLI, 'run', join(dir, 'sort.yaml')], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: 'ignore',
    })
    reap(t, child)
    await whenReady(child, () => runFiles(tmp).length >= 1)
    for (const signal of signals) child.kill(signal)
    t.strictSame(await closed(child), { code, signal: null }, `${signals.join(', ')}: exit ${code}`)
    t.strictSame(readdirSync(tmp), [], `${signals.join(', ')}: the temporary folder is empty`)
  }
})
