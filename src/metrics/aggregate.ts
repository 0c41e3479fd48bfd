/**
 * Aggregates over the values of a column within a group. Empty values are skipped (as SQL skips
 * NULL), so an aggregate of nothing is null (an empty cell), except the counts, which are 0.
 *
 * Most fold one value at a time in constant memory (`stddev` too: Welford's running mean and sum
 * of squared deviations). The exact ranks of `median` and `pNN` and the exact `count_distinct`
 * need the group's values: `HeldValues` keeps them within a memory budget, handing them to the
 * sorter (sorted runs on disk) beyond it, and gives them back sorted when the group ends.
 *
 * Numbers are the typed values' (DS, IS, FD... as numbers, a Decimal as its nearest double),
 * never cell text read again; computed results are rounded to the precision asked for.
 */
import type { SortInfo } from '../transforms/sort-rows.js'
import {
  Decimal,
  DEFAULT_PRECISION,
  compareValues,
  computedNumber,
  valueNumber,
  type Precision,
  type Row,
  type TextOptions,
  type Value,
} from '../values.js'
import { HeldValues } from './held-values.js'

/** The aggregate operations of `aggregate[].op` named by a word; `pNN` (p0 to p100) besides. */
export const AGGREGATE_OPS = [
  'count',
  'sum',
  'min',
  'max',
  'mean',
  'first',
  'last',
  'median',
  'stddev',
  'count_distinct',
] as const

/** A percentile: `p25`, `p95`, from `p0` to `p100`. */
export type PercentileOp = `p${number}`
export type AggregateOp = (typeof AGGREGATE_OPS)[number] | PercentileOp

/** The percentile operations: `p` and an integer from 0 to 100, without leading zeros. */
export const PERCENTILE_OP = /^p(100|[1-9]?\d)$/

/** Whether a text is an aggregate operation. */
export function isAggregateOp(text: string): text is AggregateOp {
  return (AGGREGATE_OPS as readonly string[]).includes(text) || PERCENTILE_OP.test(text)
}

/** The percentile an operation asks for (`median`: 50, `p95`: 95), if it asks for one. */
export function percentileOf(op: AggregateOp): number | undefined {
  if (op === 'median') return 50
  return PERCENTILE_OP.test(op) ? Number(op.slice(1)) : undefined
}

/** What each operation gives, for the documentation and the schema, in the order documented. */
export const AGGREGATE_DOCS: Readonly<Record<(typeof AGGREGATE_OPS)[number] | 'pNN', string>> = {
  count: 'the number of non-empty cells',
  sum: 'the sum of the numbers, exact for whole numbers (empty if a cell is not a number)',
  min: 'the least cell in sort order (numbers by value, text naturally)',
  max: 'the greatest cell in sort order',
  mean: 'the mean of the numbers (empty if a cell is not a number)',
  median: 'the median of the numbers, `p50` (empty if a cell is not a number)',
  pNN:
    'the NNth percentile of the numbers (`p25`, `p95`; 0 to 100), interpolated linearly between the closest ranks ' +
    "as numpy's default (empty if a cell is not a number)",
  stddev:
    'the sample standard deviation of the numbers, with n - 1 (empty for fewer than 2, or if a cell is not a number)',
  count_distinct: 'the number of different non-empty cells (equal as `group_by` compares them)',
  first: 'the first non-empty cell, in row order',
  last: 'the last non-empty cell, in row order',
}

/** Folds the values of one group, in constant memory. */
export interface Aggregator {
  add(value: Value): void
  /** The aggregate. */
  result(): Value
}

/** The operations that fold in constant memory ({@link aggregator}); the others hold values. */
export type FoldOp = Exclude<(typeof AGGREGATE_OPS)[number], 'median' | 'count_distinct'>

/** Whether an operation folds in constant memory. */
export function isFoldOp(op: AggregateOp): op is FoldOp {
  return op !== 'median' && op !== 'count_distinct' && !PERCENTILE_OP.test(op)
}

/** Null and '' are empty cells. */
const isEmpty = (value: Value): boolean => value === null || value === ''

/** The number a typed value is (a number, or a Decimal's nearest double); text is not one. */
export function typedNumber(value: Value): number | undefined {
  if (typeof value === 'number') return value
  return value instanceof Decimal ? value.number : undefined
}

/**
 * A new aggregator for an operation that folds in constant memory; computed numbers (sum, mean,
 * stddev) keep `precision` significant digits (default {@link DEFAULT_PRECISION}).
 */
export function aggregator(op: FoldOp, format: TextOptions = {}, precision: Precision = DEFAULT_PRECISION): Aggregator {
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
      /** Only whole numbers so far: their sum is exact (a count of frames is not rounded). */
      let whole = true
      return {
        add(value) {
          if (isEmpty(value)) return
          const number = valueNumber(value)
          if (number === undefined) text = true
          else {
            sum += number
            count++
            whole &&= Number.isInteger(number)
          }
        },
        result() {
          if (text || count === 0) return null
          if (op === 'sum') return whole && Number.isSafeInteger(sum) ? sum : computedNumber(sum, precision)
          return computedNumber(sum / count, precision)
        },
      }
    }
    case 'stddev': {
      // Welford (1962): the running mean and the sum of squared deviations from it, without the
      // cancellation of sum(x^2) - n * mean^2.
      let count = 0
      let mean = 0
      let squares = 0
      let text = false
      return {
        add(value) {
          if (isEmpty(value)) return
          const number = typedNumber(value)
          if (number === undefined) return void (text = true)
          count++
          const delta = number - mean
          mean += delta / count
          squares += delta * (number - mean)
        },
        result: () => (text || count < 2 ? null : computedNumber(Math.sqrt(squares / (count - 1)), precision)),
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

/**
 * The percentile `p` (0 to 100) of `count` sorted numbers, by linear interpolation between the
 * closest ranks (Hyndman and Fan's definition 7, numpy's and R's default): at rank
 * h = (count - 1) x p / 100 (from 0), x[floor h] + (h - floor h) x (x[floor h + 1] - x[floor h]).
 * The ranks it reads, for {@link percentileRanks}.
 */
export function percentileRanks(count: number, p: number): { low: number; high: number; fraction: number } {
  // (count - 1) x p is an integer: the rank's whole part and fraction come exactly.
  const scaled = (count - 1) * p
  const low = Math.floor(scaled / 100)
  const fraction = (scaled - low * 100) / 100
  return { low, high: Math.min(low + 1, count - 1), fraction }
}

/** The percentile from the numbers at its ranks. */
function interpolate(low: number, high: number, fraction: number): number {
  return fraction === 0 ? low : low + fraction * (high - low)
}

/** The exact percentiles `ps` (0 to 100) of numbers in any order: a plain computation, for tests and library use. */
export function percentiles(numbers: readonly number[], ps: readonly number[]): (number | undefined)[] {
  const sorted = Float64Array.from(numbers).sort()
  return ps.map((p) => {
    if (sorted.length === 0) return undefined
    const { low, high, fraction } = percentileRanks(sorted.length, p)
    return interpolate(sorted[low], sorted[high], fraction)
  })
}

/** One aggregate column of a grouped pipeline: an operation over the cells of a column. */
export interface AggregateColumn {
  index: number
  op: AggregateOp
}

/** Options of {@link groupAggregates}. */
export interface GroupAggregatesOptions {
  /** How min, max and count_distinct compare where text counts. */
  format?: TextOptions
  /** Significant digits of computed numbers. Default {@link DEFAULT_PRECISION}. */
  precision?: Precision
  /**
   * The bytes a group's held values may take in memory (shared by its percentile and
   * count_distinct columns); beyond, they go to the sorter's runs on disk. Default 64 MiB.
   */
  memoryBytes?: number
  /** Where spilled values go. Default `os.tmpdir()`. */
  tempDir?: string
  /** The sorter's counts of spilled values (runs written), summed over groups. */
  info?: SortInfo
}

/** The aggregates of one group: each row's cells in, one value per aggregate column out. */
export interface GroupAggregates {
  /** Takes a row; a promise when held values went to disk and the writer asks to wait. */
  add(row: Row): void | Promise<void>
  /** The aggregates, once the group has ended; a promise when some were held. */
  result(): Value[] | Promise<Value[]>
  /** Forgets held values (and removes spilled runs). */
  destroy(): void
}

/** A group's held values of one column: numbers for percentiles, any values for count_distinct. */
interface Store {
  index: number
  numbers: boolean
}

/**
 * The aggregates of a grouped pipeline: a factory of {@link GroupAggregates}, called per group.
 * Percentiles of one column share one store of its numbers; `count_distinct` keeps its values.
 */
export function groupAggregates(
  columns: readonly AggregateColumn[],
  options: GroupAggregatesOptions = {},
): () => GroupAggregates {
  const format = options.format ?? {}
  const precision = options.precision ?? DEFAULT_PRECISION
  const stores: Store[] = []
  const storeOf = (index: number, numbers: boolean) => {
    let at = stores.findIndex((s) => s.index === index && s.numbers === numbers)
    if (at < 0) at = stores.push({ index, numbers }) - 1
    return at
  }
  const plan = columns.map(({ index, op }) =>
    isFoldOp(op)
      ? { index, op, fold: op }
      : { index, op, store: storeOf(index, op !== 'count_distinct'), percentile: percentileOf(op) },
  )
  const memoryBytes = Math.max(1, Math.floor((options.memoryBytes ?? 64 * 1024 * 1024) / Math.max(1, stores.length)))
  return () => {
    const folds = plan.map((p) => (p.fold ? aggregator(p.fold, format, precision) : undefined))
    const held = stores.map(
      () =>
        new HeldValues({
          memoryBytes,
          format,
          ...(options.tempDir !== undefined && { tempDir: options.tempDir }),
          ...(options.info && { info: options.info }),
        }),
    )
    /** A number store that met a cell that is not a number: its percentiles are empty. */
    const notNumbers = stores.map(() => false)
    return {
      add(row) {
        for (let i = 0; i < plan.length; i++) folds[i]?.add(row[plan[i].index] ?? null)
        let waits: Promise<void>[] | undefined
        for (let s = 0; s < stores.length; s++) {
          const value = row[stores[s].index] ?? null
          if (isEmpty(value) || notNumbers[s]) continue
          let wait: void | Promise<void>
          if (stores[s].numbers) {
            const number = typedNumber(value)
            if (number === undefined || Number.isNaN(number)) {
              notNumbers[s] = true
              continue
            }
            wait = held[s].add(number)
          } else wait = held[s].add(value)
          if (wait) (waits ??= []).push(wait)
        }
        if (waits) return Promise.all(waits).then(() => undefined)
      },
      result() {
        const cells = (found: readonly (Map<number, number> | number | undefined)[]) =>
          plan.map((p, i): Value => {
            const fold = folds[i]
            if (fold) return fold.result()
            const store = p.store as number
            const count = held[store].count
            if (p.percentile === undefined) return found[store] as number
            if (notNumbers[store] || count === 0) return null
            const at = found[store] as Map<number, number>
            const { low, high, fraction } = percentileRanks(count, p.percentile)
            return computedNumber(interpolate(at.get(low) as number, at.get(high) as number, fraction), precision)
          })
        if (stores.length === 0) return cells([])
        return Promise.all(
          stores.map((store, s) => {
            if (!store.numbers) return countDistinct(held[s], format)
            if (notNumbers[s]) {
              held[s].destroy()
              return undefined
            }
            const ranks = new Set<number>()
            for (const p of plan) {
              if (p.store !== s || p.percentile === undefined || held[s].count === 0) continue
              const { low, high } = percentileRanks(held[s].count, p.percentile)
              ranks.add(low).add(high)
            }
            return valuesAt(held[s], ranks)
          }),
        ).then(cells)
      },
      destroy() {
        for (const store of held) store.destroy()
      },
    }
  }
}

/** The numbers at the given ranks (from 0) of a store's sorted values. */
async function valuesAt(store: HeldValues, ranks: ReadonlySet<number>): Promise<Map<number, number>> {
  const found = new Map<number, number>()
  let rank = 0
  outer: for await (const batch of store.sorted()) {
    for (const value of batch) {
      if (ranks.has(rank)) found.set(rank, value as number)
      rank++
      // The ranks above the highest wanted are not read (the runs are removed all the same).
      if (found.size === ranks.size) break outer
    }
  }
  store.destroy()
  return found
}

/** How many different values a store holds: the changes along its sorted values, plus one. */
async function countDistinct(store: HeldValues, format: TextOptions): Promise<number> {
  let count = 0
  let previous: Value | undefined
  for await (const batch of store.sorted()) {
    for (const value of batch) {
      if (previous === undefined || compareValues(previous, value, format) !== 0) count++
      previous = value
    }
  }
  return count
}
