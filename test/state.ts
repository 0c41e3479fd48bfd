// Incremental runs with a state file: real processes, real files.
import t from 'tap'
import { copyFileSync, cpSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, parseCsv, runCli } from './fixtures/cli.js'

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
  t.equal(first.rows.length, 90, 'header and 89 rows')

  const again = await extract(dir)
  t.same(again.rows, first.rows, 'an unchanged archive: the same output')
  t.match(again.stderr, /91 files listed \(89 unchanged, not read\), 89 rows written/, 'and no header read')

  const head = join(dir, 'in/PAT001/STUDY_20240312/SER002_HEAD')
  copyFileSync(join(head, 'IM00001.dcm'), join(dir, 'in/copy-of-IM00001.dcm'))
  rmSync(join(head, 'IM00003.dcm'))
  const later = new Date(Date.now() + 5000)
  utimesSync(join(head, 'IM00002.dcm'), later, later)
  const incremental = await extract(dir)
  t.match(incremental.stderr, /\(87 unchanged, not read, 1 duplicate SOP instances\), 88 rows written/)
  const full = await extract(dir, '--full')
  t.equal(full.code, 0)
  t.same(incremental.rows, full.rows, 'the same rows as a full run: removed file gone, duplicate counted once')
  t.equal(full.rows.length, 89)
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
  t.match(incremental.stderr, /unchanged, not read, 1 duplicate SOP instances/)
  const full = await run('--full')
  t.equal(incremental.stdout, full.stdout, 'the same bytes, rows in the same order')
  t.equal(incremental.stdout.split('\n').length - 2, 88, 'one file gone, a duplicate counted once')
})
