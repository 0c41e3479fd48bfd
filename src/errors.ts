/**
 * Errors and exit codes.
 *
 * Every error a user can cause carries a stable `code` so that scripts and tests can tell
 * them apart, and a message that says what, where and what was found. Exit codes follow
 * sysexits(3), as vector and many Unix tools do.
 */

/** Process exit codes, documented in the README and in `etl --help`. */
export const ExitCode = {
  /** Every listed file was read (non-DICOM files ignored and counted). */
  OK: 0,
  /**
   * With --fail-on-alert: every file was read, and a dose was above its notification level
   * (an alert, logged): for cron mail and monitoring checks.
   */
  ALERT: 3,
  /** Bad command line: unknown flag, missing argument. */
  USAGE: 64,
  /** Some DICOM files could not be read (truncated, corrupt): rows for the others were written. */
  DATA_ERR: 65,
  /**
   * An input path does not exist or cannot be read (E_NO_INPUT), or no file at all was found
   * under the inputs (E_NO_FILES: an empty folder, a pattern that matches nothing, an unmounted
   * share, everything left out by `--since` or `ignore`), unless `--allow-empty`.
   */
  NO_INPUT: 66,
  /** Internal error: a bug; please report it. */
  SOFTWARE: 70,
  /** The output (CSV or errors file) could not be written; an existing output is left intact. */
  IO_ERR: 74,
  /** Another run holds the lock of the same output: try again later. */
  LOCKED: 75,
  /** A DICOMweb server cannot be reached (connection refused, timeouts, 5xx after the retries). */
  UNAVAILABLE: 69,
  /** A DICOMweb server refused the credentials (401, 403). */
  NOPERM: 77,
  /** The pipeline file is invalid. */
  CONFIG: 78,
  /** Stopped by SIGHUP (its terminal closed): 128 + 1. */
  HANGUP: 129,
  /** Stopped by SIGINT (Ctrl-C), as shells report it: 128 + 2. */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM: 128 + 15. */
  TERMINATED: 143,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** The signals that stop a run cleanly (the previous output kept), each with its exit code. */
export const STOP_SIGNALS = {
  SIGHUP: ExitCode.HANGUP,
  SIGINT: ExitCode.INTERRUPTED,
  SIGTERM: ExitCode.TERMINATED,
} as const

/** The exit code of a run stopped by `signal`: 128 + its number (SIGINT's, 130, for any other). */
export function signalExitCode(signal: string): ExitCode {
  return STOP_SIGNALS[signal as keyof typeof STOP_SIGNALS] ?? ExitCode.INTERRUPTED
}

/** Error codes of per-file outcomes and of fatal errors. */
export type ErrorCode =
  | 'E_NOT_DICOM'
  | 'E_EMPTY'
  | 'E_TRUNCATED'
  | 'E_CORRUPT'
  | 'E_UNSUPPORTED'
  | 'E_READ'
  | 'E_FILE_LIMIT'
  | 'E_USAGE'
  | 'E_CONFIG'
  | 'E_NO_INPUT'
  | 'E_NO_FILES'
  | 'E_OUTPUT'
  | 'E_INTERRUPTED'
  | 'E_LOCKED'
  | 'E_STDOUT_CLOSED'
  | 'E_UNAVAILABLE'
  | 'E_NOPERM'
  | 'E_HTTP'
  | 'E_KEY'

/** An error with a stable code and the exit code it maps to. */
export class EtlError extends Error {
  readonly code: ErrorCode
  readonly exitCode: ExitCode
  /** Lines printed as they are after the message, e.g. `file:line:col problem` for each problem. */
  readonly details: readonly string[]

  constructor(
    code: ErrorCode,
    message: string,
    exitCode: ExitCode = ExitCode.SOFTWARE,
    details: readonly string[] = [],
  ) {
    super(message)
    this.name = 'EtlError'
    this.code = code
    this.exitCode = exitCode
    this.details = details
  }
}

/** Turns a Node system error into a short human reason ("permission denied"). */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or directory'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'is a directory'
    case 'ENOSPC':
      return 'no space left on device'
    case 'EDQUOT':
      return 'disk quota exceeded'
    case 'EFBIG':
      return 'file too large (over the file size limit)'
    case 'EIO':
      return 'input/output error'
    case 'EROFS':
      return 'read-only file system'
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files'
    default:
      return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err)
  }
}
