// What unattended runs rely on: JSON logs, a failure budget, and --since; real processes.
import t from 'tap'
import { copyFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseFailureLimit, parseSince } from '../src/commands/common.js'
import { ROOT, parseCsv, runCli } from './fixtures/cli.js'

const SAMPLE = join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm')

/** One good file, one cut inside its header, one text file. */
function mixed(dir: string): void {
  copyFileSync(SAMPLE, join(dir, 'good.dcm'))
  const bytes = readFileSync(SAMPLE)
  writeFileSync(join(dir, 'cut.dcm'), bytes.subarray(0, bytes.indexOf(Buffer.from('HEAD')) + 2))
  writeFileSync(join(dir, 'notes.txt'), 'not DICOM')
}

t.test('--log-format json: one object per event on stderr, CSV alone on stdout', async (t) => {
  const dir = t.testdir({})
  mixed(dir)
  const r = await runCli(['extract', dir, '-k', 'SliceLocation', '--log-format', 'json'])
  t.equal(r.code, 65)
  t.same(parseCsv(r.stdout), [['SliceLocation'], ['60']])
  const events = r.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  t.same(
    events.map((e) => e.event),
    ['start', 'failed', 'summary'],
  )
  t.match(events[0], { inputs: [dir], output: '-', pid: Number })
  t.match(events[1], { path: join(dir, 'cut.dcm'), code: 'E_TRUNCATED', reason: /file ends inside element/ })
  t.match(events[2], { listed: 3, rows: 1, ignored: 1, failed: 1, exitCode: 65, elapsedMs: Number })
  for (const e of events) t.match(e.time, /^\d{4}-\d\d-\d\dT/, `${e.event} has a time`)
  const fatal = await runCli(['extract', '/no/such', '-k', 'Modality', '--log-format', 'json'])
  t.equal(fatal.code, 66)
  const lines = fatal.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  t.match(lines.at(-1), { event: 'error', code: 'E_NO_INPUT', message: /no such file/ }, 'fatal errors too')
})

t.test('--max-failures: a budget of failed files before exit code 65', async (t) => {
  const dir = t.testdir({})
  mixed(dir)
  const cases: [string[], number][] = [
    [[], 65],
    [['--max-failures', '1'], 0],
    [['--max-failures', '0'], 65],
    [['--max-failures', '60%'], 0],
    [['--max-failures', '10%'], 65],
    [['--max-failures', 'many'], 64],
  ]
  for (const [flags, code] of cases) {
    const r = await runCli(['extract', dir, '-k', 'SliceLocation', ...flags])
    t.equal(r.code, code, `${flags.join(' ') || 'default'}: exit ${code}`)
    if (code !== 64) t.match(r.stderr, /failed: .*cut\.dcm/, 'the failure is reported either way')
  }
  t.same(parseFailureLimit('2.5%'), { percent: 2.5 })
  t.throws(() => parseFailureLimit('2.5'), { code: 'E_USAGE' })
})

t.test('--since: only files modified since a date or within a duration', async (t) => {
  const dir = t.testdir({})
  copyFileSync(SAMPLE, join(dir, 'new.dcm'))
  copyFileSync(SAMPLE, join(dir, 'old.dcm'))
  const longAgo = new Date('2020-01-01T00:00:00Z')
  utimesSync(join(dir, 'old.dcm'), longAgo, longAgo)
  for (const since of ['7d', '2021-06-01']) {
    const r = await runCli(['extract', dir, '-k', 'path', '--since', since])
    t.equal(r.code, 0)
    t.same(parseCsv(r.stdout), [['path'], [join(dir, 'new.dcm')]], `--since ${since}`)
    t.match(r.stderr, /1 files listed \(1 older than --since left out\)/)
  }
  const named = await runCli(['extract', join(dir, 'old.dcm'), '-k', 'path', '--since', '1h', '--allow-empty'])
  t.same(parseCsv(named.stdout), [['path']], 'named files are filtered too')
  // Issue 10: every file filtered out is no file found (exit 66), unless --allow-empty.
  const none = await runCli(['extract', join(dir, 'old.dcm'), '-k', 'path', '--since', '1h'])
  t.equal(none.code, 66)
  t.match(none.stderr, /no files found under .*old\.dcm \(1 older than --since\)/)
  const now = Date.parse('2026-11-24T12:00:00Z')
  t.same(parseSince('24h', now), new Date('2026-11-23T12:00:00Z'))
  t.same(parseSince('2w', now), new Date('2026-11-10T12:00:00Z'))
  t.same(parseSince('2026-11-01T06:00Z', now), new Date('2026-11-01T06:00:00Z'))
  t.throws(() => parseSince('last tuesday', now), { code: 'E_USAGE', message: /--since must be a date/ })
})
