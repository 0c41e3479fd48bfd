/**
 * The files a run writes (the CSV output, the errors CSV, the state of incremental runs), taken
 * as one transaction: resolved and checked before anything is read, locked, prepared in full as
 * temporary files, then committed together ({@link RunOutputs.commit}) or discarded together.
 */
import { statSync, type Stats } from 'node:fs'
import { resolve } from 'node:path'
import { EtlError, ExitCode } from '../errors.js'
import { AtomicFile, commitAll, resolveTarget, type Target } from './atomic-file.js'
import { acquireLock, type Lock } from './lock.js'

/** What a run writes: paths as given (`-` or absent: none). */
export interface OutputPaths {
  output?: string
  errors?: string
  state?: string
  /** The run's inputs (files, folders, patterns): an output may not be one of them. */
  inputs?: readonly string[]
}

/** The prepared outputs of a run. */
export interface RunOutputs {
  output?: AtomicFile
  errors?: AtomicFile
  state?: AtomicFile
  /** The resolved state file, to read the previous state from. */
  statePath?: string
  /** What taking the locks cleaned up (stale locks, temporary files of killed runs). */
  notes: string[]
  /** Renames every prepared file over its target: output, errors, then state (unless `state: false`). */
  commit(options?: { state?: boolean }): void
  /** Removes every temporary file; the previous files stay as they were. */
  discard(): Promise<void>
  /** Releases the locks. */
  release(): void
}

/**
 * Resolves, checks, locks and creates the outputs of a run. Throws E_USAGE (exit 64) when two
 * of them (or one and its sibling's lock, or one and an input file) are the same file, after
 * symbolic links and hard links; E_LOCKED (75) when another run holds a lock; E_OUTPUT (74)
 * when a file cannot be created. Nothing is written when it throws.
 */
export function prepareOutputs(paths: OutputPaths): RunOutputs {
  const targets: Target[] = []
  const output =
    paths.output && paths.output !== '-' ? resolveTarget(paths.output, 'output', { devices: true }) : undefined
  const errors = paths.errors ? resolveTarget(paths.errors, 'errors file', { devices: true }) : undefined
  const state = paths.state ? resolveTarget(paths.state, 'state file') : undefined
  for (const t of [output, errors, state]) if (t) targets.push(t)
  checkDistinct(targets, paths.inputs ?? [])

  const locks: Lock[] = []
  const release = () => {
    for (const lock of locks.splice(0)) lock.release()
  }
  const files: AtomicFile[] = []
  try {
    for (const t of targets) if (!t.inPlace) locks.push(acquireLock(t.path))
    const open = (t: Target | undefined) => {
      if (!t) return undefined
      const file = new AtomicFile(t)
      files.push(file)
      return file
    }
    const prepared = { output: open(output), errors: open(errors), state: open(state) }
    return {
      ...prepared,
      statePath: state?.path,
      notes: locks.flatMap((l) => l.notes),
      commit: (options) => {
        commitAll([prepared.output, prepared.errors, options?.state === false ? undefined : prepared.state])
        // A state left uncommitted: its temporary file goes.
        void prepared.state?.discard()
      },
      discard: async () => {
        await Promise.all(files.map((f) => f.discard()))
      },
      release,
    }
  } catch (err) {
    for (const f of files) void f.discard()
    release()
    throw err
  }
}

/** Two paths name the same file: the same resolved path, or the same device and inode. */
function checkDistinct(targets: readonly Target[], inputs: readonly string[]): void {
  const same = (a: Target, b: { path: string; existing?: Stats }) =>
    a.path === b.path ||
    (a.existing && b.existing && a.existing.dev === b.existing.dev && a.existing.ino === b.existing.ino)
  const clash = (message: string) => {
    throw new EtlError('E_USAGE', message, ExitCode.USAGE)
  }
  for (let i = 0; i < targets.length; i++) {
    const a = targets[i]
    for (let j = i + 1; j < targets.length; j++) {
      const b = targets[j]
      const devices = a.inPlace && b.inPlace && a.existing?.isCharacterDevice() && b.existing?.isCharacterDevice()
      if (same(a, b) && !devices) clash(`${a.label} ${a.given} and ${b.label} ${b.given} are the same file`)
    }
    for (const b of targets) {
      if (b !== a && !b.inPlace && a.path === `${b.path}.lock`) {
        clash(`${a.label} ${a.given} is the lock file of ${b.label} ${b.given}`)
      }
    }
    for (const input of inputs) {
      let st: Stats
      try {
        st = statSync(input)
      } catch {
        continue
      }
      if (st.isFile() && !a.inPlace && same(a, { path: resolve(input), existing: st })) {
        clash(`${a.label} ${a.given} is an input of this run`)
      }
    }
  }
}
