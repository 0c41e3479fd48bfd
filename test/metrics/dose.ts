// The dose metric's stages. Per slice: positions appended before the sorter, then each slice's
// interval, DLP contribution and note after it, series by series, with rows of several series
// mixed on disk. Per series: its accumulator in the grouper.
import t from 'tap'
import { Readable } from 'node:stream'
import { SERIES_DOSE_COLUMNS } from '../../src/metrics/dlp.js'
import { deriveMetrics, locateRow, locateSlices, seriesDoseAccumulator } from '../../src/metrics/dose.js'
import { groupRows } from '../../src/transforms/group-rows.js'
import { sortRows } from '../../src/transforms/sort-rows.js'
import { DOSE_COLUMNS, HEADER, POSITION, axial, localizer } from '../fixtures/dose-rows.js'
import { parsePipeline } from '../../src/pipeline/load.js'
import { rowStages } from '../../src/pipeline/run.js'
import { textRows } from '../fixtures/typed.js'
import type { Row } from '../../src/values.js'

/** The pipeline's stages from the projector on: positions, sort by series then position, derive. */
async function derive(rows: Row[]): Promise<string[][]> {
  const stages = Readable.from(rows)
    .compose(locateSlices(DOSE_COLUMNS))
    .compose(
      sortRows([
        { index: 0, descending: false },
        { index: POSITION, descending: false },
      ]),
    )
    .compose(deriveMetrics({ series: [0], columns: DOSE_COLUMNS, position: POSITION }))
  return textRows((await stages.toArray()) as Row[])
}

/** Series, position, interval, contribution and note of each output row. */
const derived = (rows: string[][]) => rows.map((r) => [r[0], ...r.slice(POSITION)])

t.test('locateRow appends the position, empty for an image that does not count', async (t) => {
  t.strictSame(locateRow(axial('s', -40, 5), DOSE_COLUMNS).at(-1), -40)
  t.strictSame(locateRow(localizer('s'), DOSE_COLUMNS).at(-1), null)
})

t.test('two series interleaved on disk, unsorted: each along its own positions', async (t) => {
  // Series A at 0 5 10 (10, 20, 30 mGy): L = 5, DLP shares 5, 10, 15 mGy·cm.
  // Series B at 0 3 6 9 (8 mGy) with its localizer: L = 3, shares 2.4 each.
  const onDisk = [
    axial('B', 6, 8),
    axial('A', 10, 30),
    localizer('B'),
    axial('B', 0, 8),
    axial('A', 0, 10),
    axial('B', 9, 8),
    axial('A', 5, 20),
    axial('B', 3, 8),
  ]
  t.strictSame(derived(await derive(onDisk)), [
    ['A', '0', '5', '5', ''],
    ['A', '5', '5', '10', ''],
    ['A', '10', '5', '15', ''],
    ['B', '0', '3', '2.4', ''],
    ['B', '3', '3', '2.4', ''],
    ['B', '6', '3', '2.4', ''],
    ['B', '9', '3', '2.4', ''],
    ['B', '', '', '', 'excluded: localizer'],
  ])
})

t.test('each slice says why its share is what it is', async (t) => {
  const rows = [
    axial('G', 0, 10),
    axial('G', 5, 10),
    axial('G', 10, ''),
    axial('G', 25, 10),
    axial('G', 25, 10),
    axial('G', 30, 10),
    axial('S', 0, 10),
  ]
  t.strictSame(derived(await derive(rows)), [
    ['G', '0', '5', '5', ''],
    ['G', '5', '5', '5', ''],
    ['G', '10', '5', '', 'gap of 15 mm to the next slice: 5 mm counted; no CTDIvol'],
    ['G', '25', '5', '5', ''],
    ['G', '25', '0', '0', 'repeated position: not counted'],
    ['G', '30', '5', '5', ''],
    ['S', '0', '', '', 'single slice: no interval'],
  ])
  const noLocation = axial('P', 0, 10)
  noLocation[4] = null
  t.strictSame(derived(await derive([noLocation, axial('P', 5, 10)]))[0], [
    'P',
    '0',
    '5',
    '5',
    'position from ImagePositionPatient (no SliceLocation)',
  ])
})

t.test('rows out of order are an error, not wrong numbers', async (t) => {
  const stage = () => deriveMetrics({ series: [0], columns: DOSE_COLUMNS, position: POSITION })
  const located = (rows: Row[]) => rows.map((r) => locateRow(r, DOSE_COLUMNS))
  const cases: [string, Row[], RegExp][] = [
    ['positions descending', located([axial('A', 5, 1), axial('A', 0, 1)]), /positions must ascend/],
    ['series going back', located([axial('B', 0, 1), axial('A', 0, 1)]), /out of series order/],
    ['a slice after an excluded image', located([localizer('A'), axial('A', 0, 1)]), /out of position order/],
  ]
  for (const [name, rows, message] of cases) {
    await t.rejects(Readable.from(rows).compose(stage()).toArray(), { message }, name)
  }
})

t.test('dose per series, from rows of several series interleaved on disk', async (t) => {
  // A: 0 5 10 15 at 10 mGy, head: DLP = 10 x 0.5 x 4 = 20, E = 0.0021 x 20.
  // B: 0 2.5 5 at 8 mGy, 3 mm thick, with a localizer: DLP = 8 x 0.25 x 3 = 6, overlap noted.
  // L: a localizer alone. S: a single slice.
  const onDisk = [
    axial('B', 5, 8, 'CHEST', '3'),
    axial('A', 15, 10, 'HEAD'),
    localizer('L'),
    axial('A', 0, 10, 'HEAD'),
    axial('S', 0, 12, 'CHEST'),
    axial('B', 0, 8, 'CHEST', '3'),
    localizer('B'),
    axial('A', 10, 10, 'HEAD'),
    axial('B', 2.5, 8, 'CHEST', '3'),
    axial('A', 5, 10, 'HEAD'),
  ]
  const out = (await Readable.from(onDisk)
    .compose(locateSlices(DOSE_COLUMNS))
    .compose(
      sortRows([
        { index: 0, descending: false },
        { index: POSITION, descending: false },
      ]),
    )
    .compose(
      groupRows({
        keys: [0],
        aggregates: [{ index: 5, op: 'count' }],
        accumulators: [() => seriesDoseAccumulator({ columns: DOSE_COLUMNS, position: POSITION, region: 'auto' })],
      }),
    )
    .toArray()) as Row[]
  const table = textRows(out).map((row) =>
    Object.fromEntries([
      ['series', row[0]],
      ['ctdivol_count', row[1]],
      ...SERIES_DOSE_COLUMNS.map((c, i) => [c, row[2 + i]]),
    ]),
  )
  t.strictSame(table, [
    {
      series: 'A',
      ctdivol_count: '4',
      slices: '4',
      excluded: '0',
      scan_range_mm: '20',
      interval_mm: '5',
      ctdivol_mean_mGy: '10',
      ctdivol_max_mGy: '10',
      dlp_mGycm: '20',
      region: 'HEAD',
      k_mSv_per_mGycm: '0.0021',
      effective_dose_estimate_mSv: '0.042',
      dose_notes: '',
    },
    {
      series: 'B',
      ctdivol_count: '3',
      slices: '3',
      excluded: '1',
      scan_range_mm: '7.5',
      interval_mm: '2.5',
      ctdivol_mean_mGy: '8',
      ctdivol_max_mGy: '8',
      dlp_mGycm: '6',
      region: 'CHEST',
      k_mSv_per_mGycm: '0.014',
      effective_dose_estimate_mSv: '0.084',
      dose_notes: 'excluded: 1 localizer; overlapping reconstruction: interval 2.5 mm < thickness 3 mm',
    },
    {
      series: 'L',
      ctdivol_count: '0',
      slices: '0',
      excluded: '1',
      scan_range_mm: '',
      interval_mm: '',
      ctdivol_mean_mGy: '',
      ctdivol_max_mGy: '',
      dlp_mGycm: '',
      region: '',
      k_mSv_per_mGycm: '',
      effective_dose_estimate_mSv: '',
      dose_notes: 'excluded: 1 localizer; no axial slices: no DLP',
    },
    {
      series: 'S',
      ctdivol_count: '1',
      slices: '1',
      excluded: '0',
      scan_range_mm: '',
      interval_mm: '',
      ctdivol_mean_mGy: '12',
      ctdivol_max_mGy: '12',
      dlp_mGycm: '',
      region: 'CHEST',
      k_mSv_per_mGycm: '0.014',
      effective_dose_estimate_mSv: '',
      dose_notes: 'single slice: no interval, no DLP',
    },
  ])
})

t.test('issue 14: per slice, series by study, then SeriesNumber as a number, then position', async (t) => {
  // Three leading columns before the fixture's: StudyDate, StudyInstanceUID, SeriesNumber.
  const yaml = [
    'source: {paths: [.]}',
    `extract: [StudyDate, StudyInstanceUID, SeriesNumber, ${HEADER.join(', ')}]`,
    'dose: {region: CHEST}',
  ].join('\n')
  const parsed = parsePipeline(yaml, '/tmp')
  if (!parsed.spec) throw new Error(JSON.stringify(parsed.problems))
  const row = (date: string, study: string, number: number, series: string, z: number) =>
    [date, study, number, ...axial(series, z, 10)] as Row
  // UIDs sort the other way round from the series numbers and study dates.
  const onDisk = [
    row('20240312', '1.9', 10, '1.1', 5),
    row('20240101', '1.8', 2, '1.5', 0),
    row('20240312', '1.9', 2, '1.2', 5),
    row('20240312', '1.9', 10, '1.1', 0),
    row('20240101', '1.8', 2, '1.5', 5),
    row('20240312', '1.9', 2, '1.2', 0),
    row('20240312', '1.7', 1, '1.3', 0),
    row('20240312', '1.7', 1, '1.3', 5),
  ]
  const { stages } = rowStages(parsed.spec)
  const rows = await (
    stages.reduce((stream, stage) => stream.compose(stage), Readable.from(onDisk)) as Readable
  ).toArray()
  t.strictSame(
    textRows(rows as Row[]).map((r) => [r[0], r[1], r[2], r[3], r[3 + POSITION], r[3 + POSITION + 2]]),
    [
      ['20240101', '1.8', '2', '1.5', '0', '5'],
      ['20240101', '1.8', '2', '1.5', '5', '5'],
      ['20240312', '1.7', '1', '1.3', '0', '5'],
      ['20240312', '1.7', '1', '1.3', '5', '5'],
      ['20240312', '1.9', '2', '1.2', '0', '5'],
      ['20240312', '1.9', '2', '1.2', '5', '5'],
      ['20240312', '1.9', '10', '1.1', '0', '5'],
      ['20240312', '1.9', '10', '1.1', '5', '5'],
    ],
    'the earlier study first; within a study, series 2 before 10; each along z, with its own DLP share',
  )
})
