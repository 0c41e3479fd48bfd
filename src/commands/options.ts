/**
 * The flags the commands share: those every command takes, --concurrency and --threads, and the
 * cell format flags with the format options they set.
 */
import type { Argv } from 'yargs'
import type { FormatOptions } from '../dicom/format-value.js'
import { setLogFormat } from './fail.js'
import { OUTPUT_FORMATS } from '../sinks/registry.js'
import { ROWS_PER, type ColumnSpec } from '../pipeline/spec.js'
import type { RowFilter } from '../pipeline/where.js'
import { resolveWhere } from '../pipeline/where-columns.js'

/** The flags every command takes. */
export interface CommonArgs {
  quiet: boolean
  verbose: boolean
  progress?: boolean
  logFormat?: 'text' | 'json'
  maxFailures?: string
  since?: string
  state?: string
  full?: boolean
  failOnAlert?: boolean
  pseudonymise?: boolean
  keyFile?: string
}

/** Adds the flags every command takes: --quiet, --verbose, --progress, --log-format, --max-failures, --since, --state, --full. */
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
        'or for a duration (24h, 7d, 30m); from a PACS (DICOMweb), studies since then by StudyDate and StudyTime',
      requiresArg: true,
    })
    .option('state', {
      type: 'string',
      describe: 'State file of incremental runs: read only new or changed files (overrides the pipeline)',
      requiresArg: true,
    })
    .option('full', { type: 'boolean', describe: 'Ignore the state file: read every file and write the state anew' })
    .option('pseudonymise', {
      type: 'boolean',
      describe:
        'Pseudonymised output: identifying columns (DICOM PS3.15 Table E.1-1, path) get the actions the profile ' +
        "suggests, unless the pipeline's privacy: says otherwise; needs a key (see README, Pseudonymised exports)",
    })
    .option('key-file', {
      type: 'string',
      describe: 'The key of pseudonymised runs: a file of at least 32 bytes (else the variable ETL_PSEUDONYM_KEY)',
      requiresArg: true,
    })
    .option('fail-on-alert', {
      type: 'boolean',
      describe: 'Exit 3 when a dose is above its notification level (dose_audit), for cron mail and monitoring',
    })
    .middleware((argv) => {
      if (argv.logFormat === 'json') setLogFormat('json')
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

/** `--rows`: what one row stands for, shared by run and extract. */
export const ROWS_OPTION = {
  choices: ROWS_PER,
  describe:
    'One row per file (default), or per frame of multi-frame images (their functional groups flattened; -k frame numbers them)',
  requiresArg: true,
} as const

/**
 * `--where`: a filter on the rows, shared by run and extract. Repeated, yargs gives an array; not
 * an array option, so that the paths after it are not taken for more filters.
 */
export const WHERE_OPTION = {
  type: 'string',
  describe:
    "Keep only rows that pass this filter, e.g. 'Modality = CT and not ImageType contains LOCALIZER' " +
    '(see the README, "Filters (where)"); repeat: every one must hold',
  requiresArg: true,
} as const

/**
 * The filters of `--where` resolved against the columns and joined to `and` (a pipeline's),
 * or the usage problems, one per line, each at its 1-based column in the flag's text.
 */
export function whereFromArgs(
  given: string | readonly string[] | undefined,
  columns: readonly ColumnSpec[],
  and?: RowFilter,
): { where?: RowFilter; problems: string[] } {
  let where = and
  const problems: string[] = []
  const texts = given === undefined ? [] : typeof given === 'string' ? [given] : given
  for (const text of texts) {
    const resolved = resolveWhere(text, columns, { and: where })
    for (const p of resolved.problems) problems.push(`--where ${JSON.stringify(text)} at ${p.at + 1}: ${p.message}`)
    if (resolved.filter) where = resolved.filter
  }
  return { where, problems }
}

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

/** Why `--errors` cannot be `-`: stdout carries the CSV alone. */
export const ERRORS_NOT_STDOUT = "--errors names a file; '-' (stdout) is for the CSV"
