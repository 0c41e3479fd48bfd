/**
 * Messages on stderr: failures as they happen, warnings, notes and the summary; stdout carries
 * CSV only. Two formats: lines for people (`etl: ...`), or one JSON object per event for log
 * collectors (`--log-format json`): {"event": "start" | "failed" | "ignored" | "warning" |
 * "note" | "alert" | "summary" | "error", "time": ISO 8601, ...}.
 */
import type { Writable } from 'node:stream'
import type { Alert } from './metrics/metric.js'
import type { Skip } from './records.js'

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Only failures and fatal errors. */
  quiet?: boolean
  /** Also list ignored (non-DICOM) files and each value warning. */
  verbose?: boolean
  /** `text` for people (default), `json` for log collectors: one object per line. */
  logFormat?: 'text' | 'json'
}

/** Counts and time of a finished run: what the summary line on stderr says. */
export interface Summary {
  /** Files listed (after `ignore` and `--since`), or instances of a DICOMweb source. */
  listed: number
  /** What was listed, when not files: `instances` (a DICOMweb source). */
  listedWhat?: 'instances'
  /** Headers read, and rows of unchanged files taken from the state: one per DICOM file. */
  headers: number
  /** Rows written: one per header (per frame with `rows: per_frame`), or one per group with `group_by`. */
  rows: number
  /** With a filter (`where`): rows it left out (of the headers read; rows from the state were filtered when read). */
  filtered?: number
  /** Files that are not DICOM. */
  ignored: number
  failed: number
  warnings: number
  bytesRead: number
  elapsedMs: number
  /** Folders (or links) that exist but could not be listed: an unknown number of files unread. */
  unlisted?: number
  /** Files left out because they are older than --since. */
  older?: number
  /** Incremental runs: files not read because the state knows them unchanged. */
  unchanged?: number
  /** With `group_by`: the rows are groups, made from `headers`. */
  grouped?: boolean
  /** Doses above their notification level (`dose_audit`), each logged as it was found. */
  alerts?: number
}

export interface Logger {
  start(inputs: readonly string[], output: string): void
  skip(skip: Skip): void
  warning(path: string, message: string): void
  /** Something done on the user's behalf (a stale lock removed). */
  note(message: string): void
  /** A dose above its notification level: printed even with --quiet. */
  alert(alert: Alert): void
  summary(summary: Summary, exitCode: number): void
  /** A fatal error, with its code. */
  error(message: string, code?: string): void
}

/** The most value warnings printed for people before they are only counted (unless verbose). */
const WARNINGS_SHOWN = 20

/** A logger writing to `stream` (stderr). */
export function createLogger(stream: Writable, options: LoggerOptions = {}): Logger {
  return options.logFormat === 'json' ? jsonLogger(stream, options) : textLogger(stream, options)
}

function textLogger(stream: Writable, options: LoggerOptions): Logger {
  const line = (text: string) => stream.write(`etl: ${text}\n`)
  let warningsShown = 0
  return {
    start() {},
    skip(skip) {
      if (skip.outcome === 'failed') line(`failed: ${skip.path}: ${skip.reason} [${skip.code}]`)
      else if (options.verbose) line(`ignored: ${skip.path}: ${skip.reason}`)
    },
    warning(path, message) {
      if (options.quiet) return
      if (options.verbose || warningsShown < WARNINGS_SHOWN) line(`warning: ${path}: ${message}`)
      else if (warningsShown === WARNINGS_SHOWN) line('warning: more value warnings not shown (use --verbose)')
      warningsShown++
    },
    note(message) {
      if (!options.quiet) line(message)
    },
    alert(a) {
      const what = a.scope === 'series' ? `series ${a.series} of exam ${a.study}` : `exam ${a.study}`
      line(
        `alert: ${what}: ${a.quantity} ${a.value} ${a.unit} above the notification value ${a.level} (${a.reference})`,
      )
    },
    summary(s) {
      if (options.quiet) return
      const seconds = (s.elapsedMs / 1000).toFixed(2)
      const rate = s.elapsedMs > 0 ? Math.round((s.listed * 1000) / s.elapsedMs) : 0
      const unlisted = s.unlisted
        ? `, ${s.unlisted} ${s.unlisted === 1 ? 'folder' : 'folders'} could not be listed`
        : ''
      const warnings = `${s.warnings ? `, ${s.warnings} value warnings` : ''}${s.alerts ? `, ${s.alerts} alerts` : ''}`
      const notes = [
        ...(s.older ? [`${s.older} older than --since left out`] : []),
        ...(s.unchanged ? [`${s.unchanged} unchanged, not read`] : []),
      ]
      const older = notes.length ? ` (${notes.join(', ')})` : ''
      const from = s.grouped ? `${s.rows} rows written from ${s.headers} headers` : `${s.rows} rows written`
      const written = s.filtered === undefined ? from : `${from} (${s.filtered} filtered out by where)`
      // From DICOMweb, instances: none is ever `not DICOM`, so that count is left out.
      const what = s.listedWhat ?? 'files'
      const ignored = s.listedWhat ? '' : `${s.ignored} ignored (not DICOM), `
      line(
        `${s.listed} ${what} listed${older}, ${written}, ${ignored}` +
          `${s.failed} failed${unlisted}${warnings} in ${seconds} s (${rate} ${what}/s)`,
      )
    },
    error(message) {
      line(message)
    },
  }
}

function jsonLogger(stream: Writable, options: LoggerOptions): Logger {
  const event = (name: string, fields: object) =>
    stream.write(`${JSON.stringify({ event: name, time: new Date().toISOString(), ...fields })}\n`)
  return {
    start(inputs, output) {
      event('start', { inputs, output, pid: process.pid })
    },
    skip(skip) {
      if (skip.outcome === 'failed' || options.verbose) {
        event(skip.outcome, { path: skip.path, code: skip.code, reason: skip.reason })
      }
    },
    warning(path, message) {
      if (!options.quiet) event('warning', { path, message })
    },
    note(message) {
      event('note', { message })
    },
    alert(a) {
      event('alert', { ...a })
    },
    summary(s, exitCode) {
      event('summary', { ...s, elapsedMs: Math.round(s.elapsedMs), exitCode })
    },
    error(message, code) {
      event('error', { code, message })
    },
  }
}
