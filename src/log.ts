/**
 * Messages for people, on stderr: failures as they happen, warnings, and the summary. stdout
 * carries CSV only.
 */
import type { Writable } from 'node:stream'
import type { Skip } from './stages/read-headers.js'

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Only failures and fatal errors. */
  quiet?: boolean
  /** Also list ignored (non-DICOM) files and each value warning. */
  verbose?: boolean
}

/** Counts and time of a finished run. */
export interface Summary {
  listed: number
  rows: number
  ignored: number
  failed: number
  warnings: number
  bytesRead: number
  elapsedMs: number
}

export interface Logger {
  skip(skip: Skip): void
  warning(path: string, message: string): void
  summary(summary: Summary): void
  error(message: string): void
}

/** A logger writing lines prefixed with `etl:` to `stream`. */
export function createLogger(stream: Writable, options: LoggerOptions = {}): Logger {
  const line = (text: string) => stream.write(`etl: ${text}\n`)
  let warningsShown = 0
  return {
    skip(skip) {
      if (skip.outcome === 'failed') line(`failed: ${skip.path}: ${skip.reason} [${skip.code}]`)
      else if (options.verbose) line(`ignored: ${skip.path}: ${skip.reason}`)
    },
    warning(path, message) {
      if (options.quiet) return
      if (options.verbose || warningsShown < 20) line(`warning: ${path}: ${message}`)
      else if (warningsShown === 20) line('warning: more value warnings not shown (use --verbose)')
      warningsShown++
    },
    summary(s) {
      if (options.quiet) return
      const seconds = (s.elapsedMs / 1000).toFixed(2)
      const rate = s.elapsedMs > 0 ? Math.round((s.listed * 1000) / s.elapsedMs) : 0
      const warnings = s.warnings ? `, ${s.warnings} value warnings` : ''
      line(
        `${s.listed} files listed, ${s.rows} rows written, ${s.ignored} ignored (not DICOM), ` +
          `${s.failed} failed${warnings} in ${seconds} s (${rate} files/s)`,
      )
    },
    error(message) {
      line(message)
    },
  }
}
