// Issue 14, dose audit: pipelines/dose-audit.yaml through the real CLI on a generated archive of
// known doses (test/fixtures/make-rdsr.py, case "audit": nine exams, each one series of ten
// slices 5 mm apart, so DLP = 5 cm x CTDIvol): protocol names normalised into groups, medians
// against a plain computation, the UK NDRLs matched, alerts logged and --fail-on-alert's exit 3.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runCli } from '../fixtures/cli.js'
import { makeRdsr, rdsrSkipReason } from '../fixtures/rdsr.js'

const PIPELINE = join(ROOT, 'pipelines', 'dose-audit.yaml')

/** The archive as make-rdsr.py writes it: description, CTDIvol of its one series. */
const EXAMS: [string, number][] = [
  ['CT HEAD 1', 40],
  ['ct head', 45],
  ['CT Head  2', 50],
  ['CT HEAD', 55],
  ['Ct Head', 90],
  ['Chest', 5],
  ['CHEST', 8],
  ['chest 3', 10],
  ['Knee', 12],
]

/** The median as a textbook defines it. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const half = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2
}

t.test('issue 14: the audit of an archive of known doses', { skip: rdsrSkipReason() }, async (t) => {
  const files = makeRdsr(t, ['audit'])
  if (!files) return
  const dir = mkdtempSync(join(tmpdir(), 'etl-audit-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const input = join(files.audit[0], '..', '..', '..')
  const out = join(dir, 'audit.jsonl')
  const run = await runCli(['run', PIPELINE, '-i', input, '-o', out, '--log-format', 'json'])
  t.equal(run.code, 0, 'alerts alone do not change the exit code without --fail-on-alert')
  const rows = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)

  const group = (name: string) =>
    EXAMS.filter(([d]) => d.toLowerCase().replace(/\d/g, '').replace(/\s+/g, ' ').trim() === name)
  t.same(
    rows.map((r) => r.protocol),
    ['chest', 'ct head', 'knee'],
    'five ways of writing "CT head" are one protocol, three of "chest" another',
  )
  const expected: Record<string, { level: string | null; ctdivol?: number; dlp?: number }> = {
    chest: { level: 'Chest', ctdivol: 8.5, dlp: 290 },
    'ct head': { level: 'Head', ctdivol: 47, dlp: 790 },
    knee: { level: null },
  }
  for (const row of rows) {
    const name = row.protocol as string
    const ctdivols = group(name).map(([, c]) => c)
    const dlps = ctdivols.map((c) => c * 5)
    const level = expected[name]
    t.equal(row.exams, ctdivols.length, `${name}: exams`)
    t.equal(row.median_ctdivol_mGy, median(ctdivols), `${name}: median CTDIvol`)
    t.equal(row.median_dlp_mGycm, median(dlps), `${name}: median DLP`)
    t.equal(row.reference_level, level.level, `${name}: the level that matches`)
    t.equal(row.drl_ctdivol_mGy, level.ctdivol ?? null)
    t.equal(row.drl_dlp_mGycm, level.dlp ?? null)
    if (level.ctdivol !== undefined && level.dlp !== undefined) {
      const ratioCtdivol = Number((median(ctdivols) / level.ctdivol).toPrecision(3))
      const ratioDlp = Number((median(dlps) / level.dlp).toPrecision(3))
      t.same([row.ratio_ctdivol, row.ratio_dlp], [ratioCtdivol, ratioDlp], `${name}: ratios`)
      t.equal(row.above_drl, ratioCtdivol > 1 || ratioDlp > 1 ? 'yes' : 'no', `${name}: above the DRL`)
    } else {
      t.equal(row.above_drl, null, `${name}: no DRL, no verdict`)
      t.match(row.dose_notes, /no reference level matches this protocol/)
    }
  }
  t.equal(rows[1].above_drl, 'yes', 'the head median, 50 mGy, is above the NDRL of 47 mGy')
  t.equal(rows[1].series_above_notification, 1, 'the 90 mGy head series is above the notification value of 80')

  const events = run.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  const alerts = events.filter((e) => e.event === 'alert')
  t.same(
    alerts.map((a) => [a.scope, a.quantity, a.value, a.level, a.unit, a.reference]),
    [['series', 'CTDIvol', 90, 80, 'mGy', 'Head']],
    'one alert event, with its value and level',
  )
  t.match(alerts[0], { study: /^2\.25\./, series: /^2\.25\./ }, 'naming the exam and the series')
  t.equal(events.find((e) => e.event === 'summary')?.alerts, 1, 'and counted in the summary')

  const failing = await runCli(['run', PIPELINE, '-i', input, '-o', join(dir, 'again.csv'), '--fail-on-alert'])
  t.equal(failing.code, 3, '--fail-on-alert: exit 3, for cron mail and monitoring')
  t.match(
    failing.stderr,
    /^etl: alert: series 2\.25\.\d+ of exam 2\.25\.\d+: CTDIvol 90 mGy above the notification value 80 \(Head\)$/m,
  )
  t.equal(
    readFileSync(join(dir, 'again.csv'), 'utf8').split('\n').length,
    5,
    'the output is written all the same: a header and three groups',
  )

  const quiet = await runCli(['run', PIPELINE, '-i', input, '-o', join(dir, 'q.csv'), '--fail-on-alert', '-q'])
  t.equal(quiet.code, 3)
  t.match(quiet.stderr, /^etl: alert: /, '--quiet still prints alerts')
})

t.test('issue 14: the audit block is checked like every key', async (t) => {
  const dir = t.testdir({})
  const base = readFileSync(PIPELINE, 'utf8').replace('paths: [../samples]', `paths: [${join(ROOT, 'samples')}]`)
  const cases: [string, string, RegExp][] = [
    [
      'a pattern that is no regular expression',
      base.replace("match: 'head|brain'", "match: 'head|(brain'"),
      /bad\.yaml:\d+:\d+ not a regular expression: /,
    ],
    [
      'protocol not grouped by',
      base.replace('  protocol: protocol', '  protocol: StudyInstanceUID'),
      /protocol "StudyInstanceUID" must be one of the group_by columns \(protocol\)/,
    ],
    ['a level as text', base.replace('ctdivol_mGy: 47,', "ctdivol_mGy: 'high',"), /must be a number from 0 to 10000/],
    [
      'an unknown normalise step',
      base.replace('normalise: [lower, no_digits, trim]', 'normalise: [lower, strip]'),
      /normalise\[1\] must be "lower" or "upper" or "trim" or "no_digits" or "no_punctuation"/,
    ],
  ]
  for (const [what, yaml, message] of cases) {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, yaml)
    const r = await runCli(['validate', file])
    t.equal(r.code, 78, what)
    t.match(r.stderr, message, what)
  }
})

t.test('issue 14: per exam, above_notification with the value and the level', { skip: rdsrSkipReason() }, async (t) => {
  const files = makeRdsr(t, ['audit'])
  if (!files) return
  // Not t.testdir: it would remove the archive makeRdsr built there.
  const dir = mkdtempSync(join(tmpdir(), 'etl-exams-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const yaml = readFileSync(join(ROOT, 'pipelines', 'dose-exams.yaml'), 'utf8')
    .replace(
      '  - StudyInstanceUID\n',
      '  - StudyInstanceUID\n  - { keyword: StudyDescription, as: protocol, normalise: [lower, trim] }\n',
    )
    .replace(
      '  tolerance_percent: 1',
      [
        '  tolerance_percent: 1',
        '  protocol: protocol',
        '  reference_levels:',
        '    - { name: Head, match: head, notification_ctdivol_mGy: 80, notification_dlp_mGycm: 400 }',
        '    - { name: Chest, match: chest, notification_ctdivol_mGy: 50 }',
      ].join('\n'),
    )
  const pipeline = join(dir, 'exams.yaml')
  writeFileSync(pipeline, yaml)
  const input = join(files.audit[0], '..', '..', '..')
  const r = await runCli(['run', pipeline, '-i', input, '-o', '-', '--format', 'jsonl', '--log-format', 'json'])
  t.equal(r.code, 0, r.stderr)
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  const byCtdivol = new Map(rows.map((row) => [row.max_ctdivol_mGy, row]))
  t.equal(rows.length, EXAMS.length, 'one row per exam')
  for (const [description, ctdivol] of EXAMS) {
    const row = byCtdivol.get(ctdivol)
    const head = /head/i.test(description)
    const chest = /chest/i.test(description)
    t.equal(row?.reference_level, head ? 'Head' : chest ? 'Chest' : null, `${description}: its level`)
    t.equal(row?.notification_ctdivol_mGy, head ? 80 : chest ? 50 : null, `${description}: the level's CTDIvol`)
    t.equal(row?.notification_dlp_mGycm, head ? 400 : null, `${description}: the level's DLP`)
    const above = head ? ctdivol > 80 || ctdivol * 5 > 400 : chest ? ctdivol > 50 : null
    t.equal(row?.above_notification, above === null ? null : above ? 'yes' : 'no', `${description}: above?`)
  }
  const alerts = r.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((e) => e.event === 'alert')
  t.same(
    alerts.map((a) => [a.scope, a.quantity, a.value, a.level]).sort(),
    [
      ['exam', 'DLP', 450, 400],
      ['series', 'CTDIvol', 90, 80],
    ],
    'the 90 mGy head exam: its series and its DLP (450 mGy.cm) each raise an alert',
  )
})
