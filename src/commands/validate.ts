/** `etl validate <pipeline.yaml>`: checks a pipeline and reports every problem at once. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs'
import { metricsOf } from '../metrics/registry.js'
import type { PipelineSpec } from '../pipeline/spec.js'
import { fail } from './fail.js'
import { loadOrExplain } from './run.js'

interface ValidateArgs {
  pipeline: string
}

/** What a valid pipeline will do, in one line: `13 columns, one row per SeriesInstanceUID with dose, to stdout`. */
export function describePipeline(spec: PipelineSpec): string {
  const parts = [`${spec.columns.length} columns`]
  if (spec.where) {
    const hidden = spec.where.hidden.length
    parts.push(`rows where ${spec.where.text}${hidden > 0 ? ` (${hidden} more read for it)` : ''}`)
  }
  const metrics = metricsOf(spec).map(({ metric }) => metric)
  if (spec.group) {
    const added = metrics.length > 0 ? ` with ${metrics.map((m) => m.key).join(' and ')}` : ''
    parts.push(`one row per ${spec.group.by.join(', ')}${added}`)
  } else if (metrics.length > 0) parts.push(metrics.map((m) => m.summary).join(', '))
  if (spec.sort.length) parts.push(`sorted by ${spec.sort.map((k) => k.column).join(', ')}`)
  parts.push(`to ${spec.output.path === '-' ? 'stdout' : spec.output.path}`)
  return parts.join(', ')
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <pipeline>',
  describe: 'Check a pipeline YAML file without running it',
  builder: (y: Argv) =>
    y
      .strict()
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' })
      .example(
        '$0 validate pipelines/dose.yaml',
        'prints problems as file:line:col message',
      ) as unknown as Argv<ValidateArgs>,
  handler: async (argv: ArgumentsCamelCase<ValidateArgs>) => {
    try {
      const spec = await loadOrExplain(argv.pipeline)
      process.stderr.write(`${argv.pipeline}: ok: ${describePipeline(spec)}\n`)
    } catch (err) {
      fail(err)
    }
  },
}
