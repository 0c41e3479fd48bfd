/**
 * The files source: folders, files and glob patterns listed (`list-files.ts`), then each
 * file's header read and projected in reader threads (`read-headers.ts`). It yields rows,
 * or, for an incremental run, records (rows with the facts that identify their file), with the
 * state's skip stage between the listing and the reading.
 */
import type { Readable, Transform } from 'node:stream'
import type { Fields } from '../pipeline/fields.js'
import { defaultThreads } from '../pipeline/spec.js'
import { listFiles } from './list-files.js'
import { readRows } from './read-headers.js'
import type { SourceContext } from './source.js'

const string = { kind: 'string' } as const
const boolean = { kind: 'boolean' } as const

/** The YAML fields of `source:` for files (besides `type`). */
export const filesFields = {
  paths: {
    doc: 'Folders, files or glob patterns, relative to the pipeline file. A single string is accepted too. Required with `type: files`.',
    example: 'paths: [../samples]',
    type: { kind: 'list', noun: 'a path or a list of paths', single: true, nonEmpty: true, items: string },
  },
  ignore: {
    default: [],
    doc: 'Glob patterns of files to leave out.',
    example: "ignore: ['**/*.txt']",
    type: { kind: 'list', noun: 'a list of glob patterns', items: string },
  },
  concurrency: {
    doc:
      'Files read at once at most. By default one per reader thread, read synchronously: the fastest on local ' +
      'disks and warm caches. On network or cold storage raise it (e.g. 64): many reads in flight hide latency. ' +
      'With `type: dicomweb`: series read at once, and requests in flight, at most (default 4).',
    example: 'concurrency: 64',
    type: { kind: 'integer', min: 1, max: 1024 },
  },
  threads: {
    doc:
      'Worker threads that read headers and make rows, beside the main thread (which reads too), once ' +
      'a job has more than 256 files. By default the number of CPUs less one (at least 1); 0 reads in ' +
      'the main thread only.',
    example: 'threads: 3',
    type: { kind: 'integer', min: 0, max: 64 },
  },
  follow_symlinks: {
    default: false,
    doc: 'Follow symbolic links to files and folders.',
    example: 'follow_symlinks: true',
    type: boolean,
  },
  hidden: {
    default: false,
    doc: 'Include files and folders whose name starts with a dot.',
    example: 'hidden: true',
    type: boolean,
  },
  allow_empty: {
    default: false,
    doc:
      'Succeed when no file is found (an empty folder, a pattern that matches nothing, an unmounted ' +
      'share, everything left out by `ignore` or `--since`), writing a CSV of the header alone. By ' +
      'default that fails with E_NO_FILES (exit 66) and leaves the previous output, errors file and ' +
      'state as they were.',
    example: 'allow_empty: true',
    type: boolean,
  },
} as const satisfies Fields

/** The stages of the files source: lister, [skip of unchanged files], reader. */
export function filesSource(context: SourceContext): (Readable | Transform)[] {
  const { spec, info } = context
  const threads = spec.source.threads ?? defaultThreads()
  return [
    listFiles({
      ...spec.source,
      info: info.list,
      onSkip: context.onSkip,
      onEmpty: context.onNote,
      onNote: context.onNote,
    }),
    ...(context.skipKnown ? [context.skipKnown()] : []),
    readRows({
      columns: spec.columns,
      format: spec.format,
      concurrency: spec.source.concurrency ?? Math.max(1, threads),
      threads,
      onSkip: context.onSkip,
      info: info.read,
      records: context.records,
      perFrame: spec.rows === 'per_frame',
      perItem: spec.perItem?.steps,
      onWarning: context.onWarning,
      where: spec.where,
    }),
  ]
}
