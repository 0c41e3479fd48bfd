/**
 * One run at a time per output: a lock file beside it (`dose.csv.lock`), created exclusively,
 * holding the owner's pid, the process's start time, the host and the wall-clock start. A lock
 * whose process is gone (a run killed with SIGKILL, a crash, a reboot that reused its pid) is
 * stale: it is replaced, and the temporary files that run left are removed.
 */
import { closeSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
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
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644)
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`)
      } finally {
        closeSync(fd)
      }
      removeStaleTemporaries(target, notes)
      return { path, notes, release: () => unlinkQuietly(path) }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        unlinkQuietly(path)
        throw new EtlError(
          'E_OUTPUT',
          `cannot write ${target}: ${describeSystemError(e)} (taking its lock)`,
          ExitCode.IO_ERR,
        )
      }
    }
    const owner = readOwner(path)
    if (owner && (owner.host !== me.host || isRunning(owner))) {
      throw new EtlError(
        'E_LOCKED',
        `another run (pid ${owner.pid} on ${owner.host}, started ${owner.started}) is writing ${target}; ` +
          `if it is not running any more, remove ${path}`,
        ExitCode.LOCKED,
      )
    }
    notes.push(
      owner
        ? `removed the stale lock of pid ${owner.pid} (not running since ${owner.started})`
        : `removed an unreadable lock ${path}`,
    )
    unlinkQuietly(path)
  }
  throw new EtlError('E_LOCKED', `${path} keeps coming back: another run is starting at the same time`, ExitCode.LOCKED)
}

function readOwner(path: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Owner
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

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Already gone.
  }
}
