/**
 * Rewrites the text values of the columns that ask for it (`normalise:` in `extract`), so that
 * names written differently ("Thorax 3.0 B30f", "THORAX 3.0  B30F") sort and group together.
 * Text values only (strings, and the strings of a multi-valued cell); numbers, dates, names and
 * bytes pass as they are. Stateless: each row is rewritten in place as it goes through.
 */
import { Transform } from 'node:stream'
import type { ColumnSpec, NormaliseStep } from '../records.js'
import type { Row, Value } from '../values.js'

const STEPS: Readonly<Record<NormaliseStep, (text: string) => string>> = {
  lower: (text) => text.toLowerCase(),
  upper: (text) => text.toUpperCase(),
  trim: (text) => text.trim().replace(/\s+/g, ' '),
  no_digits: (text) => text.replace(/\p{Nd}/gu, ''),
  no_punctuation: (text) => text.replace(/[\p{P}\p{S}]/gu, ''),
}

/** A text after the steps, in order. */
export function normaliseText(text: string, steps: readonly NormaliseStep[]): string {
  let out = text
  for (const step of steps) out = STEPS[step](out)
  return out
}

function normaliseValue(value: Value, steps: readonly NormaliseStep[]): Value {
  if (typeof value === 'string') return normaliseText(value, steps)
  if (Array.isArray(value)) return value.map((v) => normaliseValue(v, steps))
  return value
}

/** The stage, or undefined when no column asks for it. */
export function normaliseColumns(columns: readonly ColumnSpec[]): Transform | undefined {
  const asked = columns.flatMap((c, i) => (c.normalise?.length ? [{ index: i, steps: c.normalise }] : []))
  if (asked.length === 0) return undefined
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(row: Row, _encoding, callback) {
      for (const { index, steps } of asked) row[index] = normaliseValue(row[index], steps)
      callback(null, row)
    },
  })
}
