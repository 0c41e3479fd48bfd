/** `etl run <pipeline.yaml>`: runs a declared pipeline; a few flags override it for cron jobs. */
import { resolve } from 'node:path'
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs'
import { EtlError, ExitCode } from '../errors.js'
import type { PipelineSpec, RowsPer } from '../pipeline/spec.js'
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
import { formatOfPath, type OutputFormat } from '../sinks/registry.js'

interface RunArgs extends CommonArgs, FormatArgs {
  pipeline: string
  input?: string[]
  output?: string
  format?: OutputFormat
  rows?: RowsPer
  where?: string | string[]
  errors?: string
  concurrency?: number
  threads?: number
  allowEmpty?: boolean
}

/**
 * Loads and checks a pipeline file; every problem is printed as file:line:col and the whole
 * load fails with E_CONFIG (exit 78).
 */
export async function loadOrExplain(file: string): Promise<PipelineSpec> {
  const { formatProblem, loadPipeline } = await import('../pipeline/load.js')
  const result = await loadPipeline(file)
  if (result.problems.length > 0 || !result.spec) {
    const lines = result.problems.map((p) => formatProblem(file, p))
    const count = result.problems.length
    throw new EtlError('E_CONFIG', `${file}: ${count} problem${count === 1 ? '' : 's'}`, ExitCode.CONFIG, lines)
  }
  return result.spec
}

/** The pipeline with the command line's overrides applied (flags are relative to the cwd). */
export function applyOverrides(spec: PipelineSpec, args: Omit<RunArgs, keyof CommonArgs | 'pipeline'>): PipelineSpec {
  const bad = checkConcurrency(args.concurrency, args.threads)
  if (bad) usage(bad)
  // As output.errors in a pipeline file: a file literally named `-` is never what was meant.
  if (args.errors === '-') usage(ERRORS_NOT_STDOUT)
  // --where narrows the pipeline's filter: a row must pass both.
  const { where, problems } = whereFromArgs(args.where, spec.columns, spec.where)
  if (problems.length > 0) usage(problems.join('\netl: '))
  const { rows: _rows, where: _where, ...rest } = spec
  const rows = args.rows ?? spec.rows
  const url = dicomwebInput(args.input ?? [])
  const web = spec.source.dicomweb
  const inputSource = url
    ? { type: 'dicomweb', paths: [], dicomweb: { ...(web ?? { query: {} }), url } }
    : args.input && args.input.length > 0
      ? { type: undefined, dicomweb: undefined, paths: args.input.map((p) => resolve(p)) }
      : {}
  return {
    ...rest,
    // Absent is per file, as the pipeline loader leaves it.
    ...(rows === 'per_frame' && { rows }),
    ...(where && { where }),
    source: {
      ...spec.source,
      ...inputSource,
      concurrency: args.concurrency ?? spec.source.concurrency,
      threads: args.threads ?? spec.source.threads,
      allowEmpty: args.allowEmpty ?? spec.source.allowEmpty,
    },
    format: { ...spec.format, ...formatFromArgs(args) },
    output: {
      path: args.output === undefined ? spec.output.path : args.output === '-' ? '-' : resolve(args.output),
      errors: args.errors === undefined ? spec.output.errors : resolve(args.errors),
      // --format, else the ending of -o's file, else the pipeline's.
      format: args.format ?? (args.output === undefined ? undefined : formatOfPath(args.output)) ?? spec.output.format,
    },
  }
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <pipeline>',
  describe: 'Run the pipeline declared in a YAML file',
  builder: (y: Argv) =>
    withCommonOptions(
      withFormatOptions(y)
        .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' })
        .option('input', {
          alias: 'i',
          type: 'string',
          array: true,
          describe: "Read these folders, files or globs instead of the pipeline's source paths (repeatable)",
          requiresArg: true,
        })
        .option('output', {
          alias: 'o',
          type: 'string',
          describe: "File instead of the pipeline's (.csv, .jsonl or .parquet); - for stdout",
          requiresArg: true,
        })
        .option('format', OUTPUT_FORMAT_OPTION)
        .option('rows', ROWS_OPTION)
        .option('where', WHERE_OPTION)
        .option('errors', {
          type: 'string',
          describe: 'Write ignored and failed files with reasons to this CSV',
          requiresArg: true,
        })
        .option('concurrency', CONCURRENCY_OPTION)
        .option('threads', THREADS_OPTION)
        .option('allow-empty', {
          type: 'boolean',
          describe: 'Succeed with a header-only CSV when no file is found (default: exit 66, E_NO_FILES)',
        })
        .example('$0 run pipelines/dose.yaml', 'run the dose pipeline as declared')
        .example('$0 run pipelines/dose.yaml -i /pacs/export/2026-11-24 -o - | head', 'another folder, CSV to stdout')
        .example(
          "$0 run pipelines/dose.yaml --where 'StudyDate >= 20260101'",
          "this year's studies only (and the pipeline's own where:, if it has one)",
        ),
    ) as unknown as Argv<RunArgs>,
  handler: async (argv: ArgumentsCamelCase<RunArgs>) => {
    let spec: PipelineSpec
    try {
      spec = applyOverrides(await loadOrExplain(argv.pipeline), argv)
    } catch (err) {
      return fail(err)
    }
    await execute(spec, argv)
  },
}
