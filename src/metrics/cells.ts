/**
 * Numbers in cells: reading them as the sorter compares them, and writing computed ones back.
 */

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** Text in natural order (`IM2` before `IM10`), as the sorter and `min`/`max` compare it. */
export const naturalOrder = new Intl.Collator('en', { numeric: true })

/** Compares two cells ascending: empty last, numbers before text and by value, text naturally. */
export function compareCells(a: string, b: string): number {
  if (a === b) return 0
  if (a === '') return 1
  if (b === '') return -1
  const x = cellNumber(a)
  const y = cellNumber(b)
  if (x !== undefined && y !== undefined) return x - y || naturalOrder.compare(a, b)
  if (x !== undefined || y !== undefined) return x !== undefined ? -1 : 1
  return naturalOrder.compare(a, b)
}

/** The number a cell holds (`-2.5`, `1e3`), or undefined for empty cells and other text. */
export function cellNumber(cell: string): number | undefined {
  return NUMBER.test(cell) ? Number(cell) : undefined
}

/**
 * The numbers of a multi-valued cell (`-164.0625\-164.0625\-367.5`), or undefined unless it holds
 * exactly `count` numbers.
 */
export function cellNumbers(cell: string, count: number): number[] | undefined {
  const parts = cell.split('\\')
  if (parts.length !== count) return undefined
  const values: number[] = []
  for (const part of parts) {
    const value = cellNumber(part.trim())
    if (value === undefined) return undefined
    values.push(value)
  }
  return values
}

/**
 * A computed number as a cell: 15 significant digits, which drops the binary noise of sums and
 * products (`0.1 + 0.2` gives `0.3`) and keeps every digit the inputs can carry; empty when
 * undefined or not finite.
 */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return ''
  return String(Number(value.toPrecision(15)))
}
