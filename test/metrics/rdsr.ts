// The exam-total metrics of dose reports (rdsr_ct, rdsr_xray): what they read, found by `sr:` path
// among the extracted columns whatever they are named; the pipeline errors that say what is
// missing; and the merge of an exam's reports, row by row (the real reports are in
// test/issues/issue-12-rdsr.ts).
import t from 'tap'
import { findNeeds } from '../../src/metrics/metric.js'
import { rdsrCt } from '../../src/metrics/rdsr.js'
import { parsePipeline } from '../../src/pipeline/load.js'
import { DicomDate, type Row, type Value } from '../../src/values.js'

const BASE = `
source: {paths: [x]}
rows: {per_item: sr:113819}
extract:
  - StudyInstanceUID
  - SOPInstanceUID
  - ContentDate
  - ContentTime
  - {sr: 113811/113813, unit: mGy.cm, as: total}
  - {sr: 113811/113812, as: count}
  - {sr: DCM:113819/113769, as: uid}
  - {sr: 113819/113829/113838, unit: mGy.cm, as: dlp}
group_by: [StudyInstanceUID]
rdsr_ct: {}
`

t.test('needs: sr paths match the columns that take the same items and unit, under any name', async (t) => {
  const parsed = parsePipeline(BASE, '/tmp')
  t.same(parsed.problems, [])
  const found = findNeeds(rdsrCt.needs, parsed.spec?.columns ?? [])
  t.same(found.missing, [])
  t.same(
    { total: found.found.total, reportEvents: found.found.reportEvents, event: found.found.event },
    { total: 4, reportEvents: 5, event: 6 },
    'a scheme written (DCM:113819) matches the need written without one',
  )
  t.equal(found.found.scope, undefined, 'an optional need not extracted')
})

t.test('a pipeline that lacks what rdsr_ct reads says which, at the block', async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      'the total in another unit',
      BASE.replace('unit: mGy.cm, as: total', 'unit: Gy.m2, as: total'),
      /rdsr_ct reads sr:113811\/113813@mGy\.cm: extract it \(under any name\)/,
    ],
    [
      'no event UID',
      BASE.replace('  - {sr: DCM:113819/113769, as: uid}\n', ''),
      /rdsr_ct reads sr:113819\/113769: extract it/,
    ],
    [
      'no group_by',
      BASE.replace('group_by: [StudyInstanceUID]\n', ''),
      /rdsr_ct gives totals per exam: it needs group_by/,
    ],
  ]
  for (const [what, yaml, message] of cases) {
    const parsed = parsePipeline(yaml, '/tmp')
    t.match(
      parsed.problems.map((p) => p.message),
      [message],
      what,
    )
  }
})

/** Rows as the projector makes them for BASE's columns. */
function row(sop: string, time: string, total: number | null, count: number | null, uid: string, dlp: Value): Row {
  return ['1.2.3', sop, new DicomDate('DA', '20240312'), new DicomDate('TM', time), total, count, uid || null, dlp]
}

/** The exam columns of rows fed to one accumulator. */
function exam(rows: Row[]): Value[] {
  const parsed = parsePipeline(BASE, '/tmp')
  const { columns } = findNeeds(rdsrCt.needs, parsed.spec?.columns ?? [])
  if (!columns) throw new Error('needs not found')
  const plan = rdsrCt.plan({
    columns,
    config: { tolerance_percent: 1 },
    width: 8,
    precision: 15,
    grouped: true,
    names: [],
  })
  const accumulator = plan.perGroup?.()
  if (!accumulator) throw new Error('no accumulator')
  for (const r of rows) accumulator.add(r)
  return accumulator.result()
}

t.test('an exam: its reports merged by their events', async (t) => {
  const cases: [string, Row[], Value[]][] = [
    ['one report', [row('1', '0900', 30, 2, 'a', 10), row('1', '0900', 30, 2, 'b', 20)], [1, 30, 2, 2, 30, null]],
    [
      'the same report sent twice (a new SOP Instance UID): the later counts, once',
      [row('1', '0900', 30, 2, 'a', 10), row('1', '0900', 30, 2, 'b', 20), row('2', '1000', 30, 2, 'a', 10)],
      [2, 30, 2, 2, 30, '2 reports: 1 repeated in a later one (cumulative), not counted twice'],
    ],
    [
      "a report without events' UIDs: each of its events counts on its own",
      [row('1', '0900', 30, 2, '', 10), row('1', '0900', 30, 2, '', 20)],
      [1, 30, 2, 2, 30, null],
    ],
    [
      'a report without a total: no exam total, and a note',
      [row('1', '0900', null, 1, 'a', 10)],
      [1, null, 1, 1, 10, 'a report has no DLP total'],
    ],
    [
      'events the report does not count as it says',
      [row('1', '0900', 30, 3, 'a', 10), row('1', '0900', 30, 3, 'b', 20)],
      [1, 30, 3, 2, 30, 'the reports count 3 events, 2 found'],
    ],
    ['within the tolerance: no note', [row('1', '0900', 30.2, 1, 'a', 30)], [1, 30.2, 1, 1, 30, null]],
    [
      'a localizer: an event without DLP counts, and adds nothing',
      [row('1', '0900', 30, 2, 'a', null), row('1', '0900', 30, 2, 'b', 30)],
      [1, 30, 2, 2, 30, null],
    ],
  ]
  for (const [what, rows, expected] of cases) t.same(exam(rows), expected, what)
})
