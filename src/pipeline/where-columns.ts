/**
 * The meaning of a `where:` expression against a pipeline's columns: each column it names
 * resolved to its place in the row a reader makes (an extracted column, by its output name or
 * by what it reads; or a hidden column, read for the filter alone), and its values checked
 * against the column's type (a number for a number attribute, a date for a DA). Every problem
 * comes back with its offset in the expression's text.
 */
import { lookupTag } from '../dicom/keywords.js'
import { closest } from '../suggest.js'
import { valueNumber } from '../values.js'
import { columnType } from './column-types.js'
import { parseColumn } from './columns.js'
import type { ColumnSpec } from './spec.js'
import {
  parseWhere,
  type BoundColumn,
  type ColumnRef,
  type Literal,
  type RowFilter,
  type WhereExpr,
  type WhereProblem,
} from './where.js'
import { literalDate, type DateVr } from '../transforms/filter-rows.js'

/** What a column holds, as far as it is known before any file is read. */
interface Operand {
  kind: 'number' | 'date' | 'text' | 'other'
  vr?: DateVr
  list: boolean
}

/** A filter, or its problems (offsets in its text). */
export type FilterResult = { filter: RowFilter; problems: [] } | { filter?: undefined; problems: WhereProblem[] }

/** Options of {@link resolveWhere}. */
export interface ResolveOptions {
  /** A filter already resolved against the same columns (a pipeline's): the new one is joined to it with `and`. */
  and?: RowFilter
  /** Names of extract entries that had problems of their own: a reference to one is let through. */
  unresolved?: ReadonlySet<string>
}

/**
 * Parses a filter and resolves it against the extracted columns. A column is, in this order:
 * an output column name (after `as`), or anything `extract:` takes (keyword, tag, path, `sr:`
 * path, pseudo-column): an extracted column reading the same, else a hidden column.
 */
export function resolveWhere(text: string, columns: readonly ColumnSpec[], options: ResolveOptions = {}): FilterResult {
  const parsed = parseWhere(text)
  if (!parsed.ok) return { problems: [parsed.problem] }
  const hidden = [...(options.and?.hidden ?? [])]
  const problems: WhereProblem[] = []
  const operands = new Map<number, Operand>()
  const bindColumn = (ref: ColumnRef): BoundColumn => {
    const found = findColumn(ref, columns, hidden, options.unresolved)
    if ('problem' in found) {
      if (found.problem) problems.push({ at: ref.at, message: found.problem })
      return { ...ref, index: -1, list: false }
    }
    const all = [...columns, ...hidden]
    const operand = operandOf(all[found.index])
    operands.set(found.index, operand)
    return { ...ref, index: found.index, list: operand.list }
  }
  const bound = bind(parsed.expr, bindColumn)
  checkValues(bound, operands, problems)
  if (problems.length > 0) return { problems: problems.sort((a, b) => a.at - b.at) }
  if (!options.and) return { filter: { text, expr: bound, hidden }, problems: [] }
  return {
    filter: {
      text: `(${options.and.text}) and (${text})`,
      expr: { kind: 'and', items: [options.and.expr, bound], at: 0 },
      hidden,
    },
    problems: [],
  }
}

/** The expression with its columns resolved. */
function bind(expr: WhereExpr, column: (ref: ColumnRef) => BoundColumn): WhereExpr<BoundColumn> {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return { ...expr, items: expr.items.map((item) => bind(item, column)) }
    case 'not':
      return { ...expr, item: bind(expr.item, column) }
    default:
      return { ...expr, column: column(expr.column) }
  }
}

/**
 * A column's index in the projected row (extracted columns, then hidden ones, `hidden` grown as
 * needed), or a problem ('' when it is one already reported).
 */
function findColumn(
  ref: ColumnRef,
  columns: readonly ColumnSpec[],
  hidden: ColumnSpec[],
  unresolved: ReadonlySet<string> | undefined,
): { index: number } | { problem: string } {
  const text = ref.text.trim()
  const byName = columns.findIndex((c) => c.name === text)
  if (byName >= 0) return { index: byName }
  if (unresolved?.has(text)) return { problem: '' }
  const parsed = parseColumn(text)
  if (!parsed.ok) {
    const near = closest(
      text,
      columns.map((c) => c.name),
    )
    return { problem: near ? `unknown column "${text}" (did you mean "${near}"?)` : parsed.message }
  }
  const source = JSON.stringify(parsed.column.source)
  const extracted = columns.findIndex((c) => JSON.stringify(c.source) === source)
  if (extracted >= 0) return { index: extracted }
  const known = hidden.findIndex((c) => JSON.stringify(c.source) === source)
  if (known >= 0) return { index: columns.length + known }
  hidden.push({ ...parsed.column, name: text })
  return { index: columns.length + hidden.length - 1 }
}

const DATE_VRS = new Set(['DA', 'TM', 'DT'])

/** What a column holds: a number, a date, text, or not known (an `sr:` value, a private or unknown tag). */
function operandOf(column: ColumnSpec): Operand {
  const type = columnType(column)
  const list = type.list
  if (type.kind === 'number' || type.kind === 'integer') return { kind: 'number', list }
  const source = column.source
  if (source.kind === 'pseudo' || source.content) return { kind: 'other', list }
  const last = source.path?.[source.path.length - 1]
  if (last?.creator) return { kind: 'other', list }
  const entry = lookupTag(last?.tag ?? source.tag)
  if (!entry) return { kind: 'other', list }
  if (DATE_VRS.has(entry.vr)) return { kind: 'date', vr: entry.vr as DateVr, list }
  return { kind: type.kind === 'text' ? 'text' : 'other', list }
}

/** The values of each test checked against what its column holds. */
function checkValues(expr: WhereExpr<BoundColumn>, operands: Map<number, Operand>, problems: WhereProblem[]): void {
  let values: Literal[]
  switch (expr.kind) {
    case 'and':
    case 'or':
      for (const item of expr.items) checkValues(item, operands, problems)
      return
    case 'not':
      return checkValues(expr.item, operands, problems)
    case 'match':
    case 'empty':
      return
    case 'in':
      values = expr.values
      break
    default:
      values = [expr.value]
  }
  const operand = operands.get(expr.column.index)
  if (!operand) return
  for (const value of values) {
    const problem = valueProblem(expr.column.text, operand, value, expr.kind === 'compare' ? expr.op : expr.kind)
    if (problem) problems.push({ at: value.at, message: problem })
  }
}

const DATE_KINDS: Record<DateVr, [string, string]> = {
  DA: ['a date (DA)', '20260101 or 2026-01-01'],
  TM: ['a time (TM)', '093000 or 09:30:00'],
  DT: ['a date and time (DT)', '20260101093000 or 2026-01-01T09:30:00'],
}

/** Why a value cannot be compared with a column this way, if it cannot. */
function valueProblem(name: string, operand: Operand, value: Literal, op: string): string | undefined {
  const got = value.quoted ? `'${value.text}'` : `"${value.text}"`
  if (operand.kind === 'number') {
    if (op === 'contains' && !operand.list) return `${name} is a number, not a list or text: compare it with =`
    // A list is compared whole with its values written as stored: `-250\-250\-272.5`.
    const parts = operand.list && op !== 'contains' ? value.text.split('\\') : [value.text]
    if (parts.some((part) => valueNumber(part) === undefined)) return `${name} is a number, got ${got}`
  }
  if (operand.kind === 'date' && operand.vr && literalDate(operand.vr, value.text) === undefined) {
    const [kind, example] = DATE_KINDS[operand.vr]
    return `${name} is ${kind}, got ${got}: write it ${example}`
  }
  const ordering = op === '<' || op === '<=' || op === '>' || op === '>='
  if (operand.kind === 'text' && ordering && !value.quoted && valueNumber(value.text) !== undefined) {
    return `${name} is text, which ${op} compares as text (IM2 < IM10): quote the value ('${value.text}') if that is meant`
  }
  return undefined
}
