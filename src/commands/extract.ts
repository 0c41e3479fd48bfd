/** `etl extract <paths...> -k KEYWORD...`: the one-line form of a pipeline. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs'
import { checkColumnNames, parseColumn } from '../pipeline/columns.js'
import { suggestKeyword } from '../dicom/keywords.js'
import { type ColumnSpec, type PipelineSpec, type RowsPer, type SortKey } from '../pipeline/spec.js'
import { execute } from './execute.js'
import { fail, usage } from './fail.js'
import { dicomwebInput } from './parse-flags.js'
import {
  CONCURRENCY_OPTION,
  ERRORS_NOT_STDOUT,
  formatFromArgs,
  withFormatOptions,
  type FormatArgs,
  THREADS_OPTION,
  checkConcurrency,
  withCommonOptions,
  OUTPUT_FORMAT_OPTION,
  ROWS_OPTION,
  WHERE_OPTION,
  whereFromArgs,
  type CommonArgs,
} from './options.js'
import type { OutputFormat } from '../sinks/registry.js'

interface ExtractArgs extends CommonArgs, FormatArgs {
  paths: string[]
  keyword: string[]
  rows?: RowsPer
  where?: string | string[]
  sort: string[]
  output: string
  format?: OutputFormat
  errors?: string
  concurrency?: number
  threads?: number
  ignore: string[]
  hidden: boolean
  followSymlinks: boolean
  allowEmpty: boolean
}

/** Builds the pipeline that the flags describe, or throws a usage error. */
export function extractSpec(args: Omit<ExtractArgs, keyof CommonArgs>): PipelineSpec {
  const problems: string[] = []
  const columns: ColumnSpec[] = []
  for (const text of args.keyword) {
    const parsed = parseColumn(text)
    if (parsed.ok) columns.push(parsed.column)
    else problems.push(`-k ${text}: ${parsed.message}`)
  }
  problems.push(...checkColumnNames(columns))
  const names = columns.map((c) => c.name)
  const sort: SortKey[] = []
  for (const text of args.sort) {
    const m = /^(.*?)(?::(asc|desc))?$/.exec(text) as RegExpExecArray
    const column = m[1]
    if (!names.includes(column)) {
      const near = names.find((n) => n.toLowerCase() === column.toLowerCase()) ?? suggestKeyword(column)
      const hint = near && names.includes(near) ? ` (did you mean "${near}"?)` : ''
      problems.push(`--sort ${text}: "${column}" is not an extracted column${hint}`)
    }
    sort.push({ column, descending: m[2] === 'desc' })
  }
  const { where, problems: whereProblems } = whereFromArgs(args.where, columns)
  problems.push(...whereProblems)
  if (args.errors === '-') problems.push(ERRORS_NOT_STDOUT)
  const bad = checkConcurrency(args.concurrency, args.threads)
  if (bad) problems.push(bad)
  if (problems.length > 0) usage(problems.join('\netl: '))
  const url = dicomwebInput(args.paths)
  return {
    source: {
      ...(url !== undefined && { type: 'dicomweb', dicomweb: { url, query: {} } }),
      paths: url !== undefined ? [] : args.paths,
      ignore: args.ignore,
      concurrency: args.concurrency,
      threads: args.threads,
      followSymlinks: args.followSymlinks,
      hidden: args.hidden,
      allowEmpty: args.allowEmpty,
    },
    columns,
    ...(args.rows === 'per_frame' && { rows: args.rows }),
    ...(where && { where }),
    sort,
    output: { path: args.output, errors: args.errors, ...(args.format && { format: args.format }) },
    format: formatFromArgs(args),
  }
}

export const extractCommand: CommandModule<object, ExtractArgs> = {
  command: 'extract <paths..>',
  describe: 'Extract attributes from the DICOM files under PATHS as CSV',
  builder: (y: Argv) =>
    withCommonOptions(
      withFormatOptions(y)
        .positional('paths', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'Folders (searched recursively), files, or quoted glob patterns; or a DICOMweb base URL',
        })
        .option('keyword', {
          alias: 'k',
          type: 'string',
          array: true,
          demandOption: 'name at least one column with -k',
          describe:
            'Column: a DICOM keyword (CTDIvol), a tag (0018,9345), or path, size_bytes, mtime; repeat in column order',
          requiresArg: true,
        })
        .option('rows', ROWS_OPTION)
        .option('where', WHERE_OPTION)
        .option('sort', {
          alias: 's',
          type: 'string',
          array: true,
          default: [] as string[],
          describe: 'Sort by this column (append :desc to reverse); repeat for more keys',
          requiresArg: true,
        })
        .option('output', {
          alias: 'o',
          type: 'string',
          default: '-',
          describe: 'File to write (.csv, .jsonl or .parquet); - for stdout',
          requiresArg: true,
        })
        .option('format', OUTPUT_FORMAT_OPTION)
        .option('errors', {
          type: 'string',
          describe: 'Also write ignored and failed files with reasons to this CSV',
          requiresArg: true,
        })
        .option('concurrency', CONCURRENCY_OPTION)
        .option('threads', THREADS_OPTION)
        .option('ignore', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe: 'Glob pattern of files to leave out (repeatable)',
        })
        .option('hidden', {
          type: 'boolean',
          default: false,
          describe: 'Include files and folders whose name starts with a dot',
        })
        .option('follow-symlinks', { type: 'boolean', default: false, describe: 'Follow symbolic links' })
        .option('allow-empty', {
          type: 'boolean',
          default: false,
          describe: 'Succeed with a header-only CSV when no file is found (default: exit 66, E_NO_FILES)',
        })
        .example(
          '$0 extract /data/CT -k SliceLocation -k CTDIvol --sort SliceLocation',
          'per-slice dose data, sorted, to stdout',
        )
        .example(
          '$0 extract enhanced-ct.dcm --rows per_frame -k frame -k ImagePositionPatient -k CTDIvol',
          'a row per frame of a multi-frame image',
        )
        .example(
          "$0 extract '/pacs/**/*.dcm' -k PatientID -k StudyDate -k Modality -o studies.csv",
          'a glob, to a file',
        )
        .example(
          "$0 extract /pacs -k SeriesInstanceUID -k CTDIvol --where 'Modality = CT and CTDIvol > 50'",
          'only CT slices above 50 mGy (Modality read for the filter, not written)',
        )
        .example('$0 extract http://127.0.0.1:8042/dicom-web -k PatientID -k CTDIvol', 'from a PACS over DICOMweb'),
    ) as unknown as Argv<ExtractArgs>,
  handler: async (argv: ArgumentsCamelCase<ExtractArgs>) => {
    let spec: PipelineSpec
    try {
      spec = extractSpec(argv)
    } catch (err) {
      return fail(err)
    }
    await execute(spec, argv)
  },
}
