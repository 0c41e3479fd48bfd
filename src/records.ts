/**
 * The records that pass between stages, below every stage: a stage imports these, never another
 * stage's module (so no two modules import each other).
 */
import { EtlError, type ErrorCode } from './errors.js'
import type { FileHeader } from './dicom/read-header.js'
import type { PathStep } from './dicom/paths.js'
import type { ContentSpec } from './dicom/sr-content.js'
import type { Row } from './values.js'

/** A file whose header was read. */
export interface HeaderRecord {
  path: string
  header: FileHeader
}

/** Where a column's value comes from. */
export type ColumnSource =
  /** A data element of the data set, or of the file meta information when its group is 0002. */
  /** With `content` (an `sr:` column), the path's last step selects SR content items and `content` says what to take of them. */
  | { kind: 'element'; tag: number; keyword?: string; path?: PathStep[]; content?: ContentSpec }
  /** A property of the file rather than of its header. */
  | { kind: 'pseudo'; name: PseudoColumn }

/** Lower-case names, so they never clash with DICOM keywords (which start upper-case). */
export const PSEUDO_COLUMNS = ['path', 'size_bytes', 'mtime', 'frame'] as const
export type PseudoColumn = (typeof PSEUDO_COLUMNS)[number]

/** An extracted column. */
export interface ColumnSpec {
  /** The CSV header of the column. */
  name: string
  source: ColumnSource
  /** Steps that rewrite its text values, in order, before rows are sorted or grouped (`normalise`). */
  normalise?: NormaliseStep[]
}

/**
 * How `normalise:` rewrites a text value, so that protocol names written differently group
 * together ("Thorax 3.0 B30f", "THORAX 3.0  B30F"): `lower`/`upper` case, `trim` (ends, and
 * runs of spaces inside made one), `no_digits` and `no_punctuation` (removed, spaces kept).
 */
export const NORMALISE_STEPS = ['lower', 'upper', 'trim', 'no_digits', 'no_punctuation'] as const
export type NormaliseStep = (typeof NORMALISE_STEPS)[number]

/**
 * What `privacy:` does to a column (see `transforms/privacy.ts`): `pseudonym` a keyed token,
 * `uid` a keyed `2.25.` UID, `shift_date` dates moved by a per-patient number of days,
 * `year_only` the year of a date, `age_band` an age as a 5-year band (89 and over as one),
 * `remove` an empty cell, `keep` the value as it is.
 */
export const PRIVACY_ACTIONS = ['pseudonym', 'uid', 'shift_date', 'year_only', 'age_band', 'remove', 'keep'] as const
export type PrivacyAction = (typeof PRIVACY_ACTIONS)[number]

/** A row: one typed value per column (see `values.ts`). */
export type { Row } from './values.js'

/**
 * What the source gives for one file (or instance) when asked for records rather than rows:
 * its rows (one, or one per frame) and the facts that identify what was read, which the state
 * of incremental runs records.
 */
export interface SourceRecord {
  path: string
  rows: Row[]
  /** Size, mtime (ms) and inode of the file as read; 0 where unknown. */
  size: number
  mtimeMs: number
  ino: number
  /** SOP Instance UID, '' when absent. */
  sop: string
}

/** A file that gave no row: `ignored` (not DICOM) or `failed` (DICOM that cannot be read). */
export interface Skip {
  path: string
  outcome: 'ignored' | 'failed'
  code: ErrorCode
  reason: string
}

/** Classifies an error of one file. Anything not an EtlError is a failure with its message. */
export function toSkip(path: string, err: unknown): Skip {
  if (err instanceof EtlError) {
    const outcome = err.code === 'E_NOT_DICOM' ? 'ignored' : 'failed'
    return { path, outcome, code: err.code, reason: err.message }
  }
  return { path, outcome: 'failed', code: 'E_CORRUPT', reason: (err as Error)?.message ?? String(err) }
}
