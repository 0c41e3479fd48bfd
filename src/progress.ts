/**
 * The progress line: files done of those listed so far, files/s, failures, and an ETA once the
 * listing has finished; from DICOMweb, instances, and series read of those listed, of so many
 * studies. Redrawn in place on stderr at most every `intervalMs` by a timer that
 * does not keep the process alive, so it costs nothing measurable; for terminals only (or when
 * forced), since a log file would fill with carriage returns.
 */
import type { Writable } from 'node:stream'
import type { ListInfo } from './sources/list-files.js'
import type { ReadInfo } from './sources/read-headers.js'

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  stream: Writable
  list: ListInfo
  read: ReadInfo
  /** Milliseconds between redraws. Default 250. */
  intervalMs?: number
}

/** The text of the progress line at `elapsedMs`. */
export function progressText(list: ListInfo, read: ReadInfo, elapsedMs: number): string {
  const done = read.read + read.ignored + read.failed
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
  const listing = list.done ? '' : ' (still listing)'
  const noun = list.web ? 'instances' : 'files'
  const web = list.web
    ? `, ${list.web.seriesRead.toLocaleString('en')} of ${list.web.series.toLocaleString('en')} series of ${list.web.studies.toLocaleString('en')} studies`
    : ''
  let text = `etl: ${done.toLocaleString('en')} of ${list.listed.toLocaleString('en')} ${noun}${web}${listing}, ${Math.round(rate).toLocaleString('en')} ${noun}/s`
  if (read.failed > 0) text += `, ${read.failed} failed`
  if (list.done && rate > 0) text += `, ETA ${clock((list.listed - done) / rate)}`
  return text
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** Starts redrawing; the returned function stops and erases the line. */
export function startProgress(options: ProgressOptions): () => void {
  const started = performance.now()
  let drawn = false
  const draw = () => {
    options.stream.write(`\r${progressText(options.list, options.read, performance.now() - started)}\x1b[K`)
    drawn = true
  }
  draw()
  const timer = setInterval(draw, options.intervalMs ?? 250)
  timer.unref()
  return () => {
    clearInterval(timer)
    if (drawn) options.stream.write('\r\x1b[K')
  }
}
