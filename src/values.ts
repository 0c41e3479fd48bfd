/**
 * Typed values: what a column holds between the reader and the sink. The reader decodes each
 * element by its VR (PS3.5 section 6.2) into one of these; only text sinks turn them into text
 * (with the `format:` options), and metrics, grouping and sorting read them as they are.
 *
 * - `null`: absent or empty;
 * - `number`: DS, IS, FL, FD, US, SS, UL, SL, SV, UV, exact as a double ({@link Decimal} where a
 *   double cannot hold the stored digits: an IS over 2^53, a DS of 20 digits);
 * - `string`: text VRs (decoded per Specific Character Set, padding removed), UIDs, code
 *   strings, AT as `(gggg,eeee)`;
 * - {@link PersonName}, {@link DicomDate}: PN, DA, TM, DT as stored, with their parts parsed;
 * - {@link Binary}: OB, OW, UN... bytes (or only their length);
 * - arrays: multiple values (VM > 1), or one value per sequence item a path reached (`[*]`).
 */

/** One typed value of a column. */
export type Value = null | string | number | Decimal | PersonName | DicomDate | Binary | Value[]

/** A row: one value per column, in column order. */
export type Row = Value[]

/** A number whose stored digits a double cannot hold: kept as text, with the nearest double. */
export class Decimal {
  constructor(
    /** The decimal as stored (sign, digits, exponent), without padding or `+`. */
    readonly text: string,
  ) {}
  /** The nearest double. */
  get number(): number {
    return Number(this.text)
  }
  toJSON(): object {
    return { $dec: this.text }
  }
}

/** The component groups of a PN (alphabetic, ideographic, phonetic), as stored. */
export class PersonName {
  constructor(
    /** The whole value (`Yamada^Tarou=山田^太郎=やまだ^たろう`). */
    readonly stored: string,
  ) {}
  /** One component group (`Yamada^Tarou`); '' when absent. */
  group(name: 'alphabetic' | 'ideographic' | 'phonetic'): string {
    return this.stored.split('=')[NAME_GROUPS[name]] ?? ''
  }
  toJSON(): object {
    return { $pn: this.stored }
  }
}

const NAME_GROUPS = { alphabetic: 0, ideographic: 1, phonetic: 2 } as const

/** A DA, TM or DT as stored (`20240312`), with its ISO 8601 form when it parses. */
export class DicomDate {
  constructor(
    readonly vr: 'DA' | 'TM' | 'DT',
    readonly stored: string,
  ) {}
  /** ISO 8601 (`2024-03-12`, `09:28:15.672`, `2024-03-12T09:28:15+01:00`); the stored text if it does not parse. */
  get iso(): string {
    return ISO_DATES[this.vr](this.stored)
  }
  toJSON(): object {
    return { $dt: [this.vr, this.stored] }
  }
}

/** The bytes of a binary value (OB, OW, OF, UN...). */
export class Binary {
  constructor(readonly bytes: Uint8Array) {}
  get base64(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('base64')
  }
  toJSON(): object {
    return { $bin: this.base64 }
  }
}

/** How values become text (the `format:` options of a pipeline that text sinks apply). */
export interface TextOptions {
  /** Joins multiple values. Default backslash, as DICOM stores them. */
  separator?: string
  /** DA, TM, DT as stored (`20240312`), or as ISO 8601 (`2024-03-12`, `09:28:15.672`). Default stored. */
  dates?: 'stored' | 'iso'
  /** PN whole (`Yamada^Tarou=山田^太郎=やまだ^たろう`), or one component group of it. Default stored. */
  names?: 'stored' | 'alphabetic' | 'ideographic' | 'phonetic'
  /** Binary VRs (OB, OW, UN...) as base64, or as their length in bytes. Default base64. */
  binary?: 'base64' | 'length'
}

/** A value as cell text: '' for null, multiple values joined with the separator. */
export function valueText(value: Value, options: TextOptions = {}): string {
  if (value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  if (Array.isArray(value)) {
    const separator = options.separator ?? '\\'
    let text = ''
    for (let i = 0; i < value.length; i++)
      text += i === 0 ? valueText(value[i], options) : separator + valueText(value[i], options)
    return text
  }
  if (value instanceof Decimal) return value.text
  if (value instanceof PersonName)
    return options.names && options.names !== 'stored' ? value.group(options.names) : value.stored
  if (value instanceof DicomDate) return options.dates === 'iso' ? value.iso : value.stored
  return options.binary === 'length' ? String(value.bytes.length) : value.base64
}

/** A row's values as cell texts. */
export function rowText(row: readonly Value[], options: TextOptions = {}): string[] {
  const cells = new Array<string>(row.length)
  for (let i = 0; i < row.length; i++) {
    const value = row[i]
    cells[i] = typeof value === 'string' ? value : valueText(value, options)
  }
  return cells
}

/**
 * A value as JSON text: numbers as numbers (a {@link Decimal} with its exact digits), multiple
 * values as arrays, null as null; names, dates and bytes as their text per the options.
 */
export function valueJson(value: Value, options: TextOptions = {}): string {
  if (value === null) return 'null'
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (Array.isArray(value)) {
    let text = '['
    for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + valueJson(value[i], options)
    return `${text}]`
  }
  if (value instanceof Decimal) return value.text
  if (value instanceof Binary && options.binary === 'length') return String(value.bytes.length)
  return JSON.stringify(valueText(value, options))
}

/** The number a value holds: a number, a Decimal, or text that is a decimal number; else undefined. */
export function valueNumber(value: Value): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'string') return NUMBER.test(value) ? Number(value) : undefined
  if (value instanceof Decimal) return value.number
  return undefined
}

/** Exactly `count` numbers of a multi-valued value (`ImagePositionPatient`), or undefined. */
export function valueNumbers(value: Value, count: number): number[] | undefined {
  if (count === 1 && !Array.isArray(value)) {
    const one = valueNumber(value)
    return one === undefined ? undefined : [one]
  }
  if (!Array.isArray(value) || value.length !== count) return undefined
  const numbers: number[] = []
  for (const v of value) {
    const n = valueNumber(v)
    if (n === undefined) return undefined
    numbers.push(n)
  }
  return numbers
}

/** The text values of a value: one for a scalar, each of a multi-value; none for null. */
export function valueStrings(value: Value): string[] {
  if (value === null) return []
  if (Array.isArray(value)) return value.flatMap(valueStrings)
  return [valueText(value)]
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** Text in natural order (`IM2` before `IM10`), as the sorter and `min`/`max` compare it. */
export const naturalOrder = new Intl.Collator('en', { numeric: true })

/**
 * The number a value is ordered by: its number; with `binary: length`, a binary value's length
 * (what the cell shows).
 */
export function orderNumber(value: Value, options: TextOptions = {}): number | undefined {
  if (value instanceof Binary) return options.binary === 'length' ? value.bytes.length : undefined
  return valueNumber(value)
}

/**
 * The text a value is ordered by: its cell text (names and binary values as the options write
 * them, so that what looks the same groups together), except dates and times, which go by their
 * ISO 8601 form: chronological, whether stored `20240312` or in the old `2024.03.12`.
 */
export function orderText(value: Value, options: TextOptions = {}): string {
  return value instanceof DicomDate ? value.iso : valueText(value, options)
}

/**
 * Compares two values ascending: empty last, numbers before text and by value, text naturally
 * (multiple values by their text; see {@link orderText}, {@link orderNumber}).
 */
export function compareValues(a: Value, b: Value, options: TextOptions = {}): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  if (typeof a === 'number' && typeof b === 'number')
    return a - b || (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : 0)
  const x = orderNumber(a, options)
  const y = orderNumber(b, options)
  const textA = orderText(a, options)
  const textB = orderText(b, options)
  if (x !== undefined && y !== undefined) return x - y || naturalOrder.compare(textA, textB)
  if (textA === '' || textB === '') return textA === textB ? 0 : textA === '' ? 1 : -1
  if (x !== undefined || y !== undefined) return x !== undefined ? -1 : 1
  return naturalOrder.compare(textA, textB)
}

/**
 * How many significant digits a computed number keeps (`format.precision`): 1 to 17, or `full`,
 * every digit of the double as computed (what reads back as the same double; 17 is the same).
 */
export type Precision = number | 'full'

/**
 * The default {@link Precision}: 4 significant digits, as doses are read and compared (a DLP of
 * `1126` mGy.cm, a CTDIvol of `56.3` mGy, an effective dose of `2.365` mSv): beyond that, the
 * digits are below the accuracy of a CTDIvol (some percent) and only hide the number.
 */
export const DEFAULT_PRECISION = 4

/**
 * A computed number (a sum, a DLP) rounded to `precision` significant digits (default 15, which
 * drops the binary noise of sums and products: `0.1 + 0.2` gives 0.3; `full` keeps every digit);
 * null when undefined or not finite.
 */
export function computedNumber(value: number | undefined, precision: Precision = 15): number | null {
  if (value === undefined || !Number.isFinite(value)) return null
  return precision === 'full' ? value : Number(value.toPrecision(precision))
}

/** A row as JSON text that {@link parseRow} reads back with every value's type (sort runs, state). */
export function stringifyRow(row: readonly Value[]): string {
  return stringifyJson(row)
}

/**
 * JSON text of anything holding typed values, read back by {@link parseJson}: typed objects
 * write themselves (`toJSON`); numbers JSON cannot hold (NaN, infinities, which FL and FD can
 * store) are written `{"$num": "Infinity"}`, never as null.
 */
export function stringifyJson(value: unknown): string {
  return hasNonFinite(value) ? JSON.stringify(value, keepNonFinite) : JSON.stringify(value)
}

function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return value - value !== 0
  if (!Array.isArray(value)) return false
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i]
    if (typeof item === 'number' ? item - item !== 0 : Array.isArray(item) && hasNonFinite(item)) return true
  }
  return false
}

function keepNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $num: String(value) } : value
}

/** A row written by {@link stringifyRow}. */
export function parseRow(json: string): Row {
  return parseJson(json) as Row
}

/** JSON text with typed values in it (as their `toJSON` wrote them), read back with their types. */
export function parseJson(json: string): unknown {
  // Typed objects are written as `{"$xx":...}`; text without them needs no reviver.
  return json.indexOf('{"$') < 0 ? JSON.parse(json) : JSON.parse(json, revive)
}

function revive(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const o = value as Record<string, unknown>
  if (typeof o.$dec === 'string') return new Decimal(o.$dec)
  if (typeof o.$num === 'string') return Number(o.$num)
  if (typeof o.$pn === 'string') return new PersonName(o.$pn)
  if (Array.isArray(o.$dt)) return new DicomDate(o.$dt[0] as 'DA' | 'TM' | 'DT', String(o.$dt[1]))
  if (typeof o.$bin === 'string') return new Binary(Buffer.from(o.$bin, 'base64'))
  return value
}

/** ISO 8601 forms of DA, TM and DT (PS3.5 table 6.2-1); a value that does not parse stays as stored. */
const ISO_DATES: Record<'DA' | 'TM' | 'DT', (value: string) => string> = {
  DA: (v) => {
    const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v)
    return m ? `${m[1]}-${m[2]}-${m[3]}` : v
  },
  TM: (v) => isoTime(v) ?? v,
  DT: (v) => {
    const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$/.exec(v)
    if (!m) return v
    let out = m[1] + (m[2] ? `-${m[2]}` : '') + (m[3] ? `-${m[3]}` : '')
    if (m[4]) out += `T${isoTime(m[4])}`
    if (m[5]) out += `${m[5].slice(0, 3)}:${m[5].slice(3)}`
    return out
  },
}

function isoTime(v: string): string | undefined {
  const m = /^(\d{2}):?(\d{2})?:?(\d{2})?(\.\d{1,6})?$/.exec(v)
  if (!m) return undefined
  return m[1] + (m[2] ? `:${m[2]}` : '') + (m[3] ? `:${m[3]}` : '') + (m[3] && m[4] ? m[4] : '')
}
