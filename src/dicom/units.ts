/**
 * Measurement units of SR numeric content (MeasurementUnitsCodeSequence CodeValue, UCUM), and
 * their conversion. Only the units below are known; every conversion is by a power of ten, done
 * on the decimal text, so `1.1 cm` is `11 mm` exactly (not `11.000000000000002`).
 */
import { Decimal } from '../values.js'

/** What a unit measures, and its power of ten against the first unit of that kind. */
const UNITS: Readonly<Record<string, { kind: string; exponent: number }>> = {
  'mGy.cm': { kind: 'dose length product', exponent: 0 },
  // GE writes DLP as `mGycm`, not UCUM's `mGy.cm`.
  mGycm: { kind: 'dose length product', exponent: 0 },
  mGy: { kind: 'dose', exponent: 0 },
  Gy: { kind: 'dose', exponent: 3 },
  // Dose area product (projection X-ray, TID 10003): UCUM Gy.m2; some vendors write dGy.cm2,
  // cGy.cm2 or mGy.cm2 (1 Gy.m2 = 10^4 Gy.cm2).
  'Gy.m2': { kind: 'dose area product', exponent: 0 },
  'Gy.cm2': { kind: 'dose area product', exponent: -4 },
  'dGy.cm2': { kind: 'dose area product', exponent: -5 },
  'cGy.cm2': { kind: 'dose area product', exponent: -6 },
  'mGy.cm2': { kind: 'dose area product', exponent: -7 },
  'uGy.m2': { kind: 'dose area product', exponent: -6 },
  mm: { kind: 'length', exponent: 0 },
  cm: { kind: 'length', exponent: 1 },
  s: { kind: 'time', exponent: 0 },
  ms: { kind: 'time', exponent: -3 },
  // Tube current-time product (Exposure, 113736).
  'mA.s': { kind: 'current-time product', exponent: 0 },
  'uA.s': { kind: 'current-time product', exponent: -3 },
  // Tube current.
  mA: { kind: 'current', exponent: 0 },
  kV: { kind: 'voltage', exponent: 0 },
  // Administered activity (radiopharmaceutical reports, TID 10022). mCi is no power of ten of
  // MBq (37 MBq): unknown, so never converted wrongly.
  MBq: { kind: 'activity', exponent: 0 },
  Bq: { kind: 'activity', exponent: -6 },
  kBq: { kind: 'activity', exponent: -3 },
  GBq: { kind: 'activity', exponent: 3 },
}

/** The units a column may ask for, and that values are converted from. */
export const UNIT_NAMES: readonly string[] = Object.keys(UNITS)

/** True for a unit of {@link UNIT_NAMES}. */
export function isKnownUnit(unit: string): boolean {
  return Object.hasOwn(UNITS, unit)
}

/**
 * A number in unit `from` expressed in unit `to`; a string saying why not (an unknown unit,
 * or units of different kinds) when it cannot be converted.
 */
export function convertUnit(value: number | Decimal, from: string, to: string): number | Decimal | string {
  const source = Object.hasOwn(UNITS, from) ? UNITS[from] : undefined
  const target = Object.hasOwn(UNITS, to) ? UNITS[to] : undefined
  if (!source) return `unknown unit "${from}" (known: ${UNIT_NAMES.join(', ')})`
  if (!target) return `unknown unit "${to}" (known: ${UNIT_NAMES.join(', ')})`
  if (source.kind !== target.kind) return `unit "${from}" is a ${source.kind}, not a ${target.kind} like "${to}"`
  const shift = source.exponent - target.exponent
  if (shift === 0) return value
  if (value instanceof Decimal) return new Decimal(shifted(value.text, shift))
  return Number(shifted(String(value), shift))
}

/** A decimal text times 10^shift, as decimal text with an exponent (`1.1` and 1: `1.1e1`). */
function shifted(text: string, shift: number): string {
  const m = /^(.*?)(?:[eE]([+-]?\d+))?$/.exec(text) as RegExpExecArray
  return `${m[1]}e${Number(m[2] ?? 0) + shift}`
}
