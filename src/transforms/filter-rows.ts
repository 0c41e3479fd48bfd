/**
 * The `where:` filter evaluated on rows of typed values (`values.ts`), never on cell text: a
 * number compares as a number, a date (DA, TM, DT) by its ISO 8601 form, text as text. The
 * reader applies it in the thread that makes the rows (`sources/read-batch.ts`), so that rows
 * left out are never sent, sorted or grouped; {@link filterRows} is the same as a stream, for
 * library callers.
 *
 * Empty values: a test on an empty (absent) value is false, whatever the operator (`!=` too),
 * so that `not (Modality = CT)` keeps the rows without a Modality and `Modality != CT` does not;
 * `is empty` tests for it.
 */
import { Transform } from 'node:stream'
import type { BoundColumn, Literal, WhereExpr } from '../pipeline/where.js'
import {
  Binary,
  Decimal,
  DicomDate,
  PersonName,
  naturalOrder,
  valueNumber,
  valueText,
  type Row,
  type Value,
} from '../values.js'

export type DateVr = 'DA' | 'TM' | 'DT'

/** A row's verdict. */
export type RowTest = (row: Row) => boolean

/** ISO 8601 forms that a date, time or date-time value compares by. */
const ISO_FORMS: Record<DateVr, RegExp> = {
  DA: /^\d{4}-\d{2}-\d{2}$/,
  TM: /^\d{2}(:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/,
  DT: /^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{2}:\d{2})?$/,
}

/**
 * A value of a filter as a date, time or date-time in ISO 8601: written as DICOM stores it
 * (`20260101`, `093000`) or in ISO 8601 already (`2026-01-01`, `09:30:00`); undefined when it
 * is neither.
 */
export function literalDate(vr: DateVr, text: string): string | undefined {
  const iso = new DicomDate(vr, text).iso
  return ISO_FORMS[vr].test(iso) ? iso : undefined
}

/** A value of the expression, prepared once: its number, its dates, its parts (for a list). */
class Operand {
  readonly text: string
  readonly number: number | undefined
  private readonly dates: Partial<Record<DateVr, string | null>> = {}
  private partsCache?: Operand[]

  constructor(literal: Pick<Literal, 'text'>) {
    this.text = literal.text
    this.number = valueNumber(literal.text)
  }

  date(vr: DateVr): string | undefined {
    let date = this.dates[vr]
    if (date === undefined) date = this.dates[vr] = literalDate(vr, this.text) ?? null
    return date ?? undefined
  }

  /** The values of a multi-valued value as written (`ORIGINAL\PRIMARY`), split at backslashes. */
  get parts(): Operand[] {
    return (this.partsCache ??= this.text.split('\\').map((text) => new Operand({ text })))
  }
}

/** Whether a value equals the operand, by the value's type. */
function equals(value: Value, operand: Operand): boolean {
  if (value === null) return false
  if (typeof value === 'string') return value === operand.text
  if (typeof value === 'number') return value === operand.number
  if (Array.isArray(value)) {
    const parts = operand.parts
    return value.length === parts.length && value.every((item, i) => equals(item, parts[i]))
  }
  if (value instanceof Decimal) return value.text === operand.text || value.number === operand.number
  if (value instanceof DicomDate) {
    const date = operand.date(value.vr)
    return date === undefined ? value.stored === operand.text : value.iso === date
  }
  if (value instanceof PersonName) return value.stored === operand.text || value.group('alphabetic') === operand.text
  return value instanceof Binary && value.base64 === operand.text
}

/** A value's order against the operand (negative: before), or undefined when they do not compare. */
function order(value: Value, operand: Operand): number | undefined {
  if (value === null) return undefined
  if (typeof value === 'number' || value instanceof Decimal) {
    const number = typeof value === 'number' ? value : value.number
    return operand.number === undefined || Number.isNaN(number) ? undefined : number - operand.number
  }
  if (typeof value === 'string') {
    // Text that is a number (a private element read as text) against a number: by value.
    const number = operand.number === undefined ? undefined : valueNumber(value)
    return number === undefined ? naturalOrder.compare(value, operand.text) : number - (operand.number as number)
  }
  if (Array.isArray(value)) return value.length === 1 ? order(value[0], operand) : undefined
  if (value instanceof DicomDate) {
    const date = operand.date(value.vr)
    if (date === undefined) return undefined
    const iso = value.iso
    return iso < date ? -1 : iso > date ? 1 : 0
  }
  if (value instanceof PersonName) return naturalOrder.compare(value.stored, operand.text)
  return undefined
}

/** Whether a value is empty: absent, empty text, or a list of empty values. */
function isEmpty(value: Value): boolean {
  if (value === null || value === '') return true
  return Array.isArray(value) && value.every(isEmpty)
}

/** The test of an expression, made once (closures over prepared operands). */
export function compileWhere(expr: WhereExpr<BoundColumn>): RowTest {
  switch (expr.kind) {
    case 'and': {
      const items = expr.items.map(compileWhere)
      return (row) => items.every((item) => item(row))
    }
    case 'or': {
      const items = expr.items.map(compileWhere)
      return (row) => items.some((item) => item(row))
    }
    case 'not': {
      const item = compileWhere(expr.item)
      return (row) => !item(row)
    }
    case 'empty': {
      const i = expr.column.index
      return (row) => isEmpty(row[i])
    }
    case 'in': {
      const i = expr.column.index
      const operands = expr.values.map((v) => new Operand(v))
      return (row) => operands.some((operand) => equals(row[i], operand))
    }
    case 'contains': {
      const { index: i, list } = expr.column
      const operand = new Operand(expr.value)
      return (row) => {
        const value = row[i]
        if (value === null) return false
        if (Array.isArray(value)) return value.some((item) => equals(item, operand))
        return list ? equals(value, operand) : valueText(value).includes(operand.text)
      }
    }
    case 'match': {
      const i = expr.column.index
      const pattern = new RegExp(expr.pattern, expr.flags)
      return (row) => row[i] !== null && pattern.test(valueText(row[i]))
    }
    case 'compare': {
      const i = expr.column.index
      const operand = new Operand(expr.value)
      switch (expr.op) {
        case '=':
          return (row) => equals(row[i], operand)
        case '!=':
          return (row) => row[i] !== null && !equals(row[i], operand)
        case '<':
          return (row) => (order(row[i], operand) ?? NaN) < 0
        case '<=':
          return (row) => (order(row[i], operand) ?? NaN) <= 0
        case '>':
          return (row) => (order(row[i], operand) ?? NaN) > 0
        case '>=':
          return (row) => (order(row[i], operand) ?? NaN) >= 0
      }
    }
  }
}

const compiled = new WeakMap<object, RowTest>()

/** {@link compileWhere}, made once per expression object (a reader thread's job keeps one). */
export function rowTest(expr: WhereExpr<BoundColumn>): RowTest {
  let test = compiled.get(expr)
  if (!test) compiled.set(expr, (test = compileWhere(expr)))
  return test
}

/**
 * Keeps the rows that pass, each cut to `width` values (the hidden columns read for the filter
 * dropped); returns how many were left out. The array is changed in place.
 */
export function keepRows(rows: Row[], expr: WhereExpr<BoundColumn>, width: number): number {
  const test = rowTest(expr)
  let kept = 0
  for (const row of rows) {
    if (!test(row)) continue
    if (row.length > width) row.length = width
    rows[kept++] = row
  }
  const dropped = rows.length - kept
  rows.length = kept
  return dropped
}

/** Counts kept by {@link filterRows}. */
export interface FilterInfo {
  /** Rows left out. */
  filtered: number
}

/** Options of {@link filterRows}. */
export interface FilterRowsOptions {
  /** Values kept of each row that passes (the rest were read for the filter only). Default all. */
  width?: number
  info?: FilterInfo
}

/** The filter as a Transform stream (object mode: rows in, the rows that pass out). */
export function filterRows(expr: WhereExpr<BoundColumn>, options: FilterRowsOptions = {}): Transform {
  const test = rowTest(expr)
  const info = options.info ?? { filtered: 0 }
  const width = options.width
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(row: Row, _encoding, callback) {
      if (!test(row)) {
        info.filtered++
        return callback()
      }
      if (width !== undefined && row.length > width) row.length = width
      callback(null, row)
    },
  })
}

/** The row indexes an expression reads. */
export function whereIndexes(expr: WhereExpr<BoundColumn>): number[] {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return expr.items.flatMap(whereIndexes)
    case 'not':
      return whereIndexes(expr.item)
    default:
      return [expr.column.index]
  }
}

/**
 * A test of a file by its path alone, for a filter that reads nothing but `path` columns
 * (`where: path ~ /CHEST/`): such a file is left out before it is opened. Undefined when the
 * filter reads anything else (then rows are tested once made).
 */
export function pathTest(
  expr: WhereExpr<BoundColumn>,
  pathIndexes: readonly number[],
  width: number,
): ((path: string) => boolean) | undefined {
  const read = whereIndexes(expr)
  if (read.length === 0 || !read.every((index) => pathIndexes.includes(index))) return undefined
  const test = rowTest(expr)
  return (path) => {
    const row: Row = new Array<Value>(width).fill(null)
    for (const index of pathIndexes) row[index] = path
    return test(row)
  }
}
