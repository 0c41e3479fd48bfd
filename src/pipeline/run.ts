/**
 * Runs a pipeline: lister -> header reader and projector -> [metrics' stages before the sorter,
 * such as slice positions] -> [sorter] -> [grouper, or the metrics' per-row stages] -> sink,
 * composed with `stream.pipeline`, which destroys every stage on the first fatal error. Per-file
 * problems are not fatal: they are reported (stderr, and the errors CSV when asked) and counted.
 */
import { pipeline } from 'node:stream/promises'
import type { Duplex, Readable, Transform, Writable } from 'node:stream'
import { EtlError, ExitCode, describeSystemError, signalExitCode } from '../errors.js'
import type { AtomicFile } from '../io/atomic-file.js'
import { displayPath } from '../io/fs-path.js'
import { prepareOutputs, type RunOutputs } from '../io/outputs.js'
import { stdoutSink } from '../io/stdout.js'
import { createLogger, type LoggerOptions, type Summary } from '../log.js'
import { startProgress } from '../progress.js'
import type { ListInfo } from '../sources/list-files.js'
import { sourceOf } from '../sources/registry.js'
import { loadState, stateSignature } from '../io/state-file.js'
import { recordState, skipUnchanged } from '../transforms/state.js'
import type { Skip } from '../records.js'
import { newReadInfo } from '../sources/read-headers.js'
import { findNeeds, type Alert, type AnyMetric, type MetricColumn } from '../metrics/metric.js'
import { METRICS, metricsOf } from '../metrics/registry.js'
import { groupRows, type GroupInfo } from '../transforms/group-rows.js'
import { removeStaleSortFolders, sortRows, type SortColumn } from '../transforms/sort-rows.js'
import { formatCsv } from '../sinks/csv.js'
import { formatOfPath, sinkOf } from '../sinks/registry.js'
import type { SinkColumn } from '../sinks/sink.js'
import { aggregateType, columnType } from './column-types.js'
import { DEFAULT_SORT_MEMORY_MB, type PipelineSpec } from './spec.js'
import { isFoldOp } from '../metrics/aggregate.js'
import { DEFAULT_PRECISION } from '../values.js'
import { distinctRows, type DistinctInfo } from '../transforms/distinct-rows.js'
import { normaliseColumns } from '../transforms/normalise-columns.js'
import { MIN_KEY_BYTES, privacyPlan, pseudonymiseRows, type PrivacyPlan } from '../transforms/privacy.js'

/** Options of {@link runPipeline}. */
export interface RunOptions extends LoggerOptions {
  /** Draw a progress line on stderr. Default: when stderr is a terminal and not quiet. */
  progress?: boolean
  /** Stops the run (SIGINT, SIGTERM, SIGHUP): every stage is torn down and no output replaced. */
  signal?: AbortSignal
  /** Failures tolerated before the exit code is 65. Default none. */
  maxFailures?: FailureLimit
  /** Exit code 3 when a dose was above its notification level (an alert). */
  failOnAlert?: boolean
  /** Ignore the state file: read every file, and write the state anew. */
  full?: boolean
  /**
   * The key of a pseudonymised run (`spec.privacy`): at least 32 bytes, from a file or the
   * environment (`io/pseudonym-key.ts`), never from the pipeline.
   */
  pseudonymKey?: Buffer
  /** Where CSV goes when the output is '-'. Default process.stdout. */
  stdout?: Writable
  /** Where messages go. Default process.stderr. */
  stderr?: Writable
}

/** How many failed files a run tolerates before its exit code says so. */
export type FailureLimit = { count: number } | { percent: number }

/**
 * The exit code a finished run deserves: 65 when more DICOM files failed than `limit` allows
 * (by default, any), or when a folder could not be listed (it hides an unknown number of files,
 * so no limit can allow it); else 3 with `failOnAlert` when a dose was above its notification
 * level; else 0. Failures and alerts are reported either way.
 */
export function exitCodeOf(summary: Summary, limit: FailureLimit = { count: 0 }, failOnAlert = false): ExitCode {
  if (summary.unlisted) return ExitCode.DATA_ERR
  const dicom = summary.headers + summary.failed
  const over = 'count' in limit ? summary.failed > limit.count : summary.failed * 100 > limit.percent * dicom
  if (over) return ExitCode.DATA_ERR
  return failOnAlert && (summary.alerts ?? 0) > 0 ? ExitCode.ALERT : ExitCode.OK
}

/**
 * Runs the pipeline to the end and returns its summary (also printed on stderr). The output,
 * errors CSV and state are one transaction: checked and locked before anything is read (two of
 * them naming the same file, or an input, is a usage error), written as temporary files, and
 * renamed over the old ones together only when everything is written; any failure leaves them
 * all as they were. Throws EtlError for fatal problems: a missing input (E_NO_INPUT), a file
 * that cannot be written (E_OUTPUT, naming it); a closed stdout (`| head`) ends the run quietly.
 */
export async function runPipeline(spec: PipelineSpec, options: RunOptions = {}): Promise<Summary> {
  const started = performance.now()
  const stderr = options.stderr ?? process.stderr
  const log = createLogger(stderr, options)
  const privacy = privacyOf(spec, options.pseudonymKey)
  try {
    return await runLocked(spec, options, { started, stderr, log, privacy })
  } catch (err) {
    // A fatal message may name an input (`input DIR: no such file or directory`, `no files found
    // under DIR`): keyed as the log's start event names it, since logs are collected.
    if (privacy && err instanceof EtlError) {
      throw new EtlError(err.code, privacy.redactFatal(err.message), err.exitCode, err.details.map(privacy.redactFatal))
    }
    throw err
  }
}

/** The run with its outputs locked and prepared, released at its end. */
async function runLocked(
  spec: PipelineSpec,
  options: RunOptions,
  {
    started,
    stderr,
    log,
    privacy,
  }: { started: number; stderr: Writable; log: ReturnType<typeof createLogger>; privacy?: RunPrivacy },
): Promise<Summary> {
  const outputs = prepareOutputs({
    output: spec.output.path,
    errors: spec.output.errors,
    state: spec.state,
    inputs: spec.source.paths,
  })
  for (const note of outputs.notes) log.note(privacy ? privacy.redact(note) : note)
  const inputs = spec.source.dicomweb ? [spec.source.dicomweb.url] : spec.source.paths
  log.start(privacy ? inputs.map((input) => privacy.plan.path(displayPath(input))) : inputs, spec.output.path)
  try {
    return await runPrepared(spec, options, outputs, { started, stderr, log, privacy })
  } finally {
    outputs.release()
  }
}

/** The run itself, once its outputs are locked and prepared. */
async function runPrepared(
  spec: PipelineSpec,
  options: RunOptions,
  outputs: RunOutputs,
  {
    started,
    stderr,
    log,
    privacy,
  }: { started: number; stderr: Writable; log: ReturnType<typeof createLogger>; privacy?: RunPrivacy },
): Promise<Summary> {
  const listInfo: ListInfo = { listed: 0, done: false }
  const readInfo = newReadInfo()
  let warnings = 0
  const warn = (path: string, message: string) => {
    warnings++
    log.warning(privacy ? privacy.plan.path(displayPath(path)) : displayPath(path), message)
  }

  // Refused before anything is read or written: a binary format on a terminal.
  const toStdout = outputs.output === undefined
  const sinkModule = sinkOf(spec.output.format ?? formatOfPath(spec.output.path) ?? 'csv')
  const stdout = options.stdout ?? process.stdout
  if (toStdout && sinkModule.binary && (stdout as NodeJS.WriteStream).isTTY) {
    throw new EtlError(
      'E_USAGE',
      `${sinkModule.format} is binary, not for a terminal: write it to a file (-o out.${sinkModule.format}) or pipe it`,
      ExitCode.USAGE,
    )
  }
  const errorsCsv = outputs.errors ? writeErrorsCsv(outputs.errors, spec.format?.spreadsheet) : undefined
  const onSkip = (skip: Skip) => {
    const shownPath = displayPath(skip.path)
    const path = privacy ? privacy.plan.path(shownPath) : shownPath
    // A reason may name the file: keyed as its path is.
    const reason = privacy
      ? privacy.redact(skip.reason.split(shownPath).join(path).split(skip.path).join(path))
      : skip.reason
    const shown = { ...skip, path, reason }
    log.skip(shown)
    errorsCsv?.rows.write([shown.path, skip.outcome, skip.code, shown.reason])
  }

  const columns = spec.columns
  const signature = stateSignature(
    columns,
    spec.format,
    spec.rows,
    spec.perItem?.text,
    spec.where?.text,
    privacy?.signature,
  )
  const state =
    outputs.statePath !== undefined
      ? loadState(outputs.statePath, signature, columns.length, options.full ?? false)
      : undefined
  if (state && privacy) {
    const keyed = privacy.plan.keyed
    state.privacy = { key: (path) => keyed.stateKey(path), path: privacy.plan.path }
  }
  if (state?.ignored)
    warn(spec.state ?? '', `not used: it ${state.ignored}; every file is read and the state written anew`)
  // source -> [record state] -> row stages (sort, group, metrics) -> sink: each from its module.
  const stages: (Readable | Transform | Writable)[] = sourceOf(spec.source.type ?? 'files').create({
    spec,
    // With a state, records (rows with the facts that identify their file), which it records.
    records: state !== undefined,
    skipKnown: state && (() => skipUnchanged(state, pathColumns(columns))),
    state,
    info: { list: listInfo, read: readInfo },
    onSkip,
    onWarning: warn,
    onNote: (message) => log.note(privacy ? privacy.redact(message) : message),
  })
  // Right after the source: the state, the sorter's runs and the sink see pseudonyms only.
  if (privacy) stages.push(pseudonymiseRows(privacy.plan, (record) => state?.known.has(record) ?? false))
  if (state && outputs.state) stages.push(recordState(state, signature, outputs.state))
  const normalise = normaliseColumns(spec.columns)
  if (normalise) stages.push(normalise)
  const groupInfo: GroupInfo = { groups: 0 }
  const distinctInfo: DistinctInfo = { dropped: 0 }
  let alerts = 0
  const rows = rowStages(spec, groupInfo, METRICS, distinctInfo, (alert) => {
    alerts++
    log.alert(alert)
  })
  if (rows.sorts) removeStaleSortFolders(log.note)
  stages.push(...rows.stages, await sinkModule.create({ columns: rows.columns, format: spec.format ?? {} }))
  const sink = outputs.output ?? options.stdout ?? stdoutSink()
  let sinkError: Error | undefined
  if (toStdout) sink.once('error', (e: Error) => (sinkError = e))
  stages.push(sink)

  const showProgress = options.progress ?? (!options.quiet && (stderr as NodeJS.WriteStream).isTTY === true)
  const stopProgress = showProgress ? startProgress({ stream: stderr, list: listInfo, read: readInfo }) : undefined
  try {
    await pipeline(stages as unknown as [Readable, ...Transform[], Writable], { signal: options.signal })
    if (errorsCsv) await errorsCsv.finish()
    // Nothing listed (an unmounted share, with allow_empty): the state keeps what it knew.
    outputs.commit({ state: listInfo.listed > 0 })
  } catch (err) {
    stopProgress?.()
    await errorsCsv?.abort()
    await outputs.discard()
    if (options.signal?.aborted) {
      const name = String(options.signal.reason ?? 'SIGINT')
      const code = signalExitCode(name)
      const files = [outputs.output, outputs.errors, outputs.state].flatMap((f) => (f ? [f.target.given] : []))
      const kept =
        files.length === 0
          ? ''
          : `; ${files.join(', ')} ${files.length === 1 ? 'is left as it was' : 'are left as they were'}`
      throw new EtlError('E_INTERRUPTED', `interrupted by ${name}${kept}`, code)
    }
    const e = err as NodeJS.ErrnoException
    // A write of stdout that failed (the sink's own error: another stage's failure reaches the
    // sink too, as its destroy error, and is not stdout's).
    const written = [sinkError, e].find((x) => (x as NodeJS.ErrnoException | undefined)?.syscall === 'write')
    const stdoutFailed = toStdout && written !== undefined && !(err instanceof EtlError)
    if (stdoutFailed && (written as NodeJS.ErrnoException).code === 'EPIPE') {
      // The reader of stdout has gone (`etl ... | head`): nothing more to say.
    } else if (err instanceof EtlError) {
      throw err
    } else if (stdoutFailed) {
      throw new EtlError('E_OUTPUT', `cannot write stdout: ${describeSystemError(written)}`, ExitCode.IO_ERR)
    } else if (e.code?.startsWith('ERR_WORKER')) {
      // A process limit (threads, file descriptors) met while starting the reader threads.
      throw new EtlError(
        'E_READ',
        `cannot start reader threads (${e.message}); --threads 0 reads without`,
        ExitCode.IO_ERR,
      )
    } else if (e.code) {
      const path = e.path === undefined ? 'an input' : privacy ? privacy.plan.path(displayPath(e.path)) : e.path
      throw new EtlError('E_READ', `cannot read ${path}: ${describeSystemError(e)}`, ExitCode.IO_ERR)
    } else {
      throw err
    }
  }

  stopProgress?.()
  if (state?.unusable) {
    warn(spec.state ?? '', `${state.unusable} records were not usable (wrong shape): their files were read again`)
  }
  // Every header read (or taken from the state) makes a row, or one per frame; rows go into groups.
  const headers = readInfo.read + (state ? state.unchanged : 0)
  const rowsMade = readInfo.rows + (state ? state.unchangedRows : 0)
  const summary: Summary = {
    listed: listInfo.listed,
    ...(listInfo.web && { listedWhat: 'instances' as const }),
    headers,
    rows: spec.group ? groupInfo.groups : rowsMade - distinctInfo.dropped,
    ...(spec.where && { filtered: readInfo.filtered }),
    ignored: readInfo.ignored,
    failed: readInfo.failed + (listInfo.failed ?? 0),
    ...(listInfo.unlisted && { unlisted: listInfo.unlisted }),
    warnings,
    bytesRead: readInfo.bytesRead,
    elapsedMs: performance.now() - started,
    older: listInfo.older,
    ...(state && { unchanged: state.unchanged }),
    ...(spec.group && { grouped: true }),
    ...(alerts > 0 && { alerts }),
  }
  log.summary(summary, exitCodeOf(summary, options.maxFailures, options.failOnAlert))
  return summary
}

/** A pseudonymised run's plan, the text of its state signature, and how its messages are redacted. */
interface RunPrivacy {
  plan: PrivacyPlan
  signature: string
  /** A message with the inputs' paths in it keyed (notes, reasons of skipped files). */
  redact: (text: string) => string
  /**
   * A fatal error's message with the inputs keyed, and the folders above them that a message
   * may name alone (a pattern's folder: `input a/*\/IM*: a (the folder it is matched in)`).
   */
  redactFatal: (text: string) => string
}

/**
 * The privacy of a run, or undefined without `privacy`.
 * @throws EtlError `E_KEY` (exit 78) when the run is pseudonymised and has no key of 32 bytes or more.
 */
function privacyOf(spec: PipelineSpec, key: Buffer | undefined): RunPrivacy | undefined {
  if (!spec.privacy) return undefined
  if (!key || key.length < MIN_KEY_BYTES) {
    throw new EtlError(
      'E_KEY',
      `pseudonymising needs a key of at least ${MIN_KEY_BYTES} bytes: --key-file FILE or the variable ETL_PSEUDONYM_KEY`,
      ExitCode.CONFIG,
    )
  }
  const plan = privacyPlan(spec.columns, spec.privacy, key)
  const signature = JSON.stringify([spec.privacy.columns, spec.privacy.shiftDays, plan.keyed.fingerprint()])
  // The inputs as given and as resolved, longest first (a folder before its parent).
  const texts = [...new Set(spec.source.paths.flatMap((p) => [displayPath(p), p]))].sort((a, b) => b.length - a.length)
  const url = spec.source.dicomweb?.url
  const redact = (text: string) => {
    let out = text
    for (const input of texts) out = out.split(input).join(plan.path(displayPath(input)))
    return url ? out.split(url).join(plan.path(url)) : out
  }
  const folders = [...new Set(texts.flatMap(foldersAbove))].sort((a, b) => b.length - a.length)
  const redactFatal = (text: string) => {
    let out = redact(text)
    // A folder alone, between spaces, parentheses, commas or a colon: never inside a word.
    for (const folder of folders) {
      out = out.replace(new RegExp(`(?<=^|[\\s(,])${escapeRegExp(folder)}(?=$|[\\s:,)])`, 'g'), plan.path(folder))
    }
    return out
  }
  return { plan, signature, redact, redactFatal }
}

/** The folders above a path as written (`a/b/c` -> `a/b`, `a`; `/x/y` -> `/x`), not the root. */
function foldersAbove(path: string): string[] {
  const out: string[] = []
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) out.push(path.slice(0, i))
  return out
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The stages between the projector and the sink, and the sink's header. Each metric of the
 * pipeline (from `metrics`, by default the registry's) appends its columns before the sorter
 * first (dose: slice positions). The sorter sorts by the `group_by` columns, then each metric's
 * sort keys (dose: the SeriesInstanceUID column, then the slice position), then `sort.by`: what
 * the grouper and the metrics need comes first, so they can stream. Then come the grouper, with
 * each metric's per-group accumulator, or each metric's per-row stage.
 * @throws EtlError `E_CONFIG` when a metric reads attributes that are not extracted.
 */
export function rowStages(
  spec: PipelineSpec,
  groupInfo?: GroupInfo,
  metrics: readonly AnyMetric[] = METRICS,
  distinctInfo: DistinctInfo = { dropped: 0 },
  alert?: (alert: Alert) => void,
): { stages: Duplex[]; header: string[]; columns: SinkColumn[]; sorts: boolean } {
  const names = spec.columns.map((c) => c.name)
  const types = spec.columns.map(columnType)
  const typed = (header: string[], kinds: SinkColumn['type'][]) => ({
    header,
    columns: header.map((name, i) => ({ name, type: kinds[i] })),
  })
  const computed = (columns: readonly MetricColumn[]) => columns.map(({ kind }) => ({ kind, list: false }))
  const index = (name: string) => names.indexOf(name)
  const stages: Duplex[] = []
  const active = metricsOf(spec, metrics)
  let width = names.length
  const precision = spec.format?.precision ?? DEFAULT_PRECISION
  const plans = active.map(({ metric, config }) => {
    const found = findNeeds(metric.needs, spec.columns)
    if (!found.columns) {
      throw new EtlError('E_CONFIG', `${metric.key} reads ${found.missing.join(', ')}: extract them`, ExitCode.CONFIG)
    }
    const plan = metric.plan({
      columns: found.columns,
      config,
      width,
      precision,
      names,
      grouped: spec.group !== undefined,
      ...(alert && { alert }),
    })
    width += metric.beforeColumns.length
    return plan
  })
  for (const plan of plans) if (plan.before) stages.push(plan.before())
  const keys: SortColumn[] = []
  const sortBy = (key: SortColumn) => {
    if (!keys.some((k) => k.index === key.index)) keys.push(key)
  }
  for (const column of spec.group?.by ?? []) sortBy({ index: index(column), descending: false })
  const distinct = (spec.distinct ?? []).map(index)
  for (const column of distinct) sortBy({ index: column, descending: false })
  for (const plan of plans) plan.sortKeys.forEach(sortBy)
  for (const key of spec.sort) sortBy({ index: index(key.column), descending: key.descending })
  // The budget: the sorter's, or half of it when the groups hold values (percentiles,
  // count_distinct), which the grouper holds while the sorter gives out its rows.
  const budget = (spec.sortMemoryMb ?? DEFAULT_SORT_MEMORY_MB) * 1024 * 1024
  const holds = spec.group?.aggregates.some(({ op }) => !isFoldOp(op)) ?? false
  const memoryBytes = holds ? Math.floor(budget / 2) : budget
  if (keys.length > 0) stages.push(sortRows(keys, { memoryBytes, format: spec.format }))
  const sorts = keys.length > 0
  if (spec.group) {
    const aggregates = spec.group.aggregates.map(({ column, op }) => ({ index: index(column), op }))
    const accumulators = plans.flatMap((plan) => (plan.perGroup ? [plan.perGroup] : []))
    const keyColumns = spec.group.by.map(index)
    stages.push(
      groupRows({
        keys: keyColumns,
        aggregates,
        accumulators,
        distinct,
        info: groupInfo,
        format: spec.format,
        precision,
        memoryBytes,
      }),
    )
    const added = active.flatMap(({ metric }) => metric.groupColumns)
    const header = [...spec.group.by, ...spec.group.aggregates.map((a) => a.name), ...added.map((c) => c.name)]
    const kinds = [
      ...keyColumns.map((i) => types[i]),
      ...spec.group.aggregates.map((a) => aggregateType(a.op, types[index(a.column)])),
      ...computed(added),
    ]
    return { stages, ...typed(header, kinds), sorts }
  }
  if (distinct.length > 0) stages.push(distinctRows(distinct, { info: distinctInfo, format: spec.format }))
  for (const plan of plans) if (plan.perRow) stages.push(plan.perRow())
  const added = [
    ...active.flatMap(({ metric }) => metric.beforeColumns),
    ...active.flatMap(({ metric }) => metric.rowColumns),
  ]
  return { stages, ...typed([...names, ...added.map((c) => c.name)], [...types, ...computed(added)]), sorts }
}

/** The columns that hold the file's path (made again for rows taken from the state). */
function pathColumns(columns: PipelineSpec['columns']): number[] {
  return columns.flatMap((c, i) => (c.source.kind === 'pseudo' && c.source.name === 'path' ? [i] : []))
}

/** The errors CSV: every ignored and failed file with its reason, into its prepared file. */
function writeErrorsCsv(
  file: AtomicFile,
  spreadsheet = false,
): {
  rows: Transform
  finish: () => Promise<void>
  abort: () => Promise<void>
} {
  const rows = formatCsv(['path', 'outcome', 'code', 'reason'], { spreadsheet })
  const done = pipeline(rows, file)
  done.catch(() => {})
  return {
    rows,
    finish: async () => {
      rows.end()
      await done
    },
    abort: async () => {
      rows.destroy()
      await file.discard()
    },
  }
}
