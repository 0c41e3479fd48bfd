/**
 * The contract of a metric: a module that declares the block of its pipeline key (`dose:`), the
 * attributes it reads, the order it needs the rows in and the columns it adds, per row and per
 * group. The pipeline composes metrics from these declarations only (`pipeline/load.ts` checks
 * them, `pipeline/run.ts` builds their stages, `transforms/group-rows.ts` calls their accumulators),
 * so adding a metric is its module, a line in `registry.ts`, its test and its README row.
 */
import type { Transform } from 'node:stream'
import type { Fields, ValueOf } from '../pipeline/fields.js'
import type { ConceptCode } from '../dicom/paths.js'
import { parseSrPath, type SrPath } from '../dicom/sr-paths.js'
import type { ColumnSpec } from '../records.js'
import type { ColumnType } from '../sinks/sink.js'
import type { SortColumn } from '../transforms/sort-rows.js'
import type { Precision, Row, Value } from '../values.js'

/**
 * An attribute a metric reads, found among the extracted columns (under any name): a top-level
 * attribute by `keyword`, or SR content by its `sr:` path (`sr:113811/113813@mGy.cm`: the
 * column must take the same items, and convert to the same unit).
 */
export type Need = ({ keyword: string; sr?: never } | { sr: string; keyword?: never }) & {
  /** Read when extracted; its absence is no problem. */
  optional?: boolean
}

/** What a metric reads, by the name its code knows each attribute by. */
export type Needs = Readonly<Record<string, Need>>

/** Where each attribute of `N` is in a row: a column index (optional ones may be absent). */
export type ColumnsOf<N extends Needs> = {
  -readonly [K in keyof N as N[K] extends { optional: true } ? never : K]: number
} & {
  -readonly [K in keyof N as N[K] extends { optional: true } ? K : never]?: number
}

/** The value of a metric's block, as its fields check to (defaults filled in). */
export type ConfigOf<F extends Fields> = ValueOf<{ kind: 'mapping'; fields: F }>

/** A column a metric adds: its header and the kind of its values (never a list). */
export interface MetricColumn {
  name: string
  kind: ColumnType['kind']
}

/** Folds the rows of one group into the cells of the metric's `groupColumns`. */
export interface GroupAccumulator {
  /**
   * Takes a row of the group, in the order the sorter gives them.
   * @throws Error on rows out of the order the metric's sort keys ask for (the grouper destroys
   * the stream with it).
   */
  add(row: Row): void
  /** One value per `groupColumns` entry, once the group has ended. */
  result(): Value[]
}

/**
 * A dose above its notification level, which a metric raises as it finds it: logged (a JSON
 * event with `--log-format json`), counted in the summary, and exit code 3 with `--fail-on-alert`.
 */
export interface Alert {
  /** What is above: a series' CTDIvol, an exam's DLP. */
  scope: 'series' | 'exam'
  quantity: 'CTDIvol' | 'DLP'
  value: number
  level: number
  unit: string
  /** The reference level's name, and the exam and series it is about. */
  reference: string
  study: string
  series?: string
}

/** What `plan` is given: where the attributes are, the block's value, and the row's width. */
export interface PlanContext<N extends Needs, C> {
  columns: ColumnsOf<N>
  config: C
  /**
   * The number of cells of a row when it reaches this metric's `before` stage: the cells that
   * stage appends (`beforeColumns`) start there.
   */
  width: number
  /** Significant digits of the numbers it computes (`format.precision`). */
  precision: Precision
  /** The extracted columns' names (a row's first cells), for a block that names a column. */
  names: readonly string[]
  /** Raises an alert (a dose above its notification level). Default: none are raised. */
  alert?: (alert: Alert) => void
  /** Whether the pipeline has `group_by` (the metric's `perGroup` runs, not its `perRow`). */
  grouped: boolean
}

/** How a metric runs: stages and sort keys, all optional but the sort keys. */
export interface MetricPlan {
  /** A stage before the sorter, appending the cells of `beforeColumns` to each row. */
  before?: () => Transform
  /**
   * What the rows must be sorted by, after the `group_by` columns (when grouped): the stages
   * after the sorter stream because of it.
   */
  sortKeys: SortColumn[]
  /** Without `group_by`: a stage after the sorter appending the cells of `rowColumns`. */
  perRow?: () => Transform
  /** With `group_by`: an accumulator for each group, giving the cells of `groupColumns`. */
  perGroup?: () => GroupAccumulator
}

/** What `check` is given to report problems of the pipeline file that only the metric knows. */
export interface CheckContext<N extends Needs, C> {
  config: C
  /** The attributes found among the extracted columns (all of them unless `missing` lists some). */
  found: Partial<ColumnsOf<N>>
  /** The keywords of the required attributes not extracted (already reported). */
  missing: readonly string[]
  /** The extracted columns. */
  columns: readonly ColumnSpec[]
  /** The `group_by` column names, when the pipeline is grouped. */
  groupBy?: readonly string[]
  /** Reports a problem at a key path of the file (`group_by`, `dose.region`). */
  report(path: string, message: string): void
  /** A field of the metric's block, or the block's key when the field is not written. */
  at(field: string): string
}

/**
 * A metric. `K` is its key in a pipeline file, `N` the attributes it reads, `F` the fields of
 * its block (in the vocabulary of `pipeline/fields.ts`: the schema, `etl validate` and the
 * README's key table come from them) and `C` the value they check to.
 */
export interface MetricModule<K extends string, N extends Needs, F extends Fields, C = ConfigOf<F>> {
  /** Its key in a pipeline file, and the first word of its messages. */
  key: K
  /** The key's documentation and example, for the schema. */
  doc: string
  example: string
  /** The fields of its block. */
  fields: F
  /** The attributes it reads, in the order they are named when missing. */
  needs: N
  /** The columns its `before` stage appends (without `group_by` they are output first). */
  beforeColumns: readonly MetricColumn[]
  /** The columns it adds to each row without `group_by`, after `beforeColumns`. */
  rowColumns: readonly MetricColumn[]
  /** The columns it adds to each group's row with `group_by`, after the aggregates. */
  groupColumns: readonly MetricColumn[]
  /** What `etl validate` says it does without `group_by` (`dose per slice`). */
  summary: string
  /** Checks that span keys, beyond the extracted needs (which the loader checks). */
  check?(context: CheckContext<N, C>): void
  /** Its stages and sort keys for a run. */
  plan(context: PlanContext<N, C>): MetricPlan
}

/** Any metric, as the pipeline composes them (its block's value unknown to the composer). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMetric = MetricModule<string, Needs, Fields, any>

/** The keyword of an extracted column when it is an attribute at the top level of the data set. */
function topLevelKeyword(column: ColumnSpec): string | undefined {
  return column.source.kind === 'element' && !column.source.path ? column.source.keyword : undefined
}

/** Whether two concept codes select the same items (a code without a scheme matches any). */
function sameCode(a: ConceptCode | undefined, b: ConceptCode | undefined): boolean {
  if (!a || !b) return a === b
  return a.value === b.value && (a.scheme === undefined || b.scheme === undefined || a.scheme === b.scheme)
}

/** Whether an extracted column takes what an `sr:` path takes: the same items, part and unit. */
function takesSr(column: ColumnSpec, path: SrPath): boolean {
  const source = column.source
  if (source.kind !== 'element' || !source.content || !source.path) return false
  const steps = source.path
  return (
    steps.length === path.steps.length &&
    steps.every((step, i) => {
      const other = path.steps[i]
      return step.tag === other.tag && (step.item ?? 0) === (other.item ?? 0) && sameCode(step.code, other.code)
    }) &&
    source.content.part === path.content.part &&
    source.content.unit === path.content.unit
  )
}

/** How a need is named in a message: its keyword, or its `sr:` path. */
export function needName(need: Need): string {
  return need.keyword ?? (need.sr as string)
}

/** The parsed `sr:` path of a need. @throws Error for a path that does not parse (a metric's own bug). */
function needPath(need: { sr: string }): SrPath {
  const parsed = parseSrPath(need.sr)
  if (!parsed.ok) throw new Error(`a metric's need: ${parsed.message}`)
  return parsed.path
}

/**
 * Finds the attributes of `needs` among the extracted columns (the first column of each): by
 * keyword for attributes at the top level of the data set, not in sequences; by what they take
 * for `sr:` paths. `missing` names the required ones not extracted, in the order of `needs`;
 * `columns` is set when none is missing.
 */
export function findNeeds<N extends Needs>(
  needs: N,
  extracted: readonly ColumnSpec[],
): { columns?: ColumnsOf<N>; found: Partial<ColumnsOf<N>>; missing: string[] } {
  const keywords = extracted.map(topLevelKeyword)
  const found: Record<string, number> = {}
  const missing: string[] = []
  for (const [name, need] of Object.entries(needs)) {
    const index =
      need.keyword !== undefined
        ? keywords.indexOf(need.keyword)
        : extracted.findIndex((column) => takesSr(column, needPath(need)))
    if (index >= 0) found[name] = index
    else if (!need.optional) missing.push(needName(need))
  }
  const columns = found as Partial<ColumnsOf<N>>
  return { ...(missing.length === 0 && { columns: columns as ColumnsOf<N> }), found: columns, missing }
}
