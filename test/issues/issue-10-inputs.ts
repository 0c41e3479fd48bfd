// Issue 10, "trust under attack": inputs. Real files in a temporary folder, the real CLI.
import t from 'tap'
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, parseCsv, runCli } from '../fixtures/cli.js'

const SERIES = join(ROOT, 'samples/PAT001/STUDY_20240312')
const LOCALIZER = join(SERIES, 'SER001_LOCALIZER/IM00001.dcm')
const CHEST = join(SERIES, 'SER003_CHEST/IM00010')

t.test('a Latin-1 file name and the UTF-8 name it decodes like give two rows, each its own data', async (t) => {
  const dir = t.testdir({ in: {} })
  // M\xfcller.dcm in Latin-1 (4d fc 6c ...), and the UTF-8 name Node's decoding makes of it.
  copyFileSync(LOCALIZER, Buffer.from(`${dir}/in/M\xfcller.dcm`, 'latin1'))
  copyFileSync(CHEST, join(dir, 'in/M\ufffdller.dcm'))
  copyFileSync(CHEST, join(dir, 'in/a\\b.dcm'))
  const expected = [
    ['path', 'SeriesNumber', 'SeriesDescription'],
    [`${dir}/in/M\\xfcller.dcm`, '1', 'Topogram 0.6 T20f'],
    [`${dir}/in/M\ufffdller.dcm`, '3', 'Thorax 3.0 B30f'],
    [`${dir}/in/a\\\\b.dcm`, '3', 'Thorax 3.0 B30f'],
  ]
  const columns = ['-k', 'path', '-k', 'SeriesNumber', '-k', 'SeriesDescription']
  const errors = ['--errors', join(dir, 'errors.csv')]
  for (const input of [join(dir, 'in'), `${dir}/in/*.dcm`]) {
    const r = await runCli(['extract', input, ...columns, ...errors])
    t.equal(r.code, 0, r.stderr)
    t.same(parseCsv(r.stdout).sort(), expected.sort(), `${input}: each file its own row`)
    t.equal(readFileSync(join(dir, 'errors.csv'), 'utf8'), 'path,outcome,code,reason\n')
  }
  // A Latin-1 name that fails is reported under its unambiguous name, on stderr and in --errors.
  const bad = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')])
  writeFileSync(Buffer.from(`${dir}/in/Stra\xdfe.dcm`, 'latin1'), bad)
  const r = await runCli(['extract', join(dir, 'in'), ...columns, ...errors])
  t.equal(r.code, 65)
  t.match(r.stderr, `etl: failed: ${dir}/in/Stra\\xdfe.dcm: `)
  t.match(parseCsv(readFileSync(join(dir, 'errors.csv'), 'utf8'))[1], [`${dir}/in/Stra\\xdfe.dcm`, 'failed'])
})

/** The rows of the two colliding names, sorted. */
const mine = (stdout: string) =>
  parseCsv(stdout)
    .filter((r) => r[0].includes('ller'))
    .sort()

t.test('a Latin-1 name read in a reader thread', async (t) => {
  const dir = t.testdir({ in: {} })
  // More files than the main thread reads alone (256), the two names among the last.
  for (let i = 0; i < 300; i++) copyFileSync(CHEST, join(dir, 'in', `IM${String(i).padStart(3, '0')}`))
  mkdirSync(join(dir, 'in/z'))
  copyFileSync(LOCALIZER, Buffer.from(`${dir}/in/z/M\xfcller.dcm`, 'latin1'))
  copyFileSync(CHEST, join(dir, 'in/z/M\ufffdller.dcm'))
  const r = await runCli(['extract', join(dir, 'in'), '-k', 'path', '-k', 'SeriesNumber', '--threads', '1'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /302 files listed, 302 rows written/)
  t.same(mine(r.stdout), [
    [`${dir}/in/z/M\\xfcller.dcm`, '1'],
    [`${dir}/in/z/M\ufffdller.dcm`, '3'],
  ])
})

t.test('a Latin-1 name known from the state of an incremental run', async (t) => {
  const dir = t.testdir({ in: {} })
  copyFileSync(LOCALIZER, Buffer.from(`${dir}/in/M\xfcller.dcm`, 'latin1'))
  copyFileSync(CHEST, join(dir, 'in/M\ufffdller.dcm'))
  const args = ['extract', join(dir, 'in'), '-k', 'path', '-k', 'SeriesNumber', '--state', join(dir, 'state.jsonl')]
  const first = await runCli(args)
  t.equal(first.code, 0, first.stderr)
  const again = await runCli(args)
  t.match(again.stderr, /2 unchanged, not read/, 'both names found unchanged')
  t.same(mine(again.stdout), [
    [`${dir}/in/M\\xfcller.dcm`, '1'],
    [`${dir}/in/M\ufffdller.dcm`, '3'],
  ])
})

t.test('a glob whose base does not exist exits 66 and leaves the output as it was', async (t) => {
  const dir = t.testdir({ 'dose.csv': 'previous,output\n' })
  const r = await runCli(['extract', join(dir, 'no-such/*.dcm'), '-k', 'path', '-o', join(dir, 'dose.csv')])
  t.equal(r.code, 66)
  t.match(r.stderr, /no-such \(the folder it is matched in\): no such file or directory/)
  t.equal(readFileSync(join(dir, 'dose.csv'), 'utf8'), 'previous,output\n')
})

t.test('a folder named ser[1] is that folder, not the ser1 beside it; \\[ escapes', async (t) => {
  const dir = t.testdir({ 'ser[1]': {}, ser1: {} })
  copyFileSync(LOCALIZER, join(dir, 'ser[1]/IM1.dcm'))
  copyFileSync(CHEST, join(dir, 'ser1/IM2.dcm'))
  for (const pattern of ['ser[1]/*.dcm', 'ser\\[1\\]/*.dcm']) {
    const r = await runCli(['extract', pattern, '-k', 'path'], { cwd: dir })
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, 'path\nser[1]/IM1.dcm\n', pattern)
  }
})

t.test('no file found: exit 66 with E_NO_FILES, outputs, errors and state untouched; --allow-empty', async (t) => {
  const dir = t.testdir({ in: {}, 'dose.csv': 'previous,output\n', 'errors.csv': 'previous,errors\n' })
  copyFileSync(CHEST, join(dir, 'in/IM1'))
  const args = ['extract', join(dir, 'in'), '-k', 'SeriesNumber', '-o', join(dir, 'out.csv')]
  const files = ['--errors', join(dir, 'errors.csv'), '--state', join(dir, 'state.jsonl')]
  t.equal((await runCli([...args, ...files])).code, 0, 'a first run writes output and state')
  const before = ['out.csv', 'errors.csv', 'state.jsonl'].map((f) => readFileSync(join(dir, f)))
  renameSync(join(dir, 'in/IM1'), join(dir, 'IM1')) // the share is gone
  const cases: [string, string[], RegExp][] = [
    ['an empty folder', args, /^etl: no files found under .*\/in\n$/],
    ['a pattern that matches nothing', ['extract', join(dir, '*.none'), ...args.slice(2)], /no files found under/],
    ['everything older than --since', [...args, '--since', '2999-01-01'], /no files found/],
  ]
  renameSync(join(dir, 'IM1'), join(dir, 'in/IM1'))
  for (const [what, command, stderr] of cases) {
    if (what === 'an empty folder') renameSync(join(dir, 'in/IM1'), join(dir, 'IM1'))
    const r = await runCli([...command, ...files])
    if (what === 'an empty folder') renameSync(join(dir, 'IM1'), join(dir, 'in/IM1'))
    t.equal(r.code, 66, what)
    t.match(r.stderr, stderr, what)
    t.equal(r.stdout, '', `${what}: nothing on stdout`)
    const after = ['out.csv', 'errors.csv', 'state.jsonl'].map((f) => readFileSync(join(dir, f)))
    t.same(after, before, `${what}: output, errors file and state unchanged, byte for byte`)
  }
  const json = await runCli([...cases[1][1], '--log-format', 'json'])
  t.match(JSON.parse(json.stderr.trim().split('\n').at(-1) as string), { event: 'error', code: 'E_NO_FILES' })

  const allowed = await runCli([...cases[1][1], ...files, '--allow-empty'])
  t.equal(allowed.code, 0, '--allow-empty')
  t.match(allowed.stderr, /^etl: no files found under .*\*\.none\netl: 0 files listed/)
  t.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), 'SeriesNumber\n', 'the header alone')
  t.same(readFileSync(join(dir, 'state.jsonl')), before[2], 'the state keeps what it knew')

  writeFileSync(join(dir, 'p.yaml'), `source:\n  paths: ['*.none']\n  allow_empty: true\nextract: [SeriesNumber]\n`)
  const run = await runCli(['run', join(dir, 'p.yaml')])
  t.equal(run.code, 0, 'source.allow_empty in a pipeline')
  t.equal(run.stdout, 'SeriesNumber\n')
  const strict = await runCli(['run', join(dir, 'p.yaml'), '--no-allow-empty'])
  t.equal(strict.code, 66, '--no-allow-empty overrides it')
})
