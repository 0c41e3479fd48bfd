/**
 * Computed numbers as text, for the notes that metrics write (`gap of 15 mm`).
 */

/**
 * A computed number as text: 15 significant digits, which drops the binary noise of sums and
 * products (`0.1 + 0.2` gives `0.3`); empty when undefined or not finite.
 */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return ''
  return String(Number(value.toPrecision(15)))
}
