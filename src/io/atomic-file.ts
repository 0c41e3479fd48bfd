/**
 * Files that appear whole or not at all. An {@link AtomicFile} writes to a temporary file beside
 * its target (same folder, so same file system), created with the mode and owner of the file it
 * will replace (a 0600 CSV of patient data stays 0600), or with the process umask when new. Its
 * stream fsyncs at its end but renames nothing: the caller commits every file of a run together,
 * once all of them are written ({@link commitAll}), or discards them, leaving every previous
 * file as it was.
 *
 * A target is resolved first ({@link resolveTarget}): a symbolic link is followed and the file
 * is written beside the link's final target and renamed over it, so the link stays a link. A
 * target that exists and is not a regular file is refused, except a character device or FIFO
 * (`/dev/null`, a named pipe) for CSV outputs, which is written in place: renaming over it would
 * replace the device with a file.
 */
import {
  close,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsync,
  lstatSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  write,
  type Stats,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'
import { readHeaderSync } from '../dicom/read-header.js'
import { planRead } from '../dicom/read-plan.js'
import { temporaryName, unlinkQuietly } from './lock.js'

/** How long a FIFO output is waited for a reader. */
const FIFO_WAIT_MS = 5000

/** A file a run writes, resolved before anything is read. */
export interface Target {
  /** What it is, for messages: `output`, `errors file`, `state file`. */
  label: string
  /** The path as the user gave it, for messages. */
  given: string
  /** The path written: absolute, symbolic links resolved (a new file: its folder resolved). */
  path: string
  /** A device or FIFO written in place (no temporary file, no lock). */
  inPlace: boolean
  /** The file it replaces, when there is one. */
  existing?: Stats
}

/** What a target may be besides a regular file. */
export interface TargetRules {
  /** Accept a character device or FIFO, written in place (CSV outputs). Default false. */
  devices?: boolean
}

/**
 * Resolves where `given` will be written, or throws: E_USAGE (exit 64) for a target that must
 * not be written (a folder, a block device, a socket, a device where only a file will do, a
 * DICOM file, another user's link or file in a shared folder), E_OUTPUT (exit 74) for one that
 * cannot be (its folder does not exist, a broken link).
 */
export function resolveTarget(given: string, label: string, rules: TargetRules = {}): Target {
  const absolute = resolve(given)
  const refuse = (what: string): never => {
    throw new EtlError('E_USAGE', `${label} ${given} ${what}: refusing to write it`, ExitCode.USAGE)
  }
  let path: string
  let existing: Stats | undefined
  try {
    const link = lstatSync(absolute)
    if (link.isSymbolicLink() && plantedInSharedFolder(absolute, link)) {
      refuse("is another user's symbolic link in a shared folder (sticky, writable by all)")
    }
    path = link.isSymbolicLink() ? realpathSync(absolute) : absolute
    existing = link.isSymbolicLink() ? statSync(path) : link
  } catch (e) {
    if (e instanceof EtlError) throw e
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw cannotWrite(label, given, e)
    if (lstatSync(absolute, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new EtlError('E_OUTPUT', `cannot write ${label} ${given}: a broken symbolic link`, ExitCode.IO_ERR)
    }
    try {
      path = join(realpathSync(dirname(absolute)), basename(absolute))
    } catch (err) {
      throw cannotWrite(label, given, err)
    }
    return { label, given, path, inPlace: false }
  }
  if (existing.isDirectory()) refuse('is a folder')
  if (!existing.isFile()) {
    if (rules.devices && (existing.isCharacterDevice() || existing.isFIFO())) {
      return { label, given, path, inPlace: true, existing }
    }
    refuse('is not a regular file')
  }
  if (plantedInSharedFolder(path, existing))
    refuse("is another user's file in a shared folder (sticky, writable by all)")
  if (isDicom(path)) refuse('is a DICOM file')
  return { label, given, path, inPlace: false, existing }
}

/**
 * A link or file that another user may have planted for us: in a sticky folder that everyone
 * may write (`/tmp`), owned neither by this process's user nor by the folder's owner. Following
 * such a link, or replacing such a file with one that keeps its owner and mode, would write
 * patient data where that user chose (the rule of Linux's protected_symlinks and
 * protected_regular).
 */
function plantedInSharedFolder(path: string, st: Stats): boolean {
  const folder = statSync(dirname(path), { throwIfNoEntry: false })
  if (!folder || (folder.mode & 0o1002) !== 0o1002) return false
  const me = process.geteuid?.()
  return st.uid !== me && st.uid !== folder.uid
}

/** A file that the reader takes for DICOM (Part 10, or a raw data set): never a file of ours to replace. */
function isDicom(path: string): boolean {
  try {
    readHeaderSync(path, planRead([]))
    return true
  } catch (e) {
    const code = (e as EtlError).code
    return code !== 'E_NOT_DICOM' && code !== 'E_EMPTY' && code !== 'E_READ'
  }
}

/** E_OUTPUT, exit 74: `cannot write <label> <path>: <reason>`. */
export function cannotWrite(label: string, given: string, err: unknown): EtlError {
  return new EtlError('E_OUTPUT', `cannot write ${label} ${given}: ${describeSystemError(err)}`, ExitCode.IO_ERR)
}

/**
 * The stream of one target. Created at once (so a folder that cannot be written fails the run
 * before anything is read); its end fsyncs and closes the temporary file; {@link commit}
 * renames it over the target.
 */
export class AtomicFile extends Writable {
  readonly target: Target
  /** The temporary file (the target itself when written in place). */
  readonly tempPath: string
  private fd: number | undefined
  private finished = false
  private committed = false

  constructor(target: Target) {
    super({ highWaterMark: 64 * 1024 })
    this.target = target
    this.tempPath = target.inPlace ? target.path : temporaryName(target.path)
    if (!target.inPlace) this.fd = createLike(this.tempPath, target)
  }

  /**
   * A device or FIFO is opened without blocking: a FIFO that no process reads would block a
   * plain open for ever, deaf to signals. A reader may be about to start (`etl -o p & cat p`):
   * the open is tried again for a few seconds, the event loop free meanwhile.
   */
  override _construct(callback: (error?: Error | null) => void): void {
    if (!this.target.inPlace) return callback()
    const until = Date.now() + FIFO_WAIT_MS
    const attempt = () => {
      try {
        this.fd = openSync(this.target.path, constants.O_WRONLY | constants.O_NONBLOCK)
        callback()
      } catch (e) {
        const noReader = (e as NodeJS.ErrnoException).code === 'ENXIO'
        if (noReader && !this.destroyed && Date.now() < until) {
          setTimeout(attempt, 50)
          return
        }
        callback(
          noReader
            ? new EtlError(
                'E_OUTPUT',
                `cannot write ${this.target.label} ${this.target.given}: a FIFO that no process reads`,
                ExitCode.IO_ERR,
              )
            : this.failure(e as Error),
        )
      }
    }
    attempt()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll(chunk, 0, callback)
  }

  private writeAll(chunk: Buffer, offset: number, callback: (error?: Error | null) => void): void {
    write(this.fd as number, chunk, offset, chunk.length - offset, null, (err, written) => {
      // A FIFO or terminal opened non-blocking is full for now: try again shortly.
      if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') {
        setTimeout(() => this.writeAll(chunk, offset, callback), 5)
        return
      }
      if (err) return callback(this.failure(err))
      if (offset + written < chunk.length) this.writeAll(chunk, offset + written, callback)
      else callback()
    })
  }

  override _final(callback: (error?: Error | null) => void): void {
    const fd = this.fd as number
    const done = (err?: Error | null) => {
      this.fd = undefined
      close(fd, (closeError) => {
        const error = err ?? closeError
        if (!error) this.finished = true
        callback(error && this.failure(error))
      })
    }
    if (this.target.inPlace) return done()
    fsync(fd, (syncError) => done(syncError))
  }

  /** A system error as E_OUTPUT naming this file: `cannot write state file s.jsonl: no space left on device`. */
  private failure(err: Error): EtlError {
    return cannotWrite(this.target.label, this.target.given, err)
  }

  /** Renames the finished temporary file over the target. Throws E_OUTPUT naming the target. */
  commit(): void {
    if (!this.finished) throw new Error(`${this.target.label} committed before its stream finished`)
    if (this.committed || this.target.inPlace) return
    try {
      renameSync(this.tempPath, this.target.path)
    } catch (e) {
      throw cannotWrite(this.target.label, this.target.given, e)
    }
    this.committed = true
  }

  /** Destroys the stream (if not already) and resolves once its temporary file is removed. */
  async discard(): Promise<void> {
    if (!this.closed) {
      const closed = new Promise<void>((resolve) => this.once('close', () => resolve()))
      this.destroy()
      await closed
    }
    if (!this.committed && !this.target.inPlace) unlinkQuietly(this.tempPath)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd
    this.fd = undefined
    if (fd !== undefined) closeQuietly(fd)
    if (!this.committed && !this.target.inPlace && !this.finished) unlinkQuietly(this.tempPath)
    callback(error)
  }
}

/**
 * Creates a temporary file like the file it replaces: its owner and group where the process
 * may set them (root), else its group (a member may), and its mode, set on the descriptor before
 * any byte is written. A group that cannot be kept loses its permission bits, so the data never
 * becomes readable by a group that could not read it before. A new file gets 0666 less the umask.
 */
function createLike(path: string, target: Target): number {
  const old = target.existing
  let fd: number
  try {
    fd = openSync(path, 'wx', old ? old.mode & 0o600 : 0o666)
  } catch (e) {
    throw cannotWrite(target.label, target.given, e)
  }
  if (old) {
    let mode = old.mode & 0o7777
    if (!setOwner(fd, old.uid, old.gid) && !setOwner(fd, -1, old.gid)) mode &= ~0o070
    try {
      fchmodSync(fd, mode & ~0o6000)
    } catch (e) {
      closeQuietly(fd)
      unlinkQuietly(path)
      throw cannotWrite(target.label, target.given, e)
    }
  }
  return fd
}

/** fchown, told whether it took (unprivileged, a file keeps its user, and a group only of the user's own). */
function setOwner(fd: number, uid: number, gid: number): boolean {
  try {
    fchownSync(fd, uid, gid)
    return true
  } catch {
    return false
  }
}

/**
 * Commits the files of a run together: every stream has finished (fsynced) before the first
 * rename, so a failure while writing any of them leaves all the previous files as they were.
 * Renames go in the order given; the caller puts the state last, so that a crash between two
 * renames can only make the next incremental run read more, never less.
 */
export function commitAll(files: readonly (AtomicFile | undefined)[]): void {
  for (const file of files) file?.commit()
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // Already closed or failing: nothing more to do with it.
  }
}
