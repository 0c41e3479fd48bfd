/** `etl validate <pipeline.yaml>`: checks a pipeline and reports every problem at once. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs'
import { fail } from './common.js'
import { loadOrExplain } from './run.js'

interface ValidateArgs {
  pipeline: string
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
      const sorted = spec.sort.length ? `, sorted by ${spec.sort.map((k) => k.column).join(', ')}` : ''
      const output = spec.output.path === '-' ? 'stdout' : spec.output.path
      process.stderr.write(`${argv.pipeline}: ok: ${spec.columns.length} columns${sorted}, to ${output}\n`)
    } catch (err) {
      fail(err)
    }
  },
}
