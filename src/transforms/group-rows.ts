/**
 * Grouper: one row per group of rows with equal key cells, holding the key cells, then the
 * aggregates, then the cells of each per-group accumulator (a metric's, such as the series' dose
 * columns). It streams: the rows come sorted by the keys (the sorter sees to it), so a group is
 * complete when a row with other keys arrives, and it comes out then. State: the current group's
 * key row, one accumulator per aggregate and one per accumulator factory (each keeps what it
 * needs, such as the slices of up to three positions for dose); never the group's rows.
 */
import { Transform } from 'node:stream'
import { aggregator, type AggregateOp, type Aggregator } from '../metrics/aggregate.js'
import type { GroupAccumulator } from '../metrics/metric.js'
import type { Row } from '../records.js'
import { compareRows } from './sort-rows.js'
import { sameOn } from './distinct-rows.js'
import type { TextOptions } from '../values.js'

/** Options of {@link groupRows}. */
export interface GroupRowsOptions {
  /** The key columns: rows with equal cells there form a group. */
  keys: readonly number[]
  /** Aggregates, in output order: an operation over a column. */
  aggregates?: readonly { index: number; op: AggregateOp }[]
  /**
   * Accumulators over whole rows, in output order: each factory is called for each group, and
   * its accumulator's cells follow the aggregates (a metric's per-group columns).
   */
  accumulators?: readonly (() => GroupAccumulator)[]
  /** Counts, updated as the stream goes. */
  info?: GroupInfo
  /** Columns on which a row that equals the row before in its group is skipped (`distinct`). */
  distinct?: readonly number[]
  /** How keys and min/max compare where their text counts (names and binary values as the cells show them). */
  format?: TextOptions
}

/** What the grouper has done. */
export interface GroupInfo {
  /** Groups written. */
  groups: number
}

/**
 * Groups rows sorted by the keys (object mode: Rows in, one Row per group out).
 * @throws Error (destroying the stream) on rows out of key order, or an accumulator's error
 * (rows out of the order it needs).
 */
export function groupRows(options: GroupRowsOptions): Transform {
  const { keys } = options
  const aggregates = options.aggregates ?? []
  const accumulators = options.accumulators ?? []
  const info = options.info ?? { groups: 0 }
  const compare = compareRows(
    keys.map((index) => ({ index, descending: false })),
    options.format,
  )
  let group: Group | undefined
  const newGroup = (row: Row): Group => ({
    row,
    aggregators: aggregates.map(({ op }) => aggregator(op, options.format)),
    accumulators: accumulators.map((accumulator) => accumulator()),
  })
  const finish = (done: Group): Row => {
    info.groups++
    return [
      ...keys.map((i) => done.row[i]),
      ...done.aggregators.map((a) => a.result()),
      ...done.accumulators.flatMap((a) => a.result()),
    ]
  }
  const repeat = options.distinct && options.distinct.length > 0 ? sameOn(options.distinct, options.format) : undefined
  let last: Row | undefined
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
      } else if (repeat && last && repeat(last, row)) {
        // A repeat of the row before (`distinct`): counted once.
        return callback()
      }
      last = row
      const current = group as Group
      for (const [i, { index }] of aggregates.entries()) current.aggregators[i].add(row[index])
      try {
        for (const accumulator of current.accumulators) accumulator.add(row)
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
  accumulators: GroupAccumulator[]
}
