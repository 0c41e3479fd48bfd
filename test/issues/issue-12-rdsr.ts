// Issue 12, dose reports (RDSR): pipelines/rdsr-events.yaml and rdsr-studies.yaml through the
// real CLI, against ../shared/oracles/rdsr-dose.json (OpenREM's own test assertions, checked
// with pydicom) on the CT reports of ../shared/corpus/openrem, and on reports built for one
// messy case each (test/fixtures/make-rdsr.py, pydicom). Each skips, saying why, where its
// inputs are absent.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runCli } from '../fixtures/cli.js'
import { makeRdsr, PYTHON, rdsrSkipReason } from '../fixtures/rdsr.js'

const OPENREM = join(ROOT, '..', 'shared', 'corpus', 'openrem')
const ORACLE = join(ROOT, '..', 'shared', 'oracles', 'rdsr-dose.json')
const shared = existsSync(ORACLE) && existsSync(OPENREM) ? false : 'no ../shared here'

type Json = Record<string, unknown>
interface OracleFile {
  study: { total_dlp_mGycm: number; events: number; study_instance_uid: string }
  events: Json[]
}

/** Runs a shipped pipeline over `inputs` to JSON Lines; its rows and stderr. */
async function run(t: Test, pipeline: string, inputs: string[]): Promise<{ rows: Json[]; stderr: string }> {
  // Not t.testdir: it would remove the reports a test built there.
  const dir = mkdtempSync(join(tmpdir(), 'etl-rdsr-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'out.jsonl')
  const r = await runCli(['run', join(ROOT, 'pipelines', pipeline), ...inputs.flatMap((i) => ['-i', i]), '-o', out])
  t.equal(r.code, 0, r.stderr)
  const rows = readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Json)
  return { rows, stderr: r.stderr }
}

/** The oracle's event keys and our columns. */
const EVENT_COLUMNS: Record<string, string> = {
  event_uid: 'IrradiationEventUID',
  protocol: 'acquisition_protocol',
  target_region: 'target_region',
  acquisition_type: 'acquisition_type',
  ctdivol_mGy: 'ctdivol_mGy',
  dlp_mGycm: 'dlp_mGycm',
  scanning_length_mm: 'scanning_length_mm',
  phantom: 'phantom',
  pitch: 'pitch',
  exposed_range_mm: 'exposed_range_mm',
}

t.test('issue 12: every CT event of the OpenREM reports, as OpenREM asserts it', { skip: shared }, async (t) => {
  const oracle = JSON.parse(readFileSync(ORACLE, 'utf8')) as Record<string, OracleFile>
  const { rows } = await run(t, 'rdsr-events.yaml', [OPENREM])
  let compared = 0
  for (const [file, expected] of Object.entries(oracle)) {
    const ours = rows.filter((row) => String(row.path).endsWith(`/${file}`))
    t.equal(ours.length, expected.events.length, `${file}: one row per CT Acquisition`)
    expected.events.forEach((event, i) => {
      for (const [key, column] of Object.entries(EVENT_COLUMNS)) {
        if (!(key in event)) continue
        compared++
        t.same(ours[i]?.[column] ?? null, event[key], `${file} event ${i + 1} ${column}`)
      }
    })
  }
  t.ok(compared >= 100, `${compared} values compared`)
  t.notOk(
    rows.some((row) => !String(row.path).includes('CT-')),
    'the projection X-ray report gives no CT event row',
  )
})

t.test(
  'issue 12: each exam: the report total and event count, and the sum of its events',
  { skip: shared },
  async (t) => {
    const oracle = JSON.parse(readFileSync(ORACLE, 'utf8')) as Record<string, OracleFile>
    const { rows } = await run(t, 'rdsr-studies.yaml', [OPENREM])
    for (const [file, { study }] of Object.entries(oracle)) {
      const row = rows.find((r) => r.StudyInstanceUID === study.study_instance_uid)
      t.ok(row, `${file}: a row for its exam`)
      t.equal(row?.total_dlp_mGycm, study.total_dlp_mGycm, `${file}: CT Dose Length Product Total`)
      t.equal(row?.events, study.events, `${file}: Total Number of Irradiation Events`)
      t.equal(row?.events_counted, study.events, `${file}: events counted`)
      t.equal(row?.sum_event_dlp_mGycm, study.total_dlp_mGycm, `${file}: the events add up to the total`)
      t.equal(row?.reports, 1, `${file}: one report`)
    }
    // The GE Optima report's Scope of Accumulation names another study than its header (an
    // anonymisation artefact): the only note of these clean reports.
    const noted = rows.filter((r) => r.dose_notes !== null)
    t.same(
      noted.map((r) => r.dose_notes),
      ['a report names another study in its Scope of Accumulation (110180) than its header: grouped by the header'],
    )
    t.equal(noted[0]?.StudyInstanceUID, oracle['CT-ESR-GE_Optima.dcm']?.study.study_instance_uid)
  },
)

t.test('issue 12: messy reports, one built for each case', { skip: rdsrSkipReason() }, async (t) => {
  const files = makeRdsr(t, ['clean', 'toshiba-multivalue', 'empty-target-region', 'no-template', 'ge-unit'])
  if (!files) return
  const events = async (name: keyof typeof files) => run(t, 'rdsr-events.yaml', files[name])

  const clean = await events('clean')
  t.same(
    clean.rows.map((r) => [r.acquisition_type, r.ctdivol_mGy, r.dlp_mGycm]),
    [
      ['Constant Angle Acquisition', null, null],
      ['Spiral Acquisition', 56.36, 1127.2],
      ['Spiral Acquisition', 7.5, 90],
    ],
    'a localizer without a CT Dose section is still an event, with no dose',
  )

  const toshiba = await events('toshiba-multivalue')
  t.equal(toshiba.rows[0].ctdivol_mGy, null, '"10.50/ 15.00" is no number: empty, never a wrong one')
  t.match(toshiba.stderr, /warning/, 'and said on stderr')

  const empty = await events('empty-target-region')
  t.equal(empty.rows.length, 3, 'an empty Target Region item keeps its event')
  t.ok(
    empty.rows.some((r) => r.target_region === null),
    'its target region is empty',
  )

  t.equal((await events('no-template')).rows.length, 3, 'without ContentTemplateSequence: the same events')

  const ge = await events('ge-unit')
  t.same(
    ge.rows.map((r) => r.dlp_mGycm),
    clean.rows.map((r) => r.dlp_mGycm),
    "GE's mGycm is mGy.cm",
  )
})

t.test(
  'issue 12: cumulative and continued reports of one exam, each event once',
  { skip: rdsrSkipReason() },
  async (t) => {
    const files = makeRdsr(t, ['siemens-cumulative', 'continued'])
    if (!files) return
    const columns = (r: Json) => [r.reports, r.total_dlp_mGycm, r.events, r.events_counted, r.sum_event_dlp_mGycm]
    const cumulative = (await run(t, 'rdsr-studies.yaml', files['siemens-cumulative'])).rows
    t.same(
      cumulative.map(columns),
      [[2, 1217.2, 3, 3, 1217.2]],
      'the second report repeats the first two events: 3 events, not 5; 1217.2 mGy.cm, not 2344.4',
    )
    t.equal(cumulative[0].dose_notes, '2 reports: 1 repeated in a later one (cumulative), not counted twice')
    // In the other order on the command line: the same exam.
    const reversed = (await run(t, 'rdsr-studies.yaml', [...files['siemens-cumulative']].reverse())).rows
    t.same(reversed, cumulative, 'whichever report is read first')

    const continued = (await run(t, 'rdsr-studies.yaml', files.continued)).rows
    t.same(
      continued.map(columns),
      [[2, 1217.2, 3, 3, 1217.2]],
      "a continued exam's two reports: their totals and events add up",
    )
    t.equal(continued[0].dose_notes, '2 reports with events of their own (continued exam): totals added')
  },
)

t.test(
  'issue 12: projection X-ray events (DX), against pydicom reading the same report',
  { skip: shared || rdsrSkipReason() },
  async (t) => {
    const file = join(OPENREM, 'DX-RDSR-Canon_CXDI.dcm')
    // pydicom walks the tree itself: each Irradiation Event X-Ray Data (113706) item's NUM values
    // by concept code, with their units as stored.
    const script = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
def code(item): return item.ConceptNameCodeSequence[0].CodeValue
events = []
for item in ds.ContentSequence:
    if code(item) != '113706': continue
    event = {}
    for child in item.ContentSequence:
        if child.ValueType == 'NUM' and 'MeasuredValueSequence' in child and len(child.MeasuredValueSequence):
            m = child.MeasuredValueSequence[0]
            event[code(child)] = [float(m.NumericValue), m.MeasurementUnitsCodeSequence[0].CodeValue]
        elif child.ValueType == 'UIDREF':
            event[code(child)] = child.UID
    events.append(event)
print(json.dumps(events))
`
    const oracle = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' })
    t.equal(oracle.status, 0, oracle.stderr)
    const events = JSON.parse(oracle.stdout) as Record<string, [number, string] | string>[]
    const { rows } = await run(t, 'rdsr-xray-events.yaml', [file])
    t.equal(rows.length, events.length, 'one row per irradiation event')
    const num = (event: Record<string, [number, string] | string>, code: string) => event[code] as [number, string]
    for (const [i, event] of events.entries()) {
      t.equal(rows[i].IrradiationEventUID, event['113769'])
      t.same(num(event, '122130'), [rows[i].dap_Gym2, 'Gy.m2'], 'Dose Area Product, stored in Gy.m2')
      t.same(num(event, '113733'), [rows[i].kvp, 'kV'])
      t.same(num(event, '113734'), [rows[i].tube_current_mA, 'mA'])
      t.same(num(event, '113824'), [Number(rows[i].exposure_time_s) * 1000, 'ms'], 'ms converted to s')
      t.same(num(event, '113736'), [Number(rows[i].exposure_mAs) * 1000, 'uA.s'], 'uA.s converted to mA.s')
    }
    const ct = await run(t, 'rdsr-events.yaml', [file])
    t.equal(ct.rows.length, 0, 'a projection X-ray report has no CT event')
  },
)

t.test(
  'issue 12: a dose-check value of the wrong value type is empty, with a warning',
  { skip: rdsrSkipReason() },
  async (t) => {
    const files = makeRdsr(t, ['dose-check-text'])
    if (!files) return
    const { rows, stderr } = await run(t, 'rdsr-events.yaml', files['dose-check-text'])
    t.same(
      rows.map((r) => r.ctdivol_alert_mGy),
      [null, null, null],
      'a TEXT "1000 mGy" is no number in mGy',
    )
    t.match(stderr, /ctdivol_alert_mGy: a TEXT, not a NUM; cannot give mGy, left empty/)
  },
)

t.test('issue 12: notes on an exam whose report disagrees with itself', { skip: rdsrSkipReason() }, async (t) => {
  const files = makeRdsr(t, ['total-mismatch', 'scope-uid-differs', 'clean'])
  if (!files) return
  const { rows } = await run(t, 'rdsr-studies.yaml', [
    ...files['total-mismatch'],
    ...files['scope-uid-differs'],
    ...files.clean,
  ])
  const notes = Object.fromEntries(rows.map((r) => [r.total_dlp_mGycm, r.dose_notes]))
  t.same(rows.map((r) => [r.total_dlp_mGycm, r.sum_event_dlp_mGycm]).sort(), [
    [1217.2, 1217.2],
    [1217.2, 1217.2],
    [1300, 1217.2],
  ])
  t.equal(notes[1300], "the events' DLP add up to 1217.2 mGy.cm, the total says 1300 (-6.4%)")
  const scoped = rows.filter((r) => r.total_dlp_mGycm === 1217.2).map((r) => r.dose_notes)
  t.same(
    scoped.sort(),
    [
      'a report names another study in its Scope of Accumulation (110180) than its header: grouped by the header',
      null,
    ].sort(),
    "the scope's study differs: said, and the header's study groups it; the clean report has no note",
  )
})

t.test(
  'issue 12: projection X-ray exam totals (DX), against pydicom reading the same report',
  { skip: shared || rdsrSkipReason() },
  async (t) => {
    const file = join(OPENREM, 'DX-RDSR-Canon_CXDI.dcm')
    const script = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
def code(item): return item.ConceptNameCodeSequence[0].CodeValue
def num(item): return float(item.MeasuredValueSequence[0].NumericValue)
total = [num(c) for i in ds.ContentSequence if code(i) == '113702' for c in i.ContentSequence if code(c) == '113722']
events = [num(c) for i in ds.ContentSequence if code(i) == '113706' for c in i.ContentSequence if code(c) == '122130']
print(json.dumps({'study': ds.StudyInstanceUID, 'total': total[0], 'events': events}))
`
    const oracle = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' })
    t.equal(oracle.status, 0, oracle.stderr)
    const expected = JSON.parse(oracle.stdout) as { study: string; total: number; events: number[] }
    const { rows } = await run(t, 'rdsr-xray-studies.yaml', [OPENREM])
    t.same(
      rows.map((r) => [r.StudyInstanceUID, r.reports, r.total_dap_Gym2, r.events_counted, r.sum_event_dap_Gym2]),
      [[expected.study, 1, expected.total, expected.events.length, expected.events.reduce((a, b) => a + b, 0)]],
      'one exam: the CT reports give no row; Dose Area Product Total and the events, in Gy.m2',
    )
  },
)

t.test(
  'issue 12: radiopharmaceutical administrations (NM, PET), against pydicom reading the same report',
  { skip: rdsrSkipReason() },
  async (t) => {
    const files = makeRdsr(t, ['radiopharmaceutical'])
    if (!files) return
    const [file] = files.radiopharmaceutical
    // pydicom walks the tree: each administration's items by concept code, as stored.
    const script = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
def code(item): return item.ConceptNameCodeSequence[0].CodeValue
out = []
for item in ds.ContentSequence:
    if code(item) != '113502': continue
    a = {}
    for c in item.ContentSequence:
        if c.ValueType == 'CODE': a[code(c)] = c.ConceptCodeSequence[0].CodeMeaning
        elif c.ValueType == 'UIDREF': a[code(c)] = c.UID
        elif c.ValueType == 'DATETIME': a[code(c)] = c.DateTime
        elif c.ValueType == 'NUM':
            m = c.MeasuredValueSequence[0]
            a[code(c)] = [float(m.NumericValue), m.MeasurementUnitsCodeSequence[0].CodeValue]
    out.append(a)
print(json.dumps(out))
`
    const oracle = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' })
    t.equal(oracle.status, 0, oracle.stderr)
    const expected = JSON.parse(oracle.stdout) as Record<string, string | [number, string]>[]
    const { rows } = await run(t, 'rdsr-nm-events.yaml', [file])
    const toMBq: Record<string, number> = { MBq: 1, GBq: 1000 }
    t.same(
      rows.map((r) => [
        r.administration_uid,
        r.radiopharmaceutical,
        r.radionuclide,
        r.datetime_started,
        r.datetime_stopped,
        r.activity_MBq,
        r.route,
      ]),
      expected.map((a) => {
        const [activity, unit] = a['113507'] as [number, string]
        return [
          a['113503'],
          a['349358000'],
          a['89457008'],
          a['123003'],
          a['123004'],
          activity * toMBq[unit],
          a['410675002'],
        ]
      }),
      'one row per administration; the activity in MBq, from GBq too',
    )
    t.same(
      rows.map((r) => r.activity_MBq),
      [350.5, 185],
    )
    const ct = await run(t, 'rdsr-events.yaml', [file])
    t.equal(ct.rows.length, 0, 'a radiopharmaceutical report has no CT event')
  },
)

t.test(
  "issue 12: per exam, the images' DLP beside the report's total, reconstructions once",
  { skip: rdsrSkipReason() },
  async (t) => {
    const files = makeRdsr(t, ['exam', 'clean'])
    if (!files) return
    const { rows } = await run(t, 'dose-exams.yaml', [...files.exam, ...files.clean])
    const columns = (r: Json) => [
      r.series,
      r.series_counted,
      r.image_dlp_mGycm,
      r.reports,
      r.report_dlp_mGycm,
      r.report_events,
      r.dlp_ratio,
      r.dose_notes,
    ]
    const exam = rows.find((r) => r.series === 4)
    t.same(
      exam && columns(exam),
      [4, 2, 360, 1, 395, 3, 0.911, '4 series with a DLP, 2 reconstructions of another: counted once'],
      'head and its thin reconstruction share an Irradiation Event UID; chest and its reconstruction an ' +
        'acquisition number and time: 250 + 110 mGy.cm, against the report total of 395',
    )
    const reportOnly = rows.find((r) => r.series === 0)
    t.same(
      reportOnly && columns(reportOnly),
      [0, 0, null, 1, 1217.2, 3, null, 'no image series with a DLP: the report alone'],
      'an exam of which only the report was read',
    )
    t.equal(rows.length, 2)
  },
)

t.test("issue 12: the samples' own dose report, on a fresh clone", async (t) => {
  // The pipelines' default input: samples/, whose exam has its scanner's dose report.
  const events = await runCli(['run', join(ROOT, 'pipelines', 'rdsr-events.yaml')])
  t.equal(events.code, 0, events.stderr)
  const rows = events.stdout.trim().split('\n')
  t.equal(rows.length, 4, 'a header and one row per acquisition: localizer, head, thorax')
  t.match(rows[2], /,Head 5\.0 H40s,Head,Spiral Acquisition,IEC Head Dosimetry Phantom,200,221\.12,0\.55,/)

  const exams = await runCli(['run', join(ROOT, 'pipelines', 'dose-exams.yaml'), '-o', '-', '--format', 'jsonl'])
  t.equal(exams.code, 0, exams.stderr)
  const [exam, ...more] = exams.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Json)
  t.same(more, [], 'one exam')
  t.same(
    [exam.series, exam.series_counted, exam.reports, exam.report_events],
    [2, 2, 1, 3],
    'two image series with a DLP (the localizer filtered out), one report of three events',
  )
  const image = exam.image_dlp_mGycm as number
  const report = exam.report_dlp_mGycm as number
  t.equal(exam.dlp_ratio, Number((image / report).toPrecision(3)), 'the ratio of the two')
  t.ok(image < report, "the report's DLP includes over-ranging, the images' does not")
})
