import type { PathStep } from '../dicom/paths.js'
import { availableParallelism } from 'node:os'
import type { AggregateOp } from '../metrics/aggregate.js'
import type { FormatOptions } from '../dicom/format-value.js'
import type { MetricSpecs } from '../metrics/registry.js'
import type { OutputFormat } from '../sinks/registry.js'
import type { ColumnSpec, PrivacyAction } from '../records.js'
import type { RowFilter } from './where.js'

/**
 * The resolved form of a pipeline, whether it came from a YAML file (`etl run`) or from flags
 * (`etl extract`). Stages are built from this and nothing else.
 */

/** The extracted columns: declared below the stages, in `records.ts`, as the stages read them too. */
export {
  PRIVACY_ACTIONS,
  PSEUDO_COLUMNS,
  type PrivacyAction,
  type ColumnSource,
  type ColumnSpec,
  type PseudoColumn,
} from '../records.js'

export interface SortKey {
  /** A column name (as in the CSV header). */
  column: string
  descending: boolean
}

export interface SourceSpec {
  /** The kind of source, one of `sources/registry.ts` (which imports this module); default files. */
  type?: string
  /** Folders, files or glob patterns (absolute, or relative to the process's cwd). */
  paths: string[]
  /** Glob patterns of files to leave out. */
  ignore: string[]
  /** Files read at once at most; undefined: one per reader thread (synchronous reads). */
  concurrency?: number
  /** Reader worker threads; undefined: the number of CPUs less one (at least 1). */
  threads?: number
  followSymlinks: boolean
  /** Include files and folders whose name starts with a dot. */
  hidden: boolean
  /** Only files modified at or after this time (`--since`). */
  since?: Date
  /** Listing no file at all is a success (header-only CSV), not E_NO_FILES (exit 66). */
  allowEmpty: boolean
  /** With `type: dicomweb`: the server and how to ask it. */
  dicomweb?: DicomwebSpec
}

/** A DICOMweb source: the server, the QIDO-RS query, credentials and transport settings. */
export interface DicomwebSpec {
  /** The DICOMweb base URL (QIDO-RS and WADO-RS). */
  url: string
  /** QIDO-RS matching keys (study level, and series level for Modality and the like). */
  query: Record<string, string | undefined>
  auth?: DicomwebAuth
  caFile?: string
  connectTimeoutMs?: number
  readTimeoutMs?: number
  retries?: number
  /** The first retry's backoff in ms (tests shorten it). */
  backoffMs?: number
  requestsPerSecond?: number
  /** QIDO-RS results asked per page. */
  pageSize?: number
}

/** Credentials, by where the secret is: never the secret itself. */
export interface DicomwebAuth {
  type: 'none' | 'basic' | 'bearer'
  username?: string
  passwordEnv?: string
  passwordFile?: string
  tokenEnv?: string
  tokenFile?: string
}

export interface OutputSpec {
  /** The output file, or '-' for stdout. */
  path: string
  /** The output format (a sink of `sinks/registry.ts`); absent: the one the path's ending names, else CSV. */
  format?: OutputFormat
  /** CSV of ignored and failed files with their reasons, if wanted. */
  errors?: string
}

/** An aggregate column of a grouped pipeline. */
export interface AggregateSpec {
  /** The extracted column it folds. */
  column: string
  op: AggregateOp
  /** Its CSV header. */
  name: string
}

/** One row per group of rows with equal cells in `by`. */
export interface GroupSpec {
  /** Extracted column names; the rows are sorted by them first. */
  by: string[]
  aggregates: AggregateSpec[]
}

/** With the blocks of the metrics it asks for (`dose`: see `metrics/registry.ts`). */
export interface PipelineSpec extends MetricSpecs {
  /** State file of incremental runs: only new or changed files are read. */
  state?: string
  /** How cells are written; absent: as DICOM stores values. */
  format?: FormatOptions
  source: SourceSpec
  columns: ColumnSpec[]
  /** One row per file (default), or per frame of multi-frame images (`rows: per_frame`). */
  rows?: RowsPer
  /**
   * One row per content item an `sr:` path reaches (`rows: {per_item: sr:113819}`): columns
   * whose path goes through it take their values from the row's item; the others are the file's.
   */
  perItem?: ItemPath
  /** Rows kept: those the filter passes (`where:`, `--where`), decided where they are made. */
  where?: RowFilter
  /** Sort keys as asked for; grouping and metrics first sort by what they need. */
  sort: SortKey[]
  /** The sorter's memory budget in MiB; default {@link DEFAULT_SORT_MEMORY_MB}. */
  sortMemoryMb?: number
  /** Columns on which repeated rows are left out, the first of each kept (`distinct`). */
  distinct?: string[]
  /** One row per group instead of one per file. */
  group?: GroupSpec
  /** Pseudonymised output (`privacy:`, `--pseudonymise`): each column's action; the key is never here. */
  privacy?: PrivacySpec
  output: OutputSpec
}

/** What becomes of each column in a pseudonymised run. */
export interface PrivacySpec {
  /** Column name -> action; a column not named is kept (load checks that no profiled one is left out). */
  columns: Record<string, PrivacyAction>
  /** Dates move by a per-patient number of days, from -shiftDays to shiftDays, never 0. */
  shiftDays: number
}

/** The window of date shifts when none is given, in days. */
export const DEFAULT_SHIFT_DAYS = 180

/** The items of `rows: per_item`: the path as written, and its steps. */
export interface ItemPath {
  text: string
  steps: PathStep[]
}

/** What one row stands for. */
export const ROWS_PER = ['per_file', 'per_frame'] as const
export type RowsPer = (typeof ROWS_PER)[number]

/** The sorter's memory budget when none is given, in MiB. */
export const DEFAULT_SORT_MEMORY_MB = 64

/** Reader threads when none are asked for: every CPU but the one the main thread needs. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1)
}
