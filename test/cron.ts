// What unattended runs rely on: JSON logs, a failure budget, and --since; real processes.
import t from 'tap'
import { copyFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseFailureLimit, parseSince } from '../src/commands/parse-flags.js'
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

t.test('review finding: --since refuses dates that do not exist and durations beyond any date', async (t) => {
  // Before: 99999999999d gave an Invalid Date (every file "older", exit 66 with a misleading
  // message) and 2026-02-30 was rolled over to March 2 in silence.
  const dir = t.testdir({})
  copyFileSync(SAMPLE, join(dir, 'a.dcm'))
  const cases: [string, RegExp][] = [
    ['99999999999d', /^etl: --since 99999999999d: a duration reaching back before any date\n/],
    ['2026-02-30', /^etl: --since 2026-02-30: no such date or time\n/],
    ['2027-02-29', /^etl: --since 2027-02-29: no such date or time\n/],
    ['2026-13-01', /no such date or time/],
    ['2026-11-01T24:00', /no such date or time/],
    ['2026-11-01T06:60', /no such date or time/],
    ['2026-11-01T06:00+01:60', /no such date or time/],
    ['last tuesday', /^etl: --since must be a date \(2026-11-01, 2026-11-01T06:00\) or a duration/],
  ]
  for (const [since, message] of cases) {
    const r = await runCli(['extract', dir, '-k', 'path', '--since', since, '--threads', '0'])
    t.equal(r.code, 64, `--since ${since}: exit 64`)
    t.equal(r.stdout, '', `--since ${since}: nothing on stdout`)
    t.match(r.stderr, message, `--since ${since}: says why`)
    t.equal(r.stderr.split('\n').length, 3, `--since ${since}: one line and the hint to --help`)
  }
  t.same(parseSince('2028-02-29T23:59:59Z'), new Date('2028-02-29T23:59:59Z'), 'a leap day is a date')
})

t.test('review finding: --since reads a date alone and a date-time without a zone in local time', async (t) => {
  // Before: a date alone was read as UTC midnight and a date-time as local time (JS's rule).
  // In Tokyo (UTC+9, no daylight saving time) a file modified at 2026-10-31T20:00Z is
  // modified on 1 November at 05:00 local time.
  const dir = t.testdir({})
  copyFileSync(SAMPLE, join(dir, 'a.dcm'))
  const mtime = new Date('2026-10-31T20:00:00Z')
  utimesSync(join(dir, 'a.dcm'), mtime, mtime)
  const cases: [string, boolean][] = [
    ['2026-11-01', true], // local midnight, 2026-10-31T15:00Z (UTC midnight would leave it out)
    ['2026-11-01T04:00', true],
    ['2026-11-01 05:00', true],
    ['2026-11-01T06:00', false],
    ['2026-11-01T00:00Z', false], // a zone named: that zone
    ['2026-11-01T04:00+09:00', true],
    ['2026-11-01T05:30+0900', false],
  ]
  for (const [since, kept] of cases) {
    const r = await runCli(['extract', dir, '-k', 'path', '--since', since, '--allow-empty', '--threads', '0'], {
      env: { TZ: 'Asia/Tokyo' },
    })
    t.equal(r.code, 0, `--since ${since}: exit 0`)
    t.same(parseCsv(r.stdout), kept ? [['path'], [join(dir, 'a.dcm')]] : [['path']], `--since ${since}: ${kept}`)
  }
})
