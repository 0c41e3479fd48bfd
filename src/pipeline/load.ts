/**
 * Pipeline files: YAML text -> `PipelineSpec`, or every problem found, each at its line:col.
 *
 * Three passes, each reporting everything it finds: YAML syntax (the parser's own errors),
 * the schema (`schema.ts`: keys, types, ranges, defaults), then meaning (DICOM keywords via
 * `parseColumn`, duplicate and unknown column names, output paths). Syntax errors other than
 * repeated keys stop there: what follows them is the parser's guess.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'
import { parseTag } from '../dicom/keywords.js'
import { checkColumnNames, parseColumn, type ColumnResult } from './columns.js'
import { closest } from '../suggest.js'
import { checkPipeline, type CheckedPipeline, type ValueOf, type pipelineSchema } from './schema.js'
import type { ColumnSpec, PipelineSpec, SortKey } from './spec.js'

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
    const meaning = value && checkMeaning(value, baseDir, reportAt)
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
type Complete = ValueOf<typeof pipelineSchema>

/** The checks that span keys; holes are skipped, their problems already reported. */
function checkMeaning(value: CheckedPipeline, baseDir: string, reportAt: ReportAt) {
  const { columns, unresolved } = resolveColumns(value.extract ?? [], reportAt)
  const sort = value.extract ? resolveSort(value.sort?.by ?? [], columns, unresolved, reportAt) : []
  const { path, errors } = value.output ?? {}
  if (errors === '-') reportAt('output.errors', 'output.errors must be a file, not "-": stdout is for the CSV')
  else if (errors !== undefined && path !== undefined && outputPath(errors, baseDir) === outputPath(path, baseDir)) {
    reportAt('output.errors', 'output.errors must not be the same file as output.path')
  }
  return { columns, sort }
}

function toSpec(
  value: Complete,
  { columns, sort }: { columns: ColumnSpec[]; sort: SortKey[] },
  baseDir: string,
): PipelineSpec {
  const { source, output } = value
  return {
    source: {
      paths: source.paths.map((p) => resolve(baseDir, p)),
      ignore: source.ignore,
      concurrency: source.concurrency,
      threads: source.threads,
      followSymlinks: source.follow_symlinks,
      hidden: source.hidden,
    },
    columns,
    sort,
    output: {
      path: outputPath(output.path, baseDir),
      ...(output.errors !== undefined && { errors: outputPath(output.errors, baseDir) }),
    },
  }
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
    const [duplicate] = checkColumnNames([...columns, result.column])
    if (duplicate) reportAt(as === undefined ? written.at : `${at}.as`, duplicate)
    else columns.push(result.column)
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
function selector(entry: { keyword?: string; tag?: string }, at: string): Written | undefined {
  if (entry.keyword !== undefined) {
    const isTag = parseTag(entry.keyword) !== undefined
    const problem = isTag
      ? `${at}.keyword must be a keyword, got the tag "${entry.keyword}" (use tag: instead)`
      : undefined
    return { text: entry.keyword, at: `${at}.keyword`, problem }
  }
  if (entry.tag !== undefined) {
    const isTag = parseTag(entry.tag) !== undefined
    const problem = isTag ? undefined : `${at}.tag must be a tag like '0018,9345', got "${entry.tag}"`
    return { text: entry.tag, at: `${at}.tag`, problem }
  }
  return undefined
}

/** Sort keys, each naming an extracted column (as in the CSV header). */
function resolveSort(
  entries: NonNullable<NonNullable<CheckedPipeline['sort']>['by']>,
  columns: readonly ColumnSpec[],
  unresolved: ReadonlySet<string>,
  reportAt: ReportAt,
): SortKey[] {
  const names = columns.map((c) => c.name)
  const keys: SortKey[] = []
  for (const [i, entry] of entries.entries()) {
    if (entry === undefined) continue
    const key =
      typeof entry === 'string' ? { column: entry, at: `sort.by[${i}]` } : { ...entry, at: `sort.by[${i}].column` }
    if (key.column === undefined) continue
    if (!names.includes(key.column) && !unresolved.has(key.column)) {
      const renamed = columns.find((c) => c.source.kind === 'element' && c.source.keyword === key.column)?.name
      const suggestion = renamed ?? closest(key.column, names)
      const hint = suggestion ? ` (did you mean "${suggestion}"?)` : ''
      reportAt(key.at, `sort column "${key.column}" is not an extracted column${hint}`)
    }
    keys.push({ column: key.column, descending: 'order' in key && key.order === 'desc' })
  }
  return keys
}

/** The parser's message, in the words of a pipeline file. */
function yamlMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'a pipeline file holds one YAML document: remove the second "---"'
  return message.charAt(0).toLowerCase() + message.slice(1)
}
