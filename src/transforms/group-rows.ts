/**
 * Grouper: one row per group of rows with equal key cells, holding the key cells, then the
 * aggregates, then the cells of each per-group accumulator (a metric's, such as the series' dose
 * columns). It streams: the rows come sorted by the keys (the sorter sees to it), so a group is
 * complete when a row with other keys arrives, and it comes out then. State: the current group's
 * key row, its aggregates (running folds, and for percentiles and count_distinct its values,
 * within `memoryBytes` in memory and in the sorter's runs on disk beyond) and one accumulator per
 * accumulator factory (each keeps what it needs, such as the slices of up to three positions for
 * dose); never the group's rows.
 */
import { Transform } from 'node:stream'
import { groupAggregates, type AggregateOp, type GroupAggregates } from '../metrics/aggregate.js'
import type { GroupAccumulator } from '../metrics/metric.js'
import type { Row } from '../records.js'
import { compareRows, type SortInfo } from './sort-rows.js'
import { sameOn } from './distinct-rows.js'
import type { Precision, TextOptions } from '../values.js'

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
  /** Significant digits of computed aggregates (sum, mean, percentiles, stddev). Default 4. */
  precision?: Precision
  /**
   * The bytes a group's held values (percentiles, count_distinct) may take in memory; beyond,
   * they go to disk in sorted runs, as the sorter's rows do. Default 64 MiB.
   */
  memoryBytes?: number
  /** Where spilled values go. Default `os.tmpdir()`. */
  tempDir?: string
  /** Runs of held values written to disk, over all groups. */
  spillInfo?: SortInfo
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
  const aggregates = groupAggregates(options.aggregates ?? [], {
    ...(options.format && { format: options.format }),
    ...(options.precision !== undefined && { precision: options.precision }),
    ...(options.memoryBytes !== undefined && { memoryBytes: options.memoryBytes }),
    ...(options.tempDir !== undefined && { tempDir: options.tempDir }),
    ...(options.spillInfo && { info: options.spillInfo }),
  })
  const accumulators = options.accumulators ?? []
  const info = options.info ?? { groups: 0 }
  const compare = compareRows(
    keys.map((index) => ({ index, descending: false })),
    options.format,
  )
  let group: Group | undefined
  /** A group whose row is being computed from its held values (destroyed with the stream too). */
  let ending: Group | undefined
  const newGroup = (row: Row): Group => ({
    row,
    aggregates: aggregates(),
    accumulators: accumulators.map((accumulator) => accumulator()),
  })
  /** The group's row; a promise when its aggregates read held values back. */
  const finish = (done: Group): Row | Promise<Row> => {
    info.groups++
    const row = (cells: readonly Row[number][]): Row => [
      ...keys.map((i) => done.row[i]),
      ...cells,
      ...done.accumulators.flatMap((a) => a.result()),
    ]
    const cells = done.aggregates.result()
    if (Array.isArray(cells)) return row(cells)
    ending = done
    return cells.then((result) => {
      ending = undefined
      return row(result)
    })
  }
  const repeat = options.distinct && options.distinct.length > 0 ? sameOn(options.distinct, options.format) : undefined
  let last: Row | undefined
  /** Adds a row to the current group; a promise while held values are being written. */
  const add = (row: Row): void | Promise<void> => {
    last = row
    const current = group as Group
    const wait = current.aggregates.add(row)
    for (const accumulator of current.accumulators) accumulator.add(row)
    return wait
  }
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(row: Row, _encoding, callback) {
      const order = group ? compare(group.row, row) : -1
      if (order > 0)
        return callback(new Error('groupRows needs rows sorted by the group keys: a row came out of order'))
      // A repeat of the row before (`distinct`): counted once.
      if (order === 0 && repeat && last && repeat(last, row)) return callback()
      let done: Row | Promise<Row> | undefined
      let wait: void | Promise<void>
      try {
        if (order < 0) {
          if (group) done = finish(group)
          group = newGroup(row)
        }
        // A group's row that is still being computed is pushed before the next group's first
        // row is added: the held values of one group at a time.
        if (done instanceof Promise) {
          done
            .then((ended) => {
              this.push(ended)
              return add(row)
            })
            .then(() => callback(), callback)
          return
        }
        if (done) this.push(done)
        wait = add(row)
      } catch (err) {
        return callback(err as Error)
      }
      if (wait) wait.then(() => callback(), callback)
      else callback()
    },
    flush(callback) {
      if (!group) return callback()
      let done: Row | Promise<Row>
      try {
        done = finish(group)
      } catch (err) {
        return callback(err as Error)
      }
      if (done instanceof Promise) done.then((ended) => callback(null, ended), callback)
      else callback(null, done)
    },
    destroy(error, callback) {
      ending?.aggregates.destroy()
      group?.aggregates.destroy()
      callback(error)
    },
  })
}

interface Group {
  /** The group's first row, for its key cells. */
  row: Row
  aggregates: GroupAggregates
  accumulators: GroupAccumulator[]
}
