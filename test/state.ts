// Incremental runs with a state file: real processes, real files.
import t from 'tap'
import {
  copyFileSync,
  cpSync,
  existsSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { ROOT, parseCsv, runCli } from './fixtures/cli.js'
import { DICOM_FILES, SAMPLE_FILES } from './fixtures/samples.js'
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const COLUMNS = ['-k', 'SOPInstanceUID', '-k', 'SliceLocation', '-k', 'path', '--sort', 'path']

async function extract(dir: string, ...flags: string[]) {
  const r = await runCli(['extract', join(dir, 'in'), ...COLUMNS, '--state', join(dir, 'state.jsonl'), ...flags], {
    cwd: dir,
  })
  return { ...r, rows: parseCsv(r.stdout) }
}

t.test('a re-run reads only new or changed files and writes what a full run would', async (t) => {
  const dir = t.testdir({})
  cpSync(join(ROOT, 'samples'), join(dir, 'in'), { recursive: true })
  const first = await extract(dir)
  t.equal(first.code, 0, first.stderr)
  t.equal(first.rows.length, 1 + DICOM_FILES.length, 'a header and a row per DICOM file')

  const again = await extract(dir)
  t.same(again.rows, first.rows, 'an unchanged archive: the same output')
  t.match(
    again.stderr,
    `${SAMPLE_FILES.length} files listed (${DICOM_FILES.length} unchanged, not read), ${DICOM_FILES.length} rows written`,
    'and no header read',
  )

  const head = join(dir, 'in/PAT001/STUDY_20240312/SER002_HEAD')
  copyFileSync(join(head, 'IM00001.dcm'), join(dir, 'in/copy-of-IM00001.dcm'))
  rmSync(join(head, 'IM00003.dcm'))
  const later = new Date(Date.now() + 5000)
  utimesSync(join(head, 'IM00002.dcm'), later, later)
  const incremental = await extract(dir)
  // One copy added, one file removed, one changed: the others are not read; still a row per file.
  t.match(incremental.stderr, `(${DICOM_FILES.length - 2} unchanged, not read), ${DICOM_FILES.length} rows written`)
  const full = await extract(dir, '--full')
  t.equal(full.code, 0)
  t.same(incremental.rows, full.rows, 'the same rows as a full run: removed file gone, the copy has its own row')
  t.equal(full.rows.length, 1 + DICOM_FILES.length)
  t.notMatch(full.stderr, /unchanged/, '--full reads everything')
})

t.test('a state made for other columns is not used; a failed run keeps the old state', async (t) => {
  const dir = t.testdir({})
  cpSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD'), join(dir, 'in'), { recursive: true })
  await extract(dir)
  const state = readFileSync(join(dir, 'state.jsonl'), 'utf8')
  const other = await runCli(['extract', join(dir, 'in'), '-k', 'Modality', '--state', join(dir, 'state.jsonl')])
  t.notMatch(other.stderr, /unchanged/, 'other columns: every file is read')
  writeFileSync(join(dir, 'state.jsonl'), state)
  const failed = await runCli([
    'extract',
    join(dir, 'in'),
    ...COLUMNS,
    '--state',
    join(dir, 'state.jsonl'),
    '-o',
    join(dir, 'missing/out.csv'),
  ])
  t.equal(failed.code, 74)
  t.equal(readFileSync(join(dir, 'state.jsonl'), 'utf8'), state, 'the state is written only by a run that succeeds')
})

t.test('state: in a pipeline file, relative to it', async (t) => {
  const dir = t.testdir({
    'p.yaml': `source: {paths: [in]}\nextract: [SOPInstanceUID]\nstate: out/state.jsonl\noutput: {path: out/rows.csv}\n`,
    out: {},
  })
  cpSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD'), join(dir, 'in'), { recursive: true })
  const first = await runCli(['run', join(dir, 'p.yaml')])
  t.equal(first.code, 0, first.stderr)
  const second = await runCli(['run', join(dir, 'p.yaml')])
  t.match(second.stderr, /40 unchanged, not read/)
  t.equal(
    readFileSync(join(dir, 'out/state.jsonl'), 'utf8').split('\n').filter(Boolean).length,
    41,
    'a header line and 40 files',
  )
})

t.test('without a sort, an incremental run writes the CSV of a full run byte for byte', async (t) => {
  const dir = t.testdir({})
  cpSync(join(ROOT, 'samples'), join(dir, 'in'), { recursive: true })
  const unsorted = ['-k', 'SOPInstanceUID', '-k', 'path', '--state', join(dir, 'state.jsonl')]
  const run = (...flags: string[]) => runCli(['extract', join(dir, 'in'), ...unsorted, ...flags], { cwd: dir })
  const first = await run()
  t.equal(first.code, 0, first.stderr)
  const thorax = join(dir, 'in/PAT001/STUDY_20240312/SER003_CHEST')
  copyFileSync(join(thorax, 'IM00010'), join(dir, 'in/PAT001/copy-of-IM00010'))
  rmSync(join(thorax, 'IM00020'))
  const later = new Date(Date.now() + 5000)
  utimesSync(join(thorax, 'IM00030'), later, later)
  const incremental = await run()
  t.match(incremental.stderr, /unchanged, not read\)/)
  const full = await run('--full')
  t.equal(incremental.stdout, full.stdout, 'the same bytes, rows in the same order')
  t.equal(
    incremental.stdout.split('\n').length - 2,
    DICOM_FILES.length,
    'one file gone, one copy added: a row per file',
  )
  const plain = await runCli(['extract', join(dir, 'in'), '-k', 'SOPInstanceUID', '-k', 'path'], { cwd: dir })
  t.equal(incremental.stdout, plain.stdout, 'and the bytes of a run without a state')
})

const CORPUS = join(ROOT, '../shared/corpus')

t.test(
  'issue 10: on ../shared/corpus, a run with a state writes the bytes of a plain run',
  { skip: existsSync(CORPUS) ? false : 'needs ../shared/corpus (CI has it)' },
  async (t) => {
    const dir = t.testdir({})
    const columns = ['-k', 'SOPInstanceUID', '-k', 'Modality', '-k', 'PatientID', '-k', 'path', '--threads', '0']
    const plain = await runCli(['extract', CORPUS, ...columns])
    const state = ['--state', join(dir, 'corpus.state')]
    const first = await runCli(['extract', CORPUS, ...columns, ...state])
    const second = await runCli(['extract', CORPUS, ...columns, ...state])
    t.equal(first.code, plain.code, 'the same exit code')
    t.ok(plain.stdout.split('\n').length > 100, 'over a hundred rows')
    t.equal(first.stdout, plain.stdout, 'the run that writes the state: the same bytes')
    t.equal(second.stdout, plain.stdout, 'the run that uses it: the same bytes (files sharing a SOP Instance UID kept)')
    t.match(second.stderr, /unchanged, not read/)
  },
)

t.test('issue 10: wrong-shaped records are not used: their files are read again, with a warning', async (t) => {
  const dir = t.testdir({})
  cpSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD'), join(dir, 'in'), { recursive: true })
  const first = await extract(dir)
  t.equal(first.code, 0)
  const lines = readFileSync(join(dir, 'state.jsonl'), 'utf8').split('\n')
  const record = JSON.parse(lines[1]) as unknown[]
  const path = record[0] as string
  const broken = [
    lines[0],
    '["only1"]',
    'null',
    '{"a": 1}',
    '[1, 2, 3, 4, 5]',
    JSON.stringify([path, record[1], record[2], record[3], ['too', 'few'], record[5]]),
    JSON.stringify([path, record[1], record[2], record[3], [1, 2, 3], record[5]]),
    JSON.stringify([path, record[1], record[2], record[3], record[4]]),
    'not json at all',
    ...lines.slice(2),
  ]
  writeFileSync(join(dir, 'state.jsonl'), broken.join('\n'))
  const again = await extract(dir)
  t.equal(again.code, 0, again.stderr)
  t.same(again.rows, first.rows, 'the output of a full run')
  t.match(again.stderr, /39 unchanged, not read/, 'the file of the bad record was read')
  t.match(again.stderr, /1 records were not usable \(wrong shape\): their files were read again/)
  const rewritten = readFileSync(join(dir, 'state.jsonl'), 'utf8').split('\n').filter(Boolean)
  t.equal(rewritten.length, 41, 'the new state has one good record per file')
  t.ok(rewritten.slice(1).every((l) => (JSON.parse(l) as unknown[]).length === 6))
})

t.test('issue 10: a state that cannot be used says so; a file that is not a state is never replaced', async (t) => {
  const dir = t.testdir({})
  cpSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD'), join(dir, 'in'), { recursive: true })
  await extract(dir)
  const other = await runCli(['extract', join(dir, 'in'), '-k', 'Modality', '--state', join(dir, 'state.jsonl')])
  t.equal(other.code, 0)
  t.match(
    other.stderr,
    /state\.jsonl: not used: it was made for other columns, cell formats or rows; every file is read/,
  )

  writeFileSync(join(dir, 'results.csv'), 'PatientID\nPAT001\n')
  const mistaken = await runCli(['extract', join(dir, 'in'), '-k', 'Modality', '--state', join(dir, 'results.csv')])
  t.equal(mistaken.code, 64, mistaken.stderr)
  t.match(mistaken.stderr, /state file .*results\.csv is not a state file of etl .*refusing to replace it/)
  t.equal(readFileSync(join(dir, 'results.csv'), 'utf8'), 'PatientID\nPAT001\n', 'the CSV is intact')

  const device = await runCli(['extract', join(dir, 'in'), '-k', 'Modality', '--state', '/dev/zero'])
  t.equal(device.code, 64)
  t.match(device.stderr, /state file \/dev\/zero is not a regular file: refusing to write it/)
  t.equal(existsSync('/dev/zero.lock'), false, 'no lock left beside the device')
})

t.test('issue 10: a state that cannot be written fails the run and leaves every output as it was', async (t) => {
  const dir = t.testdir({ 'out.csv': 'old output\n' })
  cpSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD'), join(dir, 'in'), { recursive: true })
  const first = await runCli(['extract', join(dir, 'in'), '-k', 'Modality', '--state', join(dir, 's.jsonl')])
  t.equal(first.code, 0)
  const state = readFileSync(join(dir, 's.jsonl'))
  writeFileSync(join(dir, 'in/extra.dcm'), readFileSync(join(dir, 'in/IM00001.dcm')))
  // A file size limit of 4 KiB (SIGXFSZ ignored, so a write past it fails with EFBIG, as on a full
  // disk): the CSV (a few bytes a row) fits, the state (paths and rows) does not.
  const script = `trap "" XFSZ; ulimit -f 4; exec "${process.execPath}" dist/cli.js extract "${join(dir, 'in')}" -k Modality -o "${join(dir, 'out.csv')}" --errors "${join(dir, 'err.csv')}" --state "${join(dir, 's.jsonl')}"`
  // Without tap's process-info hook, whose own files would meet the limit too.
  const env = { ...process.env, NODE_OPTIONS: '' }
  const r = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', env })
  t.equal(r.status, 74, `${r.signal} ${r.stderr}`)
  t.match(r.stderr, /cannot write state file .*s\.jsonl: file too large/)
  t.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), 'old output\n', 'the output is as it was')
  t.equal(existsSync(join(dir, 'err.csv')), false, 'no errors file appeared')
  t.same(readFileSync(join(dir, 's.jsonl')), state, 'the state is as it was')
  t.same(
    statSync(dir).isDirectory() && readdirSync(dir).sort(),
    ['in', 'out.csv', 's.jsonl'],
    'no temporary file or lock left',
  )
})

t.test('issue 10: one state for runs from different folders: records are keyed by the absolute path', async (t) => {
  const dir = t.testdir({ A: {}, B: {} })
  const chest = join(ROOT, 'samples/PAT001/STUDY_20240312/SER003_CHEST')
  copyFileSync(join(chest, 'IM00002'), join(dir, 'A/x.dcm'))
  copyFileSync(join(chest, 'IM00004'), join(dir, 'B/x.dcm'))
  const when = new Date('2026-11-01T10:00:00Z')
  for (const f of ['A/x.dcm', 'B/x.dcm']) utimesSync(join(dir, f), when, when)
  const args = ['extract', '.', '-k', 'SOPInstanceUID', '-k', 'SliceLocation', '--state', join(dir, 'shared.jsonl')]
  const a = await runCli(args, { cwd: join(dir, 'A') })
  t.equal(a.code, 0, a.stderr)
  const b = await runCli(args, { cwd: join(dir, 'B') })
  const truth = await runCli(['extract', '.', '-k', 'SOPInstanceUID', '-k', 'SliceLocation'], { cwd: join(dir, 'B') })
  t.equal(b.stdout, truth.stdout, "B's file gives its own row, not A's ./x.dcm from the state")
  t.not(a.stdout, b.stdout)
})

t.test('issue 10: a state with a record line of over 64 MiB: that record is not used, in bounded memory', async (t) => {
  const dir = t.testdir({})
  cpSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD'), join(dir, 'in'), { recursive: true })
  const first = await extract(dir)
  const lines = readFileSync(join(dir, 'state.jsonl'), 'utf8').split('\n')
  const record = JSON.parse(lines[1]) as [string, number, number, string, string[], number]
  // The same file's record, its first cell 65 MiB long: the record is found by its path, then refused.
  const huge = JSON.stringify([
    record[0],
    record[1],
    record[2],
    record[3],
    ['x'.repeat(65 << 20), ...record[4].slice(1)],
    record[5],
  ])
  writeFileSync(join(dir, 'state.jsonl'), [lines[0], huge, ...lines.slice(2)].join('\n'))
  const again = await extract(dir)
  t.equal(again.code, 0, again.stderr)
  t.same(again.rows, first.rows, 'the output of a full run')
  t.match(again.stderr, /39 unchanged, not read/)
  t.match(again.stderr, /1 records were not usable/)
})

t.test('issue 10: a path that leads elsewhere through a link is not taken for the file of its text', async (t) => {
  const dir = t.testdir({ data: { x: {}, y: { sub: {} } }, out: {} })
  const chest = join(ROOT, 'samples/PAT001/STUDY_20240312/SER003_CHEST')
  // Two files of one size and mtime: x/p1.dcm, and y/p1.dcm reached as x/link/../p1.dcm.
  copyFileSync(join(chest, 'IM00002'), join(dir, 'data/x/p1.dcm'))
  copyFileSync(join(chest, 'IM00004'), join(dir, 'data/y/p1.dcm'))
  const when = new Date('2026-11-01T10:00:00Z')
  for (const f of ['data/x/p1.dcm', 'data/y/p1.dcm']) utimesSync(join(dir, f), when, when)
  symlinkSync('../y/sub', join(dir, 'data/x/link'))
  const columns = ['-k', 'SOPInstanceUID', '-k', 'SliceLocation', '-k', 'path', '--state', join(dir, 'out/s.jsonl')]
  const first = await runCli(['extract', 'data/x/link/..', ...columns], { cwd: dir })
  t.equal(first.code, 0, first.stderr)
  const second = await runCli(['extract', 'data/x', ...columns], { cwd: dir })
  const truth = await runCli(['extract', 'data/x', ...columns.slice(0, 6)], { cwd: dir })
  t.equal(second.stdout, truth.stdout, "x/p1.dcm gives its own row, not y's")
  t.notMatch(second.stderr, /unchanged/, 'the record of the other file is not used')
})

t.test('issue 10: the path cells of rows from the state are the paths as this run lists them', async (t) => {
  const dir = t.testdir({})
  cpSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD'), join(dir, 'in'), { recursive: true })
  const args = ['-k', 'SOPInstanceUID', '-k', 'path', '--state', join(dir, 's.jsonl')]
  const relative = await runCli(['extract', 'in', ...args], { cwd: dir })
  t.equal(relative.code, 0)
  const absolute = await runCli(['extract', join(dir, 'in'), ...args], { cwd: dir })
  t.match(absolute.stderr, /40 unchanged, not read/)
  const full = await runCli(['extract', join(dir, 'in'), ...args.slice(0, 4)], { cwd: dir })
  t.equal(absolute.stdout, full.stdout, 'the bytes of a full run, absolute paths and all')
})

t.test('issue 10: a state of an earlier version is not used, with a warning, and written anew', async (t) => {
  const dir = t.testdir({})
  cpSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD'), join(dir, 'in'), { recursive: true })
  await extract(dir)
  const lines = readFileSync(join(dir, 'state.jsonl'), 'utf8').split('\n')
  const header = JSON.parse(lines[0]) as { etl_state: number; signature: string }
  const old = lines
    .slice(1)
    .filter(Boolean)
    .map((l) => JSON.stringify((JSON.parse(l) as unknown[]).slice(0, 5)))
  writeFileSync(join(dir, 'state.jsonl'), [JSON.stringify({ ...header, etl_state: 1 }), ...old, ''].join('\n'))
  const again = await extract(dir)
  t.equal(again.code, 0)
  t.match(again.stderr, /not used: it was made by an earlier version of etl; every file is read/)
  t.equal(
    (JSON.parse(readFileSync(join(dir, 'state.jsonl'), 'utf8').split('\n')[0]) as { etl_state: number }).etl_state,
    3,
    'written in the current version (3: typed values)',
  )
})
