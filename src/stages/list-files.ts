/**
 * File lister: streams the paths of files under folders, named files and glob patterns,
 * one at a time, never holding the whole list.
 *
 * It uses fast-glob's stream with `unique` off. fast-glob is globby's engine; globby's own
 * `globbyStream` (v16) keeps a Set of every path it has yielded whatever `unique` says (memory
 * that grows with the archive) and costs four times as much per file (152 ms against 35 ms for
 * 20,000 files here).
 */
import type { Stats } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'

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
  /** Counts, updated as the stream goes. */
  info?: ListInfo
}

/** What the lister has done so far. */
export interface ListInfo {
  listed: number
  /** Files left out as older than `since`. */
  older?: number
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
  return Readable.from(walk(options, info), { objectMode: true, highWaterMark: 64 })
}

async function* walk(options: ListFilesOptions, info: ListInfo): AsyncGenerator<string> {
  const globOptions = {
    ignore: [...(options.ignore ?? [])],
    followSymbolicLinks: options.followSymlinks ?? false,
    dot: options.hidden ?? false,
    onlyFiles: true,
    unique: false,
    stats: options.since !== undefined,
  }
  const since = options.since?.getTime()
  const recent = (mtimeMs: number | undefined) => {
    if (since === undefined || mtimeMs === undefined || mtimeMs >= since) return true
    info.older = (info.older ?? 0) + 1
    return false
  }
  // fast-glob is loaded only for folders and patterns: a list of files never needs it.
  let glob: typeof import('fast-glob') | undefined
  for (const input of options.paths) {
    const { kind, mtimeMs } = await inputKind(input)
    if (kind === 'file') {
      if (!recent(mtimeMs)) continue
      info.listed++
      yield input
      continue
    }
    glob ??= (await import('fast-glob')).default
    const pattern = kind === 'folder' ? `${glob.convertPathToPattern(input.replace(/\/+$/, '') || '/')}/**` : input
    for await (const entry of glob.stream(pattern, globOptions)) {
      const found = entry as unknown as string | { path: string; stats?: Stats }
      if (typeof found !== 'string' && !recent(found.stats?.mtimeMs)) continue
      info.listed++
      yield typeof found === 'string' ? found : found.path
    }
  }
  info.done = true
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
