/**
 * Aggregates over the values of a column within a group, each folded one value at a time in
 * constant memory. Empty values are skipped (as SQL skips NULL), so an aggregate of nothing is
 * null (an empty cell), except `count`, which is 0.
 */
import { compareValues, computedNumber, valueNumber, type TextOptions, type Value } from '../values.js'

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

/** Folds the values of one group. */
export interface Aggregator {
  add(value: Value): void
  /** The aggregate. */
  result(): Value
}

/** Null and '' are empty cells. */
const isEmpty = (value: Value): boolean => value === null || value === ''

/** A new aggregator for an operation. */
export function aggregator(op: AggregateOp, format: TextOptions = {}): Aggregator {
  switch (op) {
    case 'count': {
      let count = 0
      return { add: (value) => void (!isEmpty(value) && count++), result: () => count }
    }
    case 'sum':
    case 'mean': {
      let sum = 0
      let count = 0
      let text = false
      return {
        add(value) {
          if (isEmpty(value)) return
          const number = valueNumber(value)
          if (number === undefined) text = true
          else {
            sum += number
            count++
          }
        },
        result: () => (text || count === 0 ? null : computedNumber(op === 'sum' ? sum : sum / count)),
      }
    }
    case 'min':
    case 'max': {
      let best: Value | undefined
      const sign = op === 'min' ? 1 : -1
      return {
        add(value) {
          if (!isEmpty(value) && (best === undefined || sign * compareValues(value, best, format) < 0)) best = value
        },
        result: () => best ?? null,
      }
    }
    case 'first':
    case 'last': {
      let kept: Value | undefined
      return {
        add(value) {
          if (!isEmpty(value) && (op === 'last' || kept === undefined)) kept = value
        },
        result: () => kept ?? null,
      }
    }
  }
}
