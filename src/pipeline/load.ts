/**
 * Pipeline files: YAML text -> `PipelineSpec`, or every problem found, each at its line:col.
 *
 * Three passes, each reporting everything it finds: YAML syntax (the parser's own errors),
 * the schema (`schema.ts`: keys, types, ranges, defaults), then meaning (DICOM keywords via
 * `parseColumn`; duplicate and unknown column names in extract, sort, group_by and aggregate;
 * the attributes each metric reads, and the metric's own checks; output paths). Syntax errors
 * other than repeated keys stop there: what follows them is the parser's guess.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { isScalar, LineCounter, parseDocument, type Node } from 'yaml'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'
import type { FormatOptions } from '../dicom/format-value.js'
import { parseTag } from '../dicom/keywords.js'
import { isKnownUnit, UNIT_NAMES } from '../dicom/units.js'
import { checkColumnNames, parseColumn, type ColumnResult } from './columns.js'
import { closest } from '../suggest.js'
import { checkPipeline, type CheckedPipeline } from './check-pipeline.js'
import type { ValueOf } from './fields.js'
import type { pipelineSchema } from './schema.js'
import {
  DEFAULT_SHIFT_DAYS,
  type ColumnSpec,
  type DicomwebSpec,
  type GroupSpec,
  type PipelineSpec,
  type PrivacyAction,
  type PrivacySpec,
  type SortKey,
} from './spec.js'
import { checkAction, isPatientColumn, missingAction } from '../transforms/privacy.js'
import { filesFields } from '../sources/files.js'
import { dicomwebFields } from '../sources/dicomweb.js'
import { findNeeds, type AnyMetric } from '../metrics/metric.js'
import { METRICS, metricsOf, type MetricSpecs } from '../metrics/registry.js'
import { parseItemPath } from '../dicom/sr-paths.js'
import type { AggregateOp } from '../metrics/aggregate.js'
import { DEFAULT_PRECISION } from '../values.js'
import type { ItemPath } from './spec.js'
import type { RowFilter } from './where.js'
import { resolveWhere } from './where-columns.js'

/** A problem in a pipeline file, at a 1-based line and column. */
export interface Problem {
  line: number
  col: number
  message: string
}

/** A pipeline, or every problem that keeps it from being one. */
export type PipelineResult = { spec: PipelineSpec; problems: [] } | { spec?: undefined; problems: Problem[] }

/**
 * Parses pipeline YAML. Pure: relative paths (source paths, output files) resolve against
 * `baseDir`, the pipeline file's folder, without touching the file system. Never throws on
 * bad input: YAML syntax errors, unknown keys, wrong types, unknown keywords and column names
 * all come back as problems, ordered by position.
 */
export function parsePipeline(text: string, baseDir: string): PipelineResult {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  const problems: Problem[] = []
  const report = (offset: number, message: string) => problems.push({ ...lineCounter.linePos(offset), message })
  for (const e of [...doc.errors, ...doc.warnings]) report(e.pos[0], yamlMessage(e.code, e.message))
  if (doc.errors.every((e) => e.code === 'DUPLICATE_KEY')) {
    const { value, nodes } = checkPipeline(doc, report)
    const reportAt = (path: string, message: string) => report(nodes.get(path)?.range?.[0] ?? 0, message)
    const reportIn: ReportIn = (path, at, message) => {
      const node = nodes.get(path)
      report(node ? offsetInScalar(text, node, at) : 0, message)
    }
    const meaning = value && checkMeaning(value, baseDir, reportAt, (path) => nodes.has(path), reportIn)
    // The checks leave a hole (undefined) only where they reported a problem.
    if (meaning && problems.length === 0) return { spec: toSpec(value as Complete, meaning, baseDir), problems: [] }
  }
  return { problems: problems.sort((a, b) => a.line - b.line || a.col - b.col) }
}

/**
 * Reads and parses a pipeline file; relative paths in it resolve against its folder.
 * @throws EtlError `E_NO_INPUT` (exit 66) when the file cannot be read.
 */
export async function loadPipeline(file: string): Promise<PipelineResult> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new EtlError('E_NO_INPUT', `cannot read pipeline ${file}: ${describeSystemError(err)}`, ExitCode.NO_INPUT)
  }
  return parsePipeline(text, dirname(resolve(file)))
}

/** `dose.yaml:12:5 unknown keyword "CTDIVol" (did you mean "CTDIvol"?)`, with the file as given. */
export function formatProblem(file: string, p: Problem): string {
  return `${file}:${p.line}:${p.col} ${p.message}`
}

type ReportAt = (path: string, message: string) => void
/** A problem at an offset inside the text of a key's value (a `where` expression). */
type ReportIn = (path: string, at: number, message: string) => void
/** Whether a key path is in the file (`sort.by`, `group_by[0]`). */
type Given = (path: string) => boolean
type Complete = ValueOf<typeof pipelineSchema>

interface Meaning {
  columns: ColumnSpec[]
  sort: SortKey[]
  group?: GroupSpec
  /** The blocks of the metrics the file has. */
  metrics: MetricSpecs
  perItem?: ItemPath
  distinct?: string[]
  where?: RowFilter
  privacy?: PrivacySpec
}

/** The checks that span keys; holes are skipped, their problems already reported. */
function checkMeaning(
  value: CheckedPipeline,
  baseDir: string,
  reportAt: ReportAt,
  given: Given,
  reportIn: ReportIn,
): Meaning {
  const { columns, unresolved } = resolveColumns(value.extract ?? [], reportAt)
  const check = value.extract ? columnChecker(columns, unresolved, reportAt) : () => {}
  let where: RowFilter | undefined
  if (value.where !== undefined && value.extract) {
    const resolved = resolveWhere(value.where, columns, { unresolved })
    for (const problem of resolved.problems) reportIn('where', problem.at, `where: ${problem.message}`)
    where = resolved.filter
  }
  const sort = resolveSort(value.sort?.by ?? [], check)
  const metricGiven = METRICS.some((metric) => given(metric.key))
  if (value.sort && given('sort') && !given('sort.by') && !given('group_by') && !metricGiven) {
    reportAt('sort', 'missing required key "by" in sort')
  }
  if (given('aggregate') && !given('group_by'))
    reportAt('aggregate', 'aggregate needs group_by: the columns of the groups')
  const group = value.group_by && resolveGroup(value.group_by, value.aggregate ?? [], check, given)
  const distinct: string[] = []
  for (const [i, column] of (value.distinct ?? []).entries()) {
    if (column === undefined) continue
    check(column, given(`distinct[${i}]`) ? `distinct[${i}]` : 'distinct', 'distinct column')
    distinct.push(column)
  }
  const metrics: Record<string, unknown> = {}
  for (const metric of METRICS as readonly AnyMetric[]) {
    // A block whose fields all have defaults is filled in by the schema: whether the file has it
    // is what counts.
    const block = (value as Record<string, unknown>)[metric.key]
    if (!given(metric.key) || block === undefined || !value.extract || unresolved.size > 0) continue
    const config = resolveMetric(metric, block as Record<string, unknown>, columns, group, reportAt, given)
    if (config) metrics[metric.key] = config
  }
  const active = metricsOf(metrics)
  if (group && value.extract) checkGroupNames(group, active, reportAt, given)
  else {
    for (const { metric } of active) {
      const added = [...metric.beforeColumns, ...metric.rowColumns].map((c) => c.name)
      for (const [i, column] of columns.entries()) {
        if (added.includes(column.name)) {
          reportAt(`extract[${i}]`, `column "${column.name}" is also a ${metric.key} column (rename it with "as")`)
        }
      }
    }
  }
  checkSource(value.source, reportAt, given)
  const { path, errors } = value.output ?? {}
  if (errors === '-') reportAt('output.errors', 'output.errors must be a file, not "-": stdout is for the CSV')
  else if (errors !== undefined && path !== undefined && outputPath(errors, baseDir) === outputPath(path, baseDir)) {
    reportAt('output.errors', 'output.errors must not be the same file as output.path')
  }
  const privacy =
    given('privacy') && value.privacy ? resolvePrivacy(value.privacy, columns, unresolved, reportAt) : undefined
  const rows = value.rows
  const perItem = rows !== undefined && typeof rows === 'object' ? resolveItemPath(rows.per_item, reportAt) : undefined
  return {
    columns,
    sort,
    ...(group && { group }),
    ...(distinct.length > 0 && { distinct }),
    ...(perItem && { perItem }),
    ...(where && { where }),
    ...(privacy && { privacy }),
    metrics: metrics as MetricSpecs,
  }
}

/**
 * `privacy:`: each action names an extracted column and suits it; every identifying column
 * (PS3.15 Table E.1-1, `path`, `mtime`, private tags) has one; date shifts have PatientID.
 */
function resolvePrivacy(
  privacy: NonNullable<CheckedPipeline['privacy']>,
  columns: readonly ColumnSpec[],
  unresolved: ReadonlySet<string>,
  reportAt: ReportAt,
): PrivacySpec {
  const actions: Record<string, PrivacyAction> = {}
  const names = columns.map((c) => c.name)
  for (const [name, action] of Object.entries(privacy.columns ?? {})) {
    if (action === undefined) continue
    const at = `privacy.columns.${name}`
    const column = columns.find((c) => c.name === name)
    if (!column) {
      if (unresolved.has(name)) continue
      const suggestion = closest(name, names)
      reportAt(
        at,
        `privacy.columns: "${name}" is not an extracted column${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
      )
      continue
    }
    const problem = checkAction(column, action)
    if (problem) reportAt(at, problem)
    else actions[name] = action
  }
  for (const [i, column] of columns.entries()) {
    const problem = missingAction(column, privacy.columns ?? {})
    if (problem) reportAt(`extract[${i}]`, problem)
  }
  const shifted = Object.keys(actions).find((name) => actions[name] === 'shift_date')
  if (shifted !== undefined && !columns.some(isPatientColumn)) {
    reportAt(
      `privacy.columns.${shifted}`,
      "shift_date needs PatientID extracted: each patient's dates move by the patient's own number of days",
    )
  }
  return { columns: actions, shiftDays: privacy.shift_days ?? DEFAULT_SHIFT_DAYS }
}

/** The keys of each source type: each needs its own, and takes none of the other's. */
const SOURCE_KEYS: Record<string, { required: string; own: readonly string[] }> = {
  files: { required: 'paths', own: Object.keys(filesFields).filter((key) => key !== 'concurrency') },
  dicomweb: { required: 'url', own: Object.keys(dicomwebFields) },
}

/** `source:` as its type needs it: its required key given, no key of another type. */
function checkSource(source: CheckedPipeline['source'] | undefined, reportAt: ReportAt, given: Given): void {
  if (!source || !given('source')) return
  const type = source.type ?? 'files'
  const mine = SOURCE_KEYS[type]
  if (!mine) return
  if (!given(`source.${mine.required}`)) reportAt('source', `missing required key "${mine.required}" in source`)
  if (type === 'dicomweb') checkAuth(source.auth, reportAt, given)
  for (const [other, keys] of Object.entries(SOURCE_KEYS)) {
    if (other === type) continue
    for (const key of keys.own) {
      if (given(`source.${key}`)) reportAt(`source.${key}`, `source.${key} goes with type: ${other}, not ${type}`)
    }
  }
}

/** `source.auth`: where its secret is read from, never the secret itself. */
function checkAuth(auth: NonNullable<CheckedPipeline['source']>['auth'], reportAt: ReportAt, given: Given): void {
  let literal = false
  for (const [key, instead] of [
    ['password', 'password_env or password_file'],
    ['token', 'token_env or token_file'],
  ]) {
    if (given(`source.auth.${key}`)) {
      literal = true
      reportAt(`source.auth.${key}`, `source.auth.${key}: a secret is never written in a pipeline file: use ${instead}`)
    }
  }
  if (literal || !auth?.type || auth.type === 'none') return
  const [env, file] = auth.type === 'basic' ? ['password_env', 'password_file'] : ['token_env', 'token_file']
  const sources = [env, file].filter((key) => given(`source.auth.${key}`))
  if (sources.length !== 1) {
    reportAt('source.auth', `source.auth of type ${auth.type} needs one of ${env} or ${file}`)
  }
}

/** `rows: {per_item: ...}`: an `sr:` path to content items, or a problem at it. */
function resolveItemPath(text: string | undefined, reportAt: ReportAt): ItemPath | undefined {
  if (text === undefined) return undefined
  const parsed = parseItemPath(text)
  if (!parsed.ok) reportAt('rows.per_item', `rows.per_item: ${parsed.message}`)
  return parsed.ok ? parsed.path : undefined
}

function toSpec(
  value: Complete,
  { columns, sort, group, metrics, perItem, distinct, where, privacy }: Meaning,
  baseDir: string,
): PipelineSpec {
  const { source, output } = value
  return {
    source: {
      // The default (files) is left out, as every default the spec does not need.
      ...(source.type !== undefined && source.type !== 'files' && { type: source.type }),
      paths: (source.paths ?? []).map((p) => resolve(baseDir, p)),
      ignore: source.ignore,
      concurrency: source.concurrency,
      threads: source.threads,
      followSymlinks: source.follow_symlinks,
      hidden: source.hidden,
      allowEmpty: source.allow_empty,
      ...(source.type === 'dicomweb' && { dicomweb: dicomwebOf(source, baseDir) }),
    },
    columns,
    ...(value.rows === 'per_frame' && { rows: value.rows }),
    ...(perItem && { perItem }),
    ...(where && { where }),
    ...(distinct && { distinct }),
    sort,
    sortMemoryMb: value.sort.memory_mb,
    ...(group && { group }),
    ...metrics,
    ...(value.format && Object.keys(formatOf(value.format)).length > 0 && { format: formatOf(value.format) }),
    ...(privacy && { privacy }),
    ...(value.state !== undefined && { state: outputPath(value.state, baseDir) }),
    output: {
      path: outputPath(output.path, baseDir),
      ...(output.format !== undefined && { format: output.format }),
      ...(output.errors !== undefined && { errors: outputPath(output.errors, baseDir) }),
    },
  }
}

/** The DICOMweb settings of `source:` (checked: url is given). */
function dicomwebOf(source: Complete['source'], baseDir: string): DicomwebSpec {
  const auth = source.auth
  const file = (path: string | undefined) => (path === undefined ? undefined : resolve(baseDir, path))
  return {
    url: source.url as string,
    query: Object.fromEntries(Object.entries(source.query ?? {}).filter(([, v]) => v !== undefined)),
    ...(auth &&
      auth.type !== 'none' && {
        auth: {
          type: auth.type,
          username: auth.username,
          passwordEnv: auth.password_env,
          passwordFile: file(auth.password_file),
          tokenEnv: auth.token_env,
          tokenFile: file(auth.token_file),
        },
      }),
    ...(source.ca_file !== undefined && { caFile: file(source.ca_file) }),
    connectTimeoutMs: source.connect_timeout_secs * 1000,
    readTimeoutMs: source.read_timeout_secs * 1000,
    retries: source.retries,
    ...(source.requests_per_second !== undefined && { requestsPerSecond: source.requests_per_second }),
    pageSize: source.page_size,
  }
}

/** The `format:` section as format options (defaults left out: they are the formatter's own). */
function formatOf(format: NonNullable<Complete['format']>): FormatOptions {
  const options: FormatOptions = {}
  if (format.separator !== undefined) options.separator = format.separator
  if (format.dates !== 'stored') options.dates = format.dates
  if (format.names !== 'stored') options.names = format.names
  if (format.binary !== 'base64') options.binary = format.binary
  if (format.charset !== undefined) options.charset = format.charset
  if (format.precision !== DEFAULT_PRECISION) options.precision = format.precision
  if (format.spreadsheet) options.spreadsheet = true
  return options
}

function outputPath(path: string, baseDir: string): string {
  return path === '-' ? '-' : resolve(baseDir, path)
}

/**
 * Each extract entry through `parseColumn`, each new column through `checkColumnNames`.
 * `unresolved` holds the names of entries that failed, so that sorting by them adds nothing.
 */
function resolveColumns(entries: NonNullable<CheckedPipeline['extract']>, reportAt: ReportAt) {
  const columns: ColumnSpec[] = []
  const unresolved = new Set<string>()
  for (const [i, entry] of entries.entries()) {
    if (entry === undefined) continue
    const at = `extract[${i}]`
    const as = typeof entry === 'string' ? undefined : entry.as
    const written: Written | undefined = typeof entry === 'string' ? { text: entry, at } : selector(entry, at)
    if (!written) continue
    const result: ColumnResult = written.problem
      ? { ok: false, message: written.problem }
      : parseColumn(written.text, as)
    if (!result.ok) {
      reportAt(written.at, result.message)
      unresolved.add(as ?? written.text.trim())
      continue
    }
    const normalise = typeof entry === 'string' ? undefined : entry.normalise
    const column =
      normalise && normalise.length > 0
        ? { ...result.column, normalise: normalise.filter((step) => step !== undefined) }
        : result.column
    const [duplicate] = checkColumnNames([...columns, column])
    if (duplicate) reportAt(as === undefined ? written.at : `${at}.as`, duplicate)
    else columns.push(column)
  }
  return { columns, unresolved }
}

/** A column's keyword or tag as written, and its key path. */
interface Written {
  text: string
  at: string
  problem?: string
}

/**
 * The text of a mapping entry's `keyword` or `tag`, with a problem when it is of the other
 * kind. Undefined when it has neither (the schema reported that).
 */
function selector(
  entry: { keyword?: string; tag?: string; creator?: string; sr?: string; unit?: string },
  at: string,
): Written | undefined {
  if (entry.sr !== undefined) {
    const path = entry.sr.trim().replace(/^sr:/, '')
    const unit = entry.unit === undefined ? '' : `@${entry.unit.trim()}`
    if (entry.unit !== undefined && !isKnownUnit(entry.unit.trim())) {
      const problem = `${at}.unit must be one of ${UNIT_NAMES.join(', ')}, got "${entry.unit}"`
      return { text: '', at: `${at}.unit`, problem }
    }
    const problem =
      entry.creator !== undefined
        ? `${at}.creator goes with a private tag, not with sr:`
        : unit !== '' && path.includes('@')
          ? `${at}.unit converts the value: not with "${path.slice(path.indexOf('@'))}"`
          : undefined
    return { text: `sr:${path}${unit}`, at: `${at}.sr`, problem }
  }
  if (entry.unit !== undefined) {
    return { text: '', at: `${at}.unit`, problem: `${at}.unit goes with sr: (a path into SR content)` }
  }
  if (entry.keyword !== undefined) {
    const isTag = parseTag(entry.keyword) !== undefined
    const problem = isTag
      ? `${at}.keyword must be a keyword, got the tag "${entry.keyword}" (use tag: instead)`
      : entry.creator !== undefined
        ? `${at}.creator goes with a private tag: write tag: '0019,xx23' instead of a keyword`
        : undefined
    return { text: entry.keyword, at: `${at}.keyword`, problem }
  }
  if (entry.tag !== undefined) {
    const isTag = parseTag(entry.tag) !== undefined || (entry.creator !== undefined && PRIVATE_TAG.test(entry.tag))
    const problem = isTag ? undefined : `${at}.tag must be a tag like '0018,9345', got "${entry.tag}"`
    const text = entry.creator === undefined ? entry.tag : `${entry.tag.replace(/[()\s]/g, '')}@${entry.creator}`
    return { text, at: `${at}.tag`, problem }
  }
  return undefined
}

/** A private tag with its block left open, as `creator:` expects: (0019,xx23). */
const PRIVATE_TAG = /^\(?\s*[0-9A-Fa-f]{4}\s*,\s*[xX]{2}[0-9A-Fa-f]{2}\s*\)?$/

/**
 * Checks that a name (of `sort.by`, `group_by`, `aggregate`) is an extracted column, as in the
 * CSV header; `what` names the use in the message. Names of entries that failed are let through:
 * their problem is reported already.
 */
type ColumnCheck = (name: string, at: string, what: string) => void

function columnChecker(
  columns: readonly ColumnSpec[],
  unresolved: ReadonlySet<string>,
  reportAt: ReportAt,
): ColumnCheck {
  const names = columns.map((c) => c.name)
  return (name, at, what) => {
    if (names.includes(name) || unresolved.has(name)) return
    const renamed = columns.find((c) => c.source.kind === 'element' && c.source.keyword === name)?.name
    const suggestion = renamed ?? closest(name, names)
    const hint = suggestion ? ` (did you mean "${suggestion}"?)` : ''
    reportAt(at, `${what} "${name}" is not an extracted column${hint}`)
  }
}

/** Sort keys, each naming an extracted column. */
function resolveSort(entries: NonNullable<NonNullable<CheckedPipeline['sort']>['by']>, check: ColumnCheck): SortKey[] {
  const keys: SortKey[] = []
  for (const [i, entry] of entries.entries()) {
    if (entry === undefined) continue
    const key =
      typeof entry === 'string' ? { column: entry, at: `sort.by[${i}]` } : { ...entry, at: `sort.by[${i}].column` }
    if (key.column === undefined) continue
    check(key.column, key.at, 'sort column')
    keys.push({ column: key.column, descending: 'order' in key && key.order === 'desc' })
  }
  return keys
}

/** `group_by` and `aggregate`, each naming extracted columns. */
function resolveGroup(
  by: NonNullable<CheckedPipeline['group_by']>,
  aggregates: NonNullable<CheckedPipeline['aggregate']>,
  check: ColumnCheck,
  given: Given,
): GroupSpec {
  const group: GroupSpec = { by: [], aggregates: [] }
  for (const [i, column] of by.entries()) {
    if (column === undefined) continue
    check(column, given(`group_by[${i}]`) ? `group_by[${i}]` : 'group_by', 'group_by column')
    group.by.push(column)
  }
  for (const [i, entry] of aggregates.entries()) {
    if (entry?.column === undefined || entry.op === undefined) continue
    check(entry.column, `aggregate[${i}].column`, 'aggregate column')
    // The schema let through only operations (`pNN` by its pattern).
    const op = entry.op as AggregateOp
    group.aggregates.push({ column: entry.column, op, name: entry.as ?? `${op}_${entry.column}` })
  }
  return group
}

/**
 * A metric's block: the attributes it reads must be extracted (checked only when every extract
 * entry resolved, since a misspelt one may be the missing attribute), then the metric's own
 * checks. Undefined when a field of the block had a problem (already reported).
 */
function resolveMetric(
  metric: AnyMetric,
  block: Record<string, unknown>,
  columns: readonly ColumnSpec[],
  group: GroupSpec | undefined,
  reportAt: ReportAt,
  given: Given,
): unknown {
  const hole = Object.entries(metric.fields).some(
    ([name, field]) => (field.required || 'default' in field) && block[name] === undefined,
  )
  if (hole) return undefined
  const { found, missing } = findNeeds(metric.needs, columns)
  if (missing.length > 0) {
    reportAt(
      metric.key,
      `${metric.key} reads ${missing.join(', ')}: extract ${missing.length === 1 ? 'it' : 'them'} (under any name)`,
    )
  }
  metric.check?.({
    config: block,
    found,
    missing,
    columns,
    ...(group && { groupBy: group.by }),
    report: reportAt,
    at: (field) => (given(`${metric.key}.${field}`) ? `${metric.key}.${field}` : metric.key),
  })
  return block
}

/** The output columns of a grouped pipeline must have different names (the metrics' ones too). */
function checkGroupNames(
  group: GroupSpec,
  metrics: readonly { metric: AnyMetric }[],
  reportAt: ReportAt,
  given: Given,
): void {
  const seen = new Set<string>(metrics.flatMap(({ metric }) => metric.groupColumns.map((c) => c.name)))
  const outputs = [
    ...group.by.map((name, i) => ({ name, at: given(`group_by[${i}]`) ? `group_by[${i}]` : 'group_by' })),
    ...group.aggregates.map(({ name }, i) => ({
      name,
      at: given(`aggregate[${i}].as`) ? `aggregate[${i}].as` : `aggregate[${i}]`,
    })),
  ]
  for (const { name, at } of outputs) {
    if (seen.has(name)) reportAt(at, `duplicate column "${name}" in the output (rename it with "as")`)
    seen.add(name)
  }
}

/**
 * The offset in the file of a character of a scalar's value: the value's characters are found in
 * order in its source (past quotes, doubled quotes, line breaks and indentation of a folded or
 * block scalar; a space of the value matches any white space of the source). `index` may be the
 * value's length (its end).
 */
export function offsetInScalar(source: string, node: Node, index: number): number {
  const [start, end] = node.range ?? [0, 0]
  if (!isScalar(node) || typeof node.value !== 'string') return start
  const value = node.value
  const space = /\s/
  let p = node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE' ? start + 1 : start
  for (let i = 0; i < Math.min(index, value.length); i++) {
    const c = value[i]
    let q = p
    while (q < end && source[q] !== c && !(space.test(c) && space.test(source[q]))) q++
    if (q >= end) return start
    p = q + 1
  }
  if (index >= value.length) return p
  while (p < end && source[p] !== value[index] && !(space.test(value[index]) && space.test(source[p]))) p++
  return p < end ? p : start
}

/** The parser's message, in the words of a pipeline file. */
function yamlMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'a pipeline file holds one YAML document: remove the second "---"'
  return message.charAt(0).toLowerCase() + message.slice(1)
}
