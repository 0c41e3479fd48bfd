/**
 * Grouper: one row per group of rows with equal key cells, holding the key cells, then the
 * aggregates, then (for a dose pipeline) the series' dose columns. It streams: the rows come
 * sorted by the keys (the sorter sees to it), so a group is complete when a row with other keys
 * arrives, and it comes out then. State: the current group's key row, one accumulator per
 * aggregate and, with dose, the slices of up to three positions (`SliceWindow`) and the series
 * sums (`SeriesDose`); never the group's rows.
 */
import { Transform } from 'node:stream'
import { aggregator, type AggregateOp, type Aggregator } from '../metrics/aggregate.js'
import {
  SeriesDose,
  SliceWindow,
  locateSlice,
  seriesDoseCells,
  type DoseSlice,
  type RegionSetting,
} from '../metrics/dlp.js'
import { doseSlice, sliceCells, type DoseColumns } from './derive-metrics.js'
import type { Row } from '../records.js'
import { compareRows } from './sort-rows.js'

/** Options of {@link groupRows}. */
export interface GroupRowsOptions {
  /** The key columns: rows with equal cells there form a group. */
  keys: readonly number[]
  /** Aggregates, in output order: an operation over a column. */
  aggregates?: readonly { index: number; op: AggregateOp }[]
  /**
   * Dose columns per group (`SERIES_DOSE_COLUMNS`): the rows come as `locateSlices` leaves them,
   * sorted by the keys and then by `position`.
   */
  dose?: { columns: DoseColumns; position: number; region: RegionSetting }
  /** Counts, updated as the stream goes. */
  info?: GroupInfo
}

/** What the grouper has done. */
export interface GroupInfo {
  /** Groups written. */
  groups: number
}

/**
 * Groups rows sorted by the keys (object mode: Rows in, one Row per group out).
 * @throws Error (destroying the stream) on rows out of key order, or of position order with dose.
 */
export function groupRows(options: GroupRowsOptions): Transform {
  const { keys, dose } = options
  const aggregates = options.aggregates ?? []
  const info = options.info ?? { groups: 0 }
  const compare = compareRows(keys.map((index) => ({ index, descending: false })))
  let group: Group | undefined
  const newGroup = (row: Row): Group => ({
    row,
    aggregators: aggregates.map(({ op }) => aggregator(op)),
    window: new SliceWindow<DoseSlice>(),
    dose: new SeriesDose(),
    excludedSeen: false,
  })
  const finish = (done: Group): Row => {
    info.groups++
    const cells = [...keys.map((i) => done.row[i]), ...done.aggregators.map((a) => a.result())]
    if (!dose) return cells
    for (const slice of done.window.end()) done.dose.add(slice)
    return [...cells, ...seriesDoseCells(done.dose.result(dose.region))]
  }
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(row: Row, _encoding, callback) {
      const order = group ? compare(group.row, row) : -1
      if (order > 0)
        return callback(new Error('groupRows needs rows sorted by the group keys: a row came out of order'))
      if (order < 0) {
        if (group) this.push(finish(group))
        group = newGroup(row)
      }
      const current = group as Group
      for (const [i, { index }] of aggregates.entries()) current.aggregators[i].add(row[index])
      if (!dose) return callback()
      const location = locateSlice(sliceCells(row, dose.columns))
      const at = row[dose.position]
      if (location.excluded || typeof at !== 'number') {
        current.excludedSeen = true
        current.dose.exclude(location.excluded ?? 'no position')
        return callback()
      }
      if (current.excludedSeen) {
        return callback(new Error('groupRows needs the rows of a group sorted by position: a row came out of order'))
      }
      try {
        for (const slice of current.window.push(at, doseSlice(row, dose.columns, location))) {
          current.dose.add(slice)
        }
      } catch (err) {
        return callback(err as Error)
      }
      callback()
    },
    flush(callback) {
      if (group) this.push(finish(group))
      callback()
    },
  })
}

interface Group {
  /** The group's first row, for its key cells. */
  row: Row
  aggregators: Aggregator[]
  window: SliceWindow<DoseSlice>
  dose: SeriesDose
  /** An excluded image has been seen: only more of them may follow (they sort last). */
  excludedSeen: boolean
}
