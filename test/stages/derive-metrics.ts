// Per-slice dose columns: positions appended before the sorter, then each slice's interval, DLP
// contribution and note after it, series by series, with rows of several series mixed on disk.
import t from 'tap'
import { Readable } from 'node:stream'
import { deriveMetrics, locateRow, locateSlices } from '../../src/stages/derive-metrics.js'
import { sortRows } from '../../src/stages/sort-rows.js'
import { DOSE_COLUMNS, POSITION, axial, localizer } from '../fixtures/dose-rows.js'
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
