/**
 * `etl privacy-report <pipeline.yaml>`: what each column of a pipeline becomes in a pseudonymised
 * run, as CSV on stdout, for the data protection officer. Reads no DICOM and needs no key.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs'
import { writeStdout } from '../io/stdout.js'
import type { PipelineSpec } from '../pipeline/spec.js'
import { columnPrivacy, describeAction } from '../transforms/privacy.js'
import { withPrivacy } from './execute.js'
import { fail } from './fail.js'
import { loadOrExplain } from './run.js'

interface PrivacyReportArgs {
  pipeline: string
  pseudonymise?: boolean
}

/**
 * One CSV line per column: `column,attribute,profile,action,becomes`: the PS3.15 Table E.1-1
 * basic profile code (empty when the profile does not name it), the action, and in words what
 * the output holds. A pipeline without `privacy:` (and without --pseudonymise) keeps everything.
 */
export function privacyReport(spec: PipelineSpec): string {
  const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)
  const lines = ['column,attribute,profile,action,becomes']
  for (const column of spec.columns) {
    const privacy = columnPrivacy(column)
    const action = spec.privacy?.columns[column.name] ?? 'keep'
    const becomes = describeAction(action, privacy, spec.privacy?.shiftDays ?? 0)
    lines.push([column.name, privacy.attribute, privacy.profiled?.basic ?? '', action, becomes].map(quote).join(','))
  }
  return `${lines.join('\n')}\n`
}

export const privacyReportCommand: CommandModule<object, PrivacyReportArgs> = {
  command: 'privacy-report <pipeline>',
  describe: 'List what each column of a pipeline becomes when pseudonymised (CSV), without running it',
  builder: (y: Argv) =>
    y
      .strict()
      .positional('pipeline', { type: 'string', demandOption: true, describe: 'Pipeline YAML file' })
      .option('pseudonymise', {
        type: 'boolean',
        describe: "As with run --pseudonymise: the profile's suggested actions when the pipeline has no privacy:",
      })
      .example('$0 privacy-report pipelines/research.yaml', 'column, attribute, profile code, action, what it becomes')
      .example(
        '$0 privacy-report pipelines/dose.yaml --pseudonymise',
        'what --pseudonymise would do',
      ) as unknown as Argv<PrivacyReportArgs>,
  handler: async (argv: ArgumentsCamelCase<PrivacyReportArgs>) => {
    try {
      const spec = withPrivacy(await loadOrExplain(argv.pipeline), argv.pseudonymise ?? false)
      await writeStdout(privacyReport(spec))
    } catch (err) {
      fail(err)
    }
  },
}
