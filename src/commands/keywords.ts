/**
 * `etl keywords [TEXT]`: searches the data dictionary by keyword, name or tag, the look-up users
 * otherwise do in an online DICOM browser, and prints keyword, tag, VR, VM and name.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs'
import { writeStdout } from '../io/stdout.js'
import { fail } from './fail.js'
import { keywordsReport } from './keywords-report.js'

interface KeywordsArgs {
  text?: string[]
  csv: boolean
}

export const keywordsCommand: CommandModule<object, KeywordsArgs> = {
  command: 'keywords [text..]',
  describe: 'Find attributes in the DICOM dictionary by keyword, name or tag',
  builder: (y: Argv) =>
    y
      .strict()
      .positional('text', {
        type: 'string',
        array: true,
        describe: 'A keyword or part of one (ctdi), words of the name (slice location), or a tag (0018,9345)',
      })
      .option('csv', { type: 'boolean', default: false, describe: 'Print CSV (keyword,tag,vr,vm,name,retired)' })
      .example('$0 keywords ctdi', 'every keyword containing "ctdi", CTDIvol first')
      .example('$0 keywords slice location', 'words of the name')
      .example('$0 keywords 0018,9345', 'the attribute of a tag')
      .example('$0 keywords --csv > dictionary.csv', 'the whole dictionary, as CSV')
      .epilogue(
        'Exit codes:\n  0   matches printed on stdout\n  1   no match\n  64  bad command line',
      ) as unknown as Argv<KeywordsArgs>,
  handler: async (argv: ArgumentsCamelCase<KeywordsArgs>) => {
    try {
      const text = argv.text?.length ? argv.text.join(' ') : undefined
      const report = keywordsReport(text, { csv: argv.csv })
      if (report.stdout) await writeStdout(report.stdout)
      if (report.stderr) process.stderr.write(report.stderr)
      process.exitCode = report.exitCode
    } catch (err) {
      fail(err)
    }
  },
}
