/**
 * Drops repeated rows: rows that come sorted by the `distinct` columns (the sorter sees to it)
 * and equal the row before on all of them are left out, the first of each kept. Streams: it
 * holds one row. A dose report per series that repeats the exam's earlier events (as Siemens
 * scanners write them) gives each event once with `distinct: [IrradiationEventUID]`.
 */
import { Transform } from 'node:stream'
import type { Row, TextOptions } from '../values.js'
import { compareRows } from './sort-rows.js'

/** What the stage has done. */
export interface DistinctInfo {
  /** Rows left out as repeats. */
  dropped: number
}

/** Keeps the first of each run of rows equal on the columns (object mode: Rows in, Rows out). */
export function distinctRows(
  columns: readonly number[],
  options: { info?: DistinctInfo; format?: TextOptions } = {},
): Transform {
  const info = options.info ?? { dropped: 0 }
  const same = sameOn(columns, options.format)
  let previous: Row | undefined
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(row: Row, _encoding, callback) {
      if (previous && same(previous, row)) {
        info.dropped++
        return callback()
      }
      previous = row
      callback(null, row)
    },
  })
}

/** Whether two rows are equal on the columns, as the sorter compares them. */
export function sameOn(columns: readonly number[], format?: TextOptions): (a: Row, b: Row) => boolean {
  const compare = compareRows(
    columns.map((index) => ({ index, descending: false })),
    format,
  )
  return (a, b) => compare(a, b) === 0
}
