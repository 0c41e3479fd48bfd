/**
 * Sorter buffer: the only stage that holds rows. It collects every row, then emits them sorted
 * by one or more columns: numbers numerically, other text in natural order ("IM2" before
 * "IM10"), empty cells last whatever the direction, ties in arrival order (stable).
 */
import { Transform } from 'node:stream'
import type { Row } from './project-keywords.js'

/** One sort key: a column index and its direction. */
export interface SortColumn {
  index: number
  descending: boolean
}

const collator = new Intl.Collator('en', { numeric: true })
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** Compares two cells ascending: empty last, numbers before text and by value, text naturally. */
export function compareCells(a: string, b: string): number {
  if (a === b) return 0
  if (a === '') return 1
  if (b === '') return -1
  const aNumber = NUMBER.test(a)
  const bNumber = NUMBER.test(b)
  if (aNumber && bNumber) return Number(a) - Number(b) || collator.compare(a, b)
  if (aNumber !== bNumber) return aNumber ? -1 : 1
  return collator.compare(a, b)
}

/** A row comparator for the keys; empty cells stay last in descending order too. */
export function compareRows(keys: readonly SortColumn[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const { index, descending } of keys) {
      const x = a[index]
      const y = b[index]
      if (x === y) continue
      if (x === '' || y === '') return x === '' ? 1 : -1
      const c = compareCells(x, y)
      if (c !== 0) return descending ? -c : c
    }
    return 0
  }
}

/** Sorts rows (Array.prototype.sort is stable). */
export function sortRowsInMemory(rows: Row[], keys: readonly SortColumn[]): Row[] {
  return rows.sort(compareRows(keys))
}

/** The sorter as a Transform stream (object mode: Rows in, the same Rows out in order). */
export function sortRows(keys: readonly SortColumn[]): Transform {
  const rows: Row[] = []
  return new Transform({
    objectMode: true,
    transform(row: Row, _encoding, callback) {
      rows.push(row)
      callback()
    },
    flush(callback) {
      sortRowsInMemory(rows, keys)
      for (const row of rows) this.push(row)
      rows.length = 0
      callback()
    },
  })
}
