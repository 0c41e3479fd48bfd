/**
 * File lister: streams the paths of files under folders, named files and glob patterns, one at a
 * time, never holding the whole list: memory grows with the depth and breadth of folders, not
 * with the number of files.
 *
 * Folders are walked here, with `opendir`, so that what a PACS export throws at a walk is
 * reported and passed over instead of ending the run: a folder that cannot be read (permission
 * denied), a broken symbolic link, a link that leads back into a folder already walked (a
 * loop), a folder that vanishes while listed. A folder is read synchronously, a few hundred
 * entries at a time, and its paths go downstream as one chunk: a directory read costs
 * microseconds, while an awaited one per entry cost more than the rest of the listing (98 ms
 * against 19 ms for 20,000 files here). Glob patterns go to fast-glob's stream (globby's
 * engine; globby's own `globbyStream` keeps a Set of every path it yields whatever `unique`
 * says, and costs four times as much per file: 152 ms against 35 ms for 20,000 files here).
 */
import { opendirSync, realpathSync, statSync, type Stats } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import picomatch from 'picomatch'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'
import type { Skip } from './read-headers.js'

/** Options of {@link listFiles}. */
export interface ListFilesOptions {
  /** Folders (searched recursively), files, or glob patterns. */
  paths: readonly string[]
  /** Glob patterns of files to leave out. Default none. */
  ignore?: readonly string[]
  /** Descend into symlinked folders and list symlinked files. Default false. */
  followSymlinks?: boolean
  /** List files and folders whose name starts with a dot. Default false. */
  hidden?: boolean
  /** Only files modified at or after this time; the others are counted in `info.older`. */
  since?: Date
  /** Told of every folder or link that could not be listed; the walk goes on. */
  onSkip?: (skip: Skip) => void
  /** Counts, updated as the stream goes. */
  info?: ListInfo
}

/** What the lister has done so far. */
export interface ListInfo {
  listed: number
  /** Files left out as older than `since`. */
  older?: number
  /** Folders and links that could not be listed. */
  failed?: number
  /** True once every input has been listed. */
  done: boolean
}

/**
 * Lists files as a readable object stream of path strings, as given (a relative input gives
 * relative paths). An input that neither exists nor is a glob pattern fails the stream with
 * E_NO_INPUT, before anything is listed from it.
 */
export function listFiles(options: ListFilesOptions): Readable {
  const info = options.info ?? { listed: 0, done: false }
  const chunks = walk(options, info)
  let pumping = false
  let wanted = false
  // Paths come from the walk in chunks and go downstream one by one; a chunk is pushed whole
  // (a few hundred paths at most), then the walk waits until the stream asks for more. A folder
  // walk resolves without waiting for anything, so each chunk is followed by a turn of the
  // event loop: reader threads' results, signals and timers are not starved.
  const pump = async () => {
    if (pumping) return
    pumping = true
    try {
      for (;;) {
        wanted = false
        const next = await chunks.next()
        if (next.done) {
          stream.push(null)
          return
        }
        let more = true
        for (const path of next.value) more = stream.push(path)
        await new Promise((resolve) => setImmediate(resolve))
        if (stream.destroyed || (!more && !wanted)) return
      }
    } catch (err) {
      stream.destroy(err as Error)
    } finally {
      pumping = false
    }
  }
  const stream = new Readable({
    objectMode: true,
    highWaterMark: 64,
    read: () => {
      wanted = true
      void pump()
    },
    destroy(error, callback) {
      void chunks.return(undefined)
      callback(error)
    },
  })
  return stream
}

/** Paths of a folder chunk at most (one opendir buffer's worth). */
const CHUNK = 256

async function* walk(options: ListFilesOptions, info: ListInfo): AsyncGenerator<string[]> {
  const since = options.since?.getTime()
  const recent = (mtimeMs: number | undefined) => {
    if (since === undefined || mtimeMs === undefined || mtimeMs >= since) return true
    info.older = (info.older ?? 0) + 1
    return false
  }
  const report = (path: string, reason: string) => {
    info.failed = (info.failed ?? 0) + 1
    options.onSkip?.({ path, outcome: 'failed', code: 'E_READ', reason })
  }
  const ignored =
    options.ignore && options.ignore.length > 0 ? picomatch([...options.ignore], { dot: true }) : undefined
  for (const input of options.paths) {
    const { kind, mtimeMs } = await inputKind(input)
    const chunks: AsyncIterable<Found[]> | Iterable<Found[]> =
      kind === 'file'
        ? [[{ path: input, mtimeMs }]]
        : kind === 'folder'
          ? walkFolder(input, options, report)
          : globPattern(input, options, report)
    for await (const found of chunks) {
      const paths: string[] = []
      for (const file of found) {
        if (ignored?.(file.path)) continue
        const mtime = file.mtimeMs ?? (since === undefined ? undefined : mtimeOf(file.path))
        if (!recent(mtime)) continue
        paths.push(file.path)
      }
      info.listed += paths.length
      if (paths.length > 0) yield paths
    }
  }
  info.done = true
}

interface Found {
  path: string
  mtimeMs?: number
}

function mtimeOf(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs
}

/** The files under a folder, depth first, in chunks; problems are reported and passed over. */
function* walkFolder(
  root: string,
  options: ListFilesOptions,
  report: (path: string, reason: string) => void,
): Generator<Found[]> {
  const hidden = options.hidden ?? false
  const follow = options.followSymlinks ?? false
  // Real paths of the folders walked: a link into one of them is a loop (only links can make one).
  const walked = new Set<string>()
  const folders = [root.length > 1 ? root.replace(/\/+$/, '') : root]
  if (follow) walked.add(realpathSync(folders[0]))
  while (folders.length > 0) {
    const folder = folders.pop() as string
    const prefix = folder.endsWith('/') ? folder : `${folder}/`
    const inside: string[] = []
    let chunk: Found[] = []
    try {
      const dir = opendirSync(folder, { bufferSize: CHUNK })
      try {
        for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) {
          if (!hidden && entry.name.startsWith('.')) continue
          const path = prefix + entry.name
          if (entry.isFile()) chunk.push({ path })
          else if (entry.isDirectory()) inside.push(path)
          else if (entry.isSymbolicLink() && follow) {
            const target = linkTarget(path, walked, report)
            if (target === 'file') chunk.push({ path })
            else if (target === 'folder') inside.push(path)
          }
          // FIFOs, sockets and devices are not files to read; unfollowed links are left out.
          if (chunk.length >= CHUNK) {
            yield chunk
            chunk = []
          }
        }
      } finally {
        dir.closeSync()
      }
    } catch (e) {
      report(folder, `cannot list folder: ${describeSystemError(e)}`)
    }
    if (chunk.length > 0) yield chunk
    for (let i = inside.length - 1; i >= 0; i--) folders.push(inside[i])
  }
}

/** What a symbolic link leads to, reporting broken links and loops. */
function linkTarget(
  path: string,
  walked: Set<string>,
  report: (path: string, reason: string) => void,
): 'file' | 'folder' | undefined {
  try {
    const s = statSync(path)
    if (s.isFile()) return 'file'
    if (!s.isDirectory()) return undefined
    const real = realpathSync(path)
    if (walked.has(real)) {
      report(path, `symbolic link loop: leads back to ${real}`)
      return undefined
    }
    walked.add(real)
    return 'folder'
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    report(
      path,
      code === 'ENOENT' ? 'broken symbolic link' : code === 'ELOOP' ? 'symbolic link loop' : describeSystemError(e),
    )
    return undefined
  }
}

/** The files a glob pattern matches (fast-glob), in chunks; an error ends the pattern, reported. */
async function* globPattern(
  pattern: string,
  options: ListFilesOptions,
  report: (path: string, reason: string) => void,
): AsyncGenerator<Found[]> {
  const glob = (await import('fast-glob')).default
  const stream = glob.stream(pattern, {
    followSymbolicLinks: options.followSymlinks ?? false,
    dot: options.hidden ?? false,
    onlyFiles: true,
    unique: false,
  })
  try {
    for await (const entry of stream) yield [{ path: String(entry) }]
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    report(err.path ?? pattern, `listing ${pattern} stopped: ${describeSystemError(err)}`)
  }
}

async function inputKind(input: string): Promise<{ kind: 'file' | 'folder' | 'pattern'; mtimeMs?: number }> {
  let s: Stats
  try {
    s = await stat(input)
  } catch (e) {
    const { isDynamicPattern } = (await import('fast-glob')).default
    if (isDynamicPattern(input)) return { kind: 'pattern' }
    throw new EtlError('E_NO_INPUT', `input ${input}: ${describeSystemError(e)}`, ExitCode.NO_INPUT)
  }
  if (s.isDirectory()) return { kind: 'folder' }
  // A FIFO or a device would block a read for ever: only regular files are read.
  if (!s.isFile()) throw new EtlError('E_NO_INPUT', `input ${input}: not a regular file or folder`, ExitCode.NO_INPUT)
  return { kind: 'file', mtimeMs: s.mtimeMs }
}
