/**
 * Incremental runs: a state file remembers, for every file read, its size, mtime,
 * SOPInstanceUID and the row it gave. A run with a state reads only files that are new or
 * changed (by size or mtime); the rows of the others come from the state, each in its file's
 * place, so the output is the one a full run would write. A file seen again under another
 * path with the same SOPInstanceUID is a duplicate and counts once. Files no longer listed drop
 * out. The state is written beside the output, atomically, only when the run succeeds.
 *
 * Format: JSON lines. The first line names the columns and cell format the rows were made with
 * (a state made for other columns is not used); each next line is
 * `[path, size, mtimeMs, sopInstanceUID, row]`.
 */
import { readFileSync, statSync } from 'node:fs'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { toFsPath } from './io/fs-path.js'
import type { ColumnSpec } from './pipeline/spec.js'
import type { FormatOptions } from './dicom/format-value.js'
import { AtomicFileWriter } from './stages/write-csv.js'
import type { Row } from './stages/project-keywords.js'
import type { FileFacts } from './stages/read-batch.js'

/** What the state knows of one file: the reader's facts about it, and its row. */
export interface StateEntry extends FileFacts {
  row: Row
}

/** The state of a run: what the last run left, and what this one records. */
export interface RunState {
  /** Entries of the last run, by path (emptied as files are met again). */
  previous: Map<string, StateEntry>
  /** Entries of this run, in the order met. */
  next: Map<string, StateEntry>
  /** Counts for the summary. */
  unchanged: number
  duplicates: number
}

/** The signature of the rows a state holds: a state for other columns or formats is ignored. */
export function stateSignature(columns: readonly ColumnSpec[], format: FormatOptions | undefined): string {
  return JSON.stringify({ columns: columns.map((c) => [c.name, c.source]), format: format ?? {} })
}

/** Reads a state file; an absent, unreadable or foreign one (other columns) gives an empty state. */
export function loadState(path: string, signature: string, full: boolean): RunState {
  const state: RunState = { previous: new Map(), next: new Map(), unchanged: 0, duplicates: 0 }
  if (full) return state
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return state
  }
  const lines = text.split('\n')
  try {
    if ((JSON.parse(lines[0]) as { signature?: string }).signature !== signature) return state
    for (const line of lines.slice(1)) {
      if (!line) continue
      const [file, size, mtimeMs, sop, row] = JSON.parse(line) as [string, number, number, string, Row]
      state.previous.set(file, { size, mtimeMs, sop, row })
    }
  } catch {
    state.previous.clear()
  }
  return state
}

/** Writes the new state atomically (temp, fsync, rename). */
export async function saveState(path: string, signature: string, state: RunState): Promise<void> {
  // In chunks of about 64 KiB: one write per line would cost a system call per file.
  function* chunks() {
    let chunk = `${JSON.stringify({ etl_state: 1, signature })}\n`
    for (const [file, e] of state.next) {
      chunk += `${JSON.stringify([file, e.size, e.mtimeMs, e.sop, e.row])}\n`
      if (chunk.length >= 65536) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk) yield chunk
  }
  await pipeline(Readable.from(chunks(), { objectMode: false }), new AtomicFileWriter(path))
}

/**
 * Between the lister and the reader: a path whose size and mtime are those the state knows is
 * not read; its row from the state goes on in the path's place instead (the reader passes rows
 * through in order), so that the output is in the order a full run's is. Other paths go on to
 * be read.
 */
export function skipUnchanged(state: RunState, knownRows: KnownRows): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: 64,
    transform(path: string, _encoding, callback) {
      const known = state.previous.get(path)
      if (!known) return callback(null, path)
      // Synchronous: a stat of a listed file takes microseconds, an awaited one a turn of the loop.
      const s = statSync(toFsPath(path), { throwIfNoEntry: false })
      // Within a millisecond: the state keeps the reader's fstat Date, rounded to whole ms.
      if (s && s.size === known.size && Math.abs(s.mtimeMs - known.mtimeMs) < 1) {
        state.unchanged++
        state.next.set(path, known)
        knownRows.set(known.row, known)
        return callback(null, known.row)
      }
      callback(null, path)
    },
  })
}

/** A new row and what the state records of its file, handed from the reader to {@link recordRows}. */
export type NewRows = WeakMap<Row, { path: string; entry: StateEntry }>

/** The rows of unchanged files, as {@link skipUnchanged} passed them on, with their entries. */
export type KnownRows = WeakMap<Row, StateEntry>

/**
 * After the reader: records each new row in the state, and drops the rows of SOP instances
 * already met (duplicates: the first one listed stays), whether read or known from the state.
 */
export function recordRows(state: RunState, newRows: NewRows, knownRows: KnownRows): Transform {
  const seen = new Set<string>()
  const keep = (sop: string) => {
    if (sop === '') return true
    if (seen.has(sop)) {
      state.duplicates++
      return false
    }
    seen.add(sop)
    return true
  }
  return new Transform({
    objectMode: true,
    transform(row: Row, _encoding, callback) {
      const found = newRows.get(row)
      if (found) state.next.set(found.path, found.entry)
      const sop = found?.entry.sop ?? knownRows.get(row)?.sop ?? ''
      callback(null, keep(sop) ? row : undefined)
    },
  })
}
