/**
 * What the commands share: the options every command takes, and one way to run a pipeline
 * and turn its outcome or error into a message and an exit code.
 */
import { resolve } from 'node:path'
import type { Argv } from 'yargs'
import { EtlError, ExitCode, signalExitCode, STOP_SIGNALS } from '../errors.js'
import { isStdoutClosed } from '../io/stdout.js'
import { createLogger } from '../log.js'
import type { FormatOptions } from '../dicom/format-value.js'
import type { FailureLimit } from '../pipeline/run.js'
import type { PipelineSpec } from '../pipeline/spec.js'
import { OUTPUT_FORMATS } from '../sinks/registry.js'

export interface CommonArgs {
  quiet: boolean
  verbose: boolean
  progress?: boolean
  logFormat?: 'text' | 'json'
  maxFailures?: string
  since?: string
  state?: string
  full?: boolean
}

/** How fatal errors are written: set from --log-format before any command runs. */
let logFormat: 'text' | 'json' = 'text'

/** --quiet and --verbose. */
export function withCommonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .strict()
    .option('quiet', {
      alias: 'q',
      type: 'boolean',
      default: false,
      describe: 'Print only failures and errors on stderr',
    })
    .option('progress', {
      type: 'boolean',
      describe: 'Show a progress line on stderr (default: when stderr is a terminal; --no-progress hides it)',
    })
    .option('verbose', {
      alias: 'v',
      type: 'boolean',
      default: false,
      describe: 'Also list ignored (non-DICOM) files and every value warning',
    })
    .option('log-format', {
      choices: ['text', 'json'] as const,
      describe: 'Messages on stderr as text (default) or one JSON object per event, for log collectors',
    })
    .option('max-failures', {
      type: 'string',
      describe:
        'Failed files tolerated before exit code 65: a count (10) or a share of the DICOM files (2%); default 0',
      requiresArg: true,
    })
    .option('since', {
      type: 'string',
      describe:
        'Only files modified since a date (2026-11-01, 2026-11-01T06:00: local time unless Z or +01:00 follows) ' +
        'or for a duration (24h, 7d, 30m)',
      requiresArg: true,
    })
    .option('state', {
      type: 'string',
      describe: 'State file of incremental runs: read only new or changed files (overrides the pipeline)',
      requiresArg: true,
    })
    .option('full', { type: 'boolean', describe: 'Ignore the state file: read every file and write the state anew' })
    .middleware((argv) => {
      if (argv.logFormat === 'json') logFormat = 'json'
    }) as Argv<T & CommonArgs>
}

/** --concurrency, shared by run and extract. */
export const CONCURRENCY_OPTION = {
  alias: 'j',
  type: 'number',
  describe:
    'Files read at once. Default: one per reader thread, read synchronously (best on local disks); ' +
    'use e.g. 64 on network or cold storage',
  requiresArg: true,
} as const

/** --threads, shared by run and extract. */
export const THREADS_OPTION = {
  type: 'number',
  describe: 'Reader threads beside the main one, for jobs over 256 files (default: CPUs - 1, at least 1; 0: none)',
  requiresArg: true,
} as const

/** `--format`: the output format, shared by run and extract. */
export const OUTPUT_FORMAT_OPTION = {
  choices: OUTPUT_FORMATS,
  describe: 'Output format (default: from the -o file name ending .csv, .jsonl or .parquet; else csv)',
  requiresArg: true,
} as const

/** The cell format flags, shared by run and extract. */
export interface FormatArgs {
  separator?: string
  dates?: 'stored' | 'iso'
  names?: 'stored' | 'alphabetic' | 'ideographic' | 'phonetic'
  binary?: 'base64' | 'length'
  charset?: string
  spreadsheet?: boolean
}

/** Adds the cell format flags. */
export function withFormatOptions<T>(y: Argv<T>): Argv<T & FormatArgs> {
  return y
    .option('separator', {
      type: 'string',
      describe: 'Join multiple values with this (default: a backslash)',
      requiresArg: true,
    })
    .option('dates', { choices: ['stored', 'iso'] as const, describe: 'DA/TM/DT as stored (default) or ISO 8601' })
    .option('names', {
      choices: ['stored', 'alphabetic', 'ideographic', 'phonetic'] as const,
      describe: 'PN whole (default) or one component group',
    })
    .option('binary', {
      choices: ['base64', 'length'] as const,
      describe: 'OB/OW/UN values as base64 (default) or byte count',
    })
    .option('charset', {
      type: 'string',
      describe: 'Character set for text none declares, e.g. ISO_IR 192 (default ISO_IR 100, with a warning)',
      requiresArg: true,
    })
    .option('spreadsheet', {
      type: 'boolean',
      describe: "CSV safe in Excel/LibreOffice: a BOM, and cells a spreadsheet would run as formulas marked ' as text",
    }) as Argv<T & FormatArgs>
}

/** The format options the flags set (undefined when none). */
export function formatFromArgs(args: FormatArgs): FormatOptions | undefined {
  const format: FormatOptions = {}
  if (args.separator !== undefined) format.separator = args.separator
  if (args.dates !== undefined) format.dates = args.dates
  if (args.names !== undefined) format.names = args.names
  if (args.binary !== undefined) format.binary = args.binary
  if (args.charset !== undefined) format.charset = args.charset
  if (args.spreadsheet) format.spreadsheet = true
  return Object.keys(format).length > 0 ? format : undefined
}

/** Range checks of --concurrency and --threads; the message, or undefined when both are fine. */
export function checkConcurrency(concurrency: number | undefined, threads?: number): string | undefined {
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)) {
    return `--concurrency must be an integer from 1 to 1024, got ${concurrency}`
  }
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0 || threads > 64)) {
    return `--threads must be an integer from 0 to 64, got ${threads}`
  }
  return undefined
}

/** Runs a pipeline and sets process.exitCode; reports fatal errors in one line. */
export async function execute(spec: PipelineSpec, args: CommonArgs): Promise<void> {
  try {
    // Loaded here, not at start-up: `etl --help` and usage errors need none of the pipeline.
    const { exitCodeOf, runPipeline } = await import('../pipeline/run.js')
    const stop = new AbortController()
    const onSignal = (signal: NodeJS.Signals) => {
      // A second signal while the first is being handled ends the process at once.
      if (stop.signal.aborted) process.exit(signalExitCode(signal))
      stop.abort(signal)
    }
    // SIGHUP too: a run whose terminal is closed must not leave its lock and temporary output.
    const signals = Object.keys(STOP_SIGNALS) as NodeJS.Signals[]
    for (const signal of signals) process.on(signal, onSignal)
    const maxFailures = parseFailureLimit(args.maxFailures)
    const since = parseSince(args.since)
    const withSince = since ? { ...spec, source: { ...spec.source, since } } : spec
    const run = args.state ? { ...withSince, state: resolve(args.state) } : withSince
    const summary = await runPipeline(run, {
      quiet: args.quiet,
      verbose: args.verbose,
      progress: args.progress,
      logFormat: args.logFormat,
      maxFailures,
      full: args.full,
      signal: stop.signal,
    }).finally(() => {
      // After an interruption the handlers stay: a second Ctrl-C must still exit 130, not kill.
      if (!stop.signal.aborted) for (const signal of signals) process.off(signal, onSignal)
    })
    process.exitCode = exitCodeOf(summary, maxFailures)
  } catch (err) {
    fail(err)
  }
}

/** Prints an error as one line and sets the exit code (70 and the stack for bugs). */
export function fail(err: unknown): void {
  // The reader of stdout has gone (`etl ... | head`): nothing more to say.
  if (isStdoutClosed(err)) return
  const log = createLogger(process.stderr, { logFormat })
  if (err instanceof EtlError) {
    for (const line of err.details) process.stderr.write(`${line}\n`)
    log.error(err.message, err.code)
    if (err.code === 'E_USAGE' && logFormat === 'text') log.error("run 'etl --help' for usage")
    process.exitCode = err.exitCode
    return
  }
  log.error(`internal error: ${(err as Error)?.stack ?? String(err)}`, 'E_INTERNAL')
  log.error('this is a bug: please report it with the command that caused it')
  process.exitCode = ExitCode.SOFTWARE
}

/** --max-failures: `10` (files) or `2%` (of the DICOM files read); throws a usage error otherwise. */
export function parseFailureLimit(text: string | undefined): FailureLimit | undefined {
  if (text === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim())
  if (!m || (!m[2] && !Number.isInteger(Number(m[1])))) {
    return usage(`--max-failures must be a count (10) or a percentage (2%), got "${text}"`)
  }
  return m[2] ? { percent: Number(m[1]) } : { count: Number(m[1]) }
}

const SINCE_FORMS = 'a date (2026-11-01, 2026-11-01T06:00) or a duration (30m, 24h, 7d, 2w)'

/**
 * --since: a date or date-time, or a duration back from now (`30m`, `24h`, `7d`, `2w`); throws a
 * usage error otherwise. A date alone and a date-time without a zone are read in local time
 * (`2026-11-01` is local midnight, as a cron user means it); `Z` or `+01:00` names the zone. A date
 * that does not exist (`2026-02-30`, `T24:00`) is refused, not rolled over into the next month.
 */
export function parseSince(text: string | undefined, now = Date.now()): Date | undefined {
  if (text === undefined) return undefined
  const trimmed = text.trim()
  const duration = /^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$/i.exec(trimmed)
  if (duration) {
    const minutes = { m: 1, min: 1, h: 60, d: 1440, w: 10080 }[
      duration[2].toLowerCase() as 'm' | 'min' | 'h' | 'd' | 'w'
    ]
    const date = new Date(now - Number(duration[1]) * minutes * 60_000)
    if (Number.isNaN(date.getTime())) return usage(`--since ${text}: a duration reaching back before any date`)
    return date
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(Z|([+-])(\d{2}):?(\d{2}))?$/i.exec(trimmed)
  if (!m) return usage(`--since must be ${SINCE_FORMS}, got "${text}"`)
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((n) => Number(n ?? 0))
  const zoneMinutes = m[9] === undefined ? 0 : Number(m[9]) * 60 + Number(m[10])
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
  const exists = days !== undefined && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59
  if (!exists || Number(m[10] ?? 0) > 59 || zoneMinutes > 14 * 60) {
    return usage(`--since ${text}: no such date or time`)
  }
  let date: Date
  if (m[7] === undefined) {
    date = new Date(2000, month - 1, day, hour, minute, second)
    date.setFullYear(year)
  } else {
    const utc = new Date(Date.UTC(2000, month - 1, day, hour, minute, second))
    utc.setUTCFullYear(year)
    date = new Date(utc.getTime() - (m[8] === '-' ? -1 : 1) * zoneMinutes * 60_000)
  }
  return date
}

/** Why `--errors` cannot be `-`: stdout carries the CSV alone. */
export const ERRORS_NOT_STDOUT = "--errors names a file; '-' (stdout) is for the CSV"

/** A usage error: one line, the hint to --help, exit 64. */
export function usage(message: string): never {
  throw new EtlError('E_USAGE', message, ExitCode.USAGE)
}
