/**
 * One run at a time per output: a lock file beside it (`dose.csv.lock`), created exclusively,
 * holding the owner's pid, the process's start time, the host and the wall-clock start. A lock
 * whose process is gone (a run killed with SIGKILL, a crash, a reboot that reused its pid) is
 * stale: it is replaced, and the temporary files that run left are removed.
 */
import { linkSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'
import { isRunning, thisProcess, type ProcessId } from './process.js'

interface Owner extends ProcessId {
  host: string
  started: string
}

/** A held lock; `release` removes it. */
export interface Lock {
  path: string
  release(): void
  /** What was cleaned up when it was taken (a stale lock, temporary files). */
  notes: string[]
}

/**
 * Takes the lock of `target` (a resolved path: the lock of a symbolic link's target is the
 * target's), or throws E_LOCKED (exit 75) naming the run that holds it. Throws E_OUTPUT when
 * the lock cannot be created at all (a read-only folder).
 */
export function acquireLock(target: string): Lock {
  const path = `${target}.lock`
  const notes: string[] = []
  const me: Owner = { ...thisProcess(), host: hostname(), started: new Date().toISOString() }
  for (let attempt = 0; attempt < 4; attempt++) {
    if (createLock(path, me, target)) {
      removeStaleTemporaries(target, notes)
      return { path, notes, release: () => removeIfOurs(path, me) }
    }
    const seen = readLock(path)
    if (seen === undefined) continue // Released meanwhile: try again.
    const { owner } = seen
    if (owner && (owner.host !== me.host || isAlive(owner, seen.uid))) {
      throw new EtlError(
        'E_LOCKED',
        `another run (pid ${owner.pid} on ${owner.host}, started ${owner.started}) is writing ${target}; ` +
          `if it is not running any more, remove ${path}`,
        ExitCode.LOCKED,
      )
    }
    if (breakStaleLock(path, seen.text, me, target)) {
      notes.push(
        owner
          ? `removed the stale lock of pid ${owner.pid} (not running since ${owner.started})`
          : `removed an unreadable lock ${path}`,
      )
    }
  }
  throw new EtlError('E_LOCKED', `${path} keeps coming back: another run is starting at the same time`, ExitCode.LOCKED)
}

/**
 * Creates the lock file with our owner record, atomically: the record is written to a file of
 * our own, which is then hard-linked as the lock (a link, unlike a rename, fails when the lock
 * exists). So a lock is never seen empty or half-written, which another run would take for an
 * unreadable, stale one. False when a lock exists.
 */
function createLock(path: string, me: Owner, target: string): boolean {
  const mine = `${path}.${me.pid}.${Math.random().toString(36).slice(2, 8)}`
  try {
    writeFileSync(mine, `${JSON.stringify(me)}\n`, { flag: 'wx', mode: 0o644 })
    try {
      linkSync(mine, path)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e
      // A file system without hard links: created exclusively, then written (a short window).
      writeFileSync(path, `${JSON.stringify(me)}\n`, { flag: 'wx', mode: 0o644 })
    }
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new EtlError(
      'E_OUTPUT',
      `cannot write ${target}: ${describeSystemError(e)} (taking its lock)`,
      ExitCode.IO_ERR,
    )
  } finally {
    unlinkQuietly(mine)
  }
}

/**
 * A lock's owner is alive while its process runs (same pid, same start time) and, for a lock
 * file of another user, belongs to that user: a lock naming pid 1 that some other user wrote
 * is not a run of theirs.
 */
function isAlive(owner: Owner, fileUid: number): boolean {
  if (!isRunning(owner)) return false
  const processUid = statSync(`/proc/${owner.pid}`, { throwIfNoEntry: false })?.uid
  return processUid === undefined || fileUid === process.geteuid?.() || processUid === fileUid
}

/**
 * Removes a stale lock, unless another run replaced it meanwhile. Two runs that found the same
 * stale lock must not both remove it (the second would remove the first one's new lock): the
 * removal is done holding a second lock (`.lock.break`, taken as the lock is, with our owner
 * record), and only if the lock still holds the text found stale. A `.lock.break` whose run is
 * gone (killed right there) is removed the same way. Returns whether this run removed the lock.
 */
function breakStaleLock(path: string, staleText: string, me: Owner, target: string): boolean {
  const breaker = `${path}.break`
  if (!createLock(breaker, me, target)) {
    const seen = readLock(breaker)
    const owner = seen?.owner
    const gone = owner ? owner.host === me.host && !isAlive(owner, seen.uid) : seen !== undefined
    if (seen && gone && readLock(breaker)?.text === seen.text) unlinkQuietly(breaker)
    return false
  }
  try {
    if (readLock(path)?.text !== staleText) return false
    unlinkQuietly(path)
    return true
  } finally {
    removeIfOurs(breaker, me)
  }
}

/** Removes the lock if it is still ours (a lock broken by mistake and retaken by another run is theirs). */
function removeIfOurs(path: string, me: Owner): void {
  const owner = readLock(path)?.owner
  if (owner && owner.pid === me.pid && owner.start === me.start && owner.started === me.started) unlinkQuietly(path)
}

/** The lock file's text, owner record (undefined when unreadable) and file owner; undefined when there is none. */
function readLock(path: string): { text: string; owner: Owner | undefined; uid: number } | undefined {
  let text: string
  let uid: number
  try {
    text = readFileSync(path, 'utf8')
    uid = statSync(path).uid
  } catch {
    return undefined
  }
  return { text, owner: readOwner(text), uid }
}

function readOwner(text: string): Owner | undefined {
  try {
    const owner = JSON.parse(text) as Owner
    if (!Number.isInteger(owner.pid)) return undefined
    return { ...owner, start: Number.isInteger(owner.start) ? owner.start : undefined }
  } catch {
    return undefined
  }
}

/** The name of a temporary file beside `target` for this process: `.dose.csv.<pid>-<start>.<nonce>.tmp`. */
export function temporaryName(target: string): string {
  const { pid, start } = thisProcess()
  const nonce = Math.random().toString(36).slice(2, 8)
  return join(dirname(target), `.${basename(target)}.${pid}${start === undefined ? '' : `-${start}`}.${nonce}.tmp`)
}

/** Temporary outputs of `target` ({@link temporaryName}) whose process has gone. */
function removeStaleTemporaries(target: string, notes: string[]): void {
  const prefix = `.${basename(target)}.`
  let names: string[]
  try {
    names = readdirSync(dirname(target))
  } catch {
    return
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)(?:-(\d+))?\.[a-z0-9]+\.tmp$/.exec(name.slice(prefix.length)) : null
    if (m && !isRunning({ pid: Number(m[1]), start: m[2] === undefined ? undefined : Number(m[2]) })) {
      unlinkQuietly(join(dirname(target), name))
      notes.push(`removed ${name}, left by a run that was killed`)
    }
  }
}

/** Removes a file, if it is there. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Already gone.
  }
}
