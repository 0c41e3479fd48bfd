/**
 * Aggregates over the cells of a column within a group, each folded one cell at a time in
 * constant memory. Empty cells are skipped (as SQL skips NULL), so an aggregate of nothing is an
 * empty cell, except `count`, which is 0.
 */
import { cellNumber, compareCells, formatNumber } from './cells.js'

/** The aggregate operations of `aggregate[].op`. */
export const AGGREGATE_OPS = ['count', 'sum', 'min', 'max', 'mean', 'first', 'last'] as const
export type AggregateOp = (typeof AGGREGATE_OPS)[number]

/** What each operation gives, for the documentation and the schema. */
export const AGGREGATE_DOCS: Readonly<Record<AggregateOp, string>> = {
  count: 'the number of non-empty cells',
  sum: 'the sum of the numbers (empty if a cell is not a number)',
  min: 'the least cell in sort order (numbers by value, text naturally)',
  max: 'the greatest cell in sort order',
  mean: 'the mean of the numbers (empty if a cell is not a number)',
  first: 'the first non-empty cell, in row order',
  last: 'the last non-empty cell, in row order',
}

/** Folds the cells of one group. */
export interface Aggregator {
  add(cell: string): void
  /** The aggregate as a cell. */
  result(): string
}

/** A new aggregator for an operation. */
export function aggregator(op: AggregateOp): Aggregator {
  switch (op) {
    case 'count': {
      let count = 0
      return { add: (cell) => void (cell !== '' && count++), result: () => String(count) }
    }
    case 'sum':
    case 'mean': {
      let sum = 0
      let count = 0
      let text = false
      return {
        add(cell) {
          if (cell === '') return
          const value = cellNumber(cell)
          if (value === undefined) text = true
          else {
            sum += value
            count++
          }
        },
        result: () => (text || count === 0 ? '' : formatNumber(op === 'sum' ? sum : sum / count)),
      }
    }
    case 'min':
    case 'max': {
      let best: string | undefined
      const sign = op === 'min' ? 1 : -1
      return {
        add(cell) {
          if (cell !== '' && (best === undefined || sign * compareCells(cell, best) < 0)) best = cell
        },
        result: () => best ?? '',
      }
    }
    case 'first':
    case 'last': {
      let kept: string | undefined
      return {
        add(cell) {
          if (cell !== '' && (op === 'last' || kept === undefined)) kept = cell
        },
        result: () => kept ?? '',
      }
    }
  }
}
