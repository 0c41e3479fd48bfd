import { availableParallelism } from 'node:os'
import type { FormatOptions } from '../dicom/format-value.js'
import type { PathStep } from '../dicom/paths.js'

/**
 * The resolved form of a pipeline, whether it came from a YAML file (`etl run`) or from flags
 * (`etl extract`). Stages are built from this and nothing else.
 */

/** Where a column's value comes from. */
export type ColumnSource =
  /** A data element of the data set, or of the file meta information when its group is 0002. */
  | { kind: 'element'; tag: number; keyword?: string; path?: PathStep[] }
  /** A property of the file rather than of its header. */
  | { kind: 'pseudo'; name: PseudoColumn }

/** Lower-case names, so they never clash with DICOM keywords (which start upper-case). */
export const PSEUDO_COLUMNS = ['path', 'size_bytes', 'mtime'] as const
export type PseudoColumn = (typeof PSEUDO_COLUMNS)[number]

export interface ColumnSpec {
  /** The CSV header of the column. */
  name: string
  source: ColumnSource
}

export interface SortKey {
  /** A column name (as in the CSV header). */
  column: string
  descending: boolean
}

export interface SourceSpec {
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
}

export interface OutputSpec {
  /** CSV file, or '-' for stdout. */
  path: string
  /** CSV of ignored and failed files with their reasons, if wanted. */
  errors?: string
}

export interface PipelineSpec {
  /** How cells are written; absent: as DICOM stores values. */
  format?: FormatOptions
  source: SourceSpec
  columns: ColumnSpec[]
  sort: SortKey[]
  output: OutputSpec
}

/** Reader threads when none are asked for: every CPU but the one the main thread needs. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1)
}
