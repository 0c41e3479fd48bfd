/**
 * The stages of incremental runs, over the state file (`io/state-file.ts`): `skipUnchanged`
 * between the lister and the reader, `recordState` after the reader. The reader knows nothing of
 * them: it gives records (rows with the facts that identify their file) when asked.
 */
import { statSync } from 'node:fs'
import { Transform, type Writable } from 'node:stream'
import { displayPath, toFsPath } from '../io/fs-path.js'
import { STATE_VERSION, recordKey, type RunState } from '../io/state-file.js'
import type { SourceRecord } from '../records.js'
import { stringifyJson } from '../values.js'

/**
 * Between the lister and the reader: a path whose size, mtime and inode are those the state
 * knows is not read; its record from the state goes on in the path's place instead (the reader
 * passes what is not a path through, in order), so that the output is in the order a full
 * run's is. Other paths go on to be read.
 */
export function skipUnchanged(state: RunState, pathColumns: readonly number[] = []): Transform {
  const previous = state.previous
  const bad = () => state.unusable++
  return new Transform({
    objectMode: true,
    highWaterMark: 64,
    transform(path: string, _encoding, callback) {
      const known = previous?.lookup(recordKey(state, path), state.width, bad)
      if (!known) return callback(null, path)
      // Synchronous: a stat of a listed file takes microseconds, an awaited one a turn of the loop.
      const s = statSync(toFsPath(path), { throwIfNoEntry: false })
      // Within a millisecond: the state keeps the reader's fstat Date, rounded to whole ms. The
      // inode tells another file at the same path apart (a path through a link, say).
      const entry = known.entry
      if (s && s.size === entry.size && Math.abs(s.mtimeMs - entry.mtimeMs) < 1 && s.ino === entry.ino) {
        state.unchanged++
        state.unchangedRows += entry.rows.length
        // The path as this run lists it (another run may have named the file otherwise).
        const shown = state.privacy ? state.privacy.path(displayPath(path)) : displayPath(path)
        for (const row of entry.rows) for (const i of pathColumns) row[i] = shown
        const record: SourceRecord = { path, ...entry }
        state.known.set(record, known.line)
        return callback(null, record)
      }
      callback(null, path)
    },
    flush(callback) {
      previous?.close()
      callback()
    },
  })
}

/**
 * After the reader (which gives records): writes each file's record to the new state file (the
 * line of an unchanged file as it was) and passes its rows on. Ends the state file when the
 * records end; a write that fails fails the stage.
 */
export function recordState(state: RunState, signature: string, file: Writable): Transform {
  let chunk = `${JSON.stringify({ etl_state: STATE_VERSION, signature })}\n`
  const parts: Buffer[] = []
  let size = 0
  const take = () => {
    if (chunk) parts.push(Buffer.from(chunk))
    chunk = ''
    const out = parts.length === 1 ? parts[0] : Buffer.concat(parts)
    parts.length = 0
    size = 0
    return out
  }
  const send = (data: Buffer, callback: (error?: Error | null) => void) => {
    if (file.write(data)) return callback()
    file.once('drain', () => callback())
  }
  const stage = new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(record: SourceRecord, _encoding, callback) {
      const known = state.known.get(record)
      if (known) {
        if (chunk) {
          parts.push(Buffer.from(chunk))
          chunk = ''
        }
        parts.push(known, NEWLINE)
        size += known.length + 1
      } else {
        // Typed values write themselves as `{"$xx": ...}` objects that parseJson revives.
        const r = record
        chunk += `${stringifyJson([recordKey(state, r.path), r.size, r.mtimeMs, r.sop, r.rows, r.ino])}\n`
      }
      for (const row of record.rows) this.push(row)
      if (size + chunk.length < 65536) return callback()
      send(take(), callback)
    },
    flush(callback) {
      const last = take()
      const end = () => {
        file.once('finish', () => callback())
        file.end()
      }
      if (last.length === 0) return end()
      send(last, (err) => (err ? callback(err) : end()))
    },
  })
  // The state file is not a stage of the pipeline: its failure (a full disk) fails this stage.
  file.once('error', (err) => stage.destroy(err))
  return stage
}

const NEWLINE = Buffer.from('\n')
