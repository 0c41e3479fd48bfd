// The grouper: one row per group of rows sorted by the keys, with aggregates and, for dose, the
// series' dose columns; it never holds a group's rows.
import t from 'tap'
import { Readable } from 'node:stream'
import { SERIES_DOSE_COLUMNS } from '../../src/metrics/dlp.js'
import { locateSlices } from '../../src/stages/derive-metrics.js'
import { groupRows } from '../../src/stages/group-rows.js'
import { sortRows } from '../../src/stages/sort-rows.js'
import { DOSE_COLUMNS, POSITION, axial, localizer } from '../fixtures/dose-rows.js'
import { textRows, typedRow } from '../fixtures/typed.js'
import type { Row } from '../../src/values.js'

t.test('aggregates per group, groups in key order', async (t) => {
  const rows = [
    ['CT', 'head', '10'],
    ['CT', 'chest', '2.5'],
    ['CT', '', ''],
    ['MR', 'knee', '7'],
  ]
  const info = { groups: 0 }
  const out = await Readable.from(rows.map(typedRow))
    .compose(
      groupRows({
        keys: [0],
        aggregates: [
          { index: 1, op: 'first' },
          { index: 1, op: 'count' },
          { index: 2, op: 'sum' },
          { index: 2, op: 'max' },
        ],
        info,
      }),
    )
    .toArray()
  t.strictSame(textRows(out as Row[]), [
    ['CT', 'head', '2', '12.5', '10'],
    ['MR', 'knee', '1', '7', '7'],
  ])
  t.equal(info.groups, 2)
  t.strictSame(
    await Readable.from([])
      .compose(groupRows({ keys: [0] }))
      .toArray(),
    [],
    'no rows, no groups',
  )
})

t.test('rows out of key order are an error', async (t) => {
  await t.rejects(
    Readable.from([['b'], ['a']])
      .compose(groupRows({ keys: [0] }))
      .toArray(),
    { message: /sorted by the group keys/ },
  )
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
        dose: { columns: DOSE_COLUMNS, position: POSITION, region: 'auto' },
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
