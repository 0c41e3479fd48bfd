#!/usr/bin/env node
/** The `etl` command line: a thin yargs shell over the library; one module per command. */
import { createRequire } from 'node:module'
import yargs from 'yargs'
import { hideBin } from 'yargs/helpers'
import { EtlError, ExitCode } from './errors.js'
import { fail } from './commands/common.js'
import { extractCommand } from './commands/extract.js'
import { runCommand } from './commands/run.js'
import { validateCommand } from './commands/validate.js'

const { version } = createRequire(import.meta.url)('../package.json') as {
  version: string
}

const EPILOGUE = `Exit codes:
  0   every file read (non-DICOM files are ignored and counted)
  64  bad command line
  65  some DICOM files could not be read (rows for the others were written)
  66  an input path does not exist
  70  internal error (a bug)
  74  the output could not be written (an existing output file is left intact)
  78  the pipeline file is invalid

CSV goes to stdout (or the output file); failures, warnings and the summary go to stderr.
Docs: README.md`

try {
  await yargs(hideBin(process.argv))
    .scriptName('etl')
    .usage('$0 <command> [options]\n\nDICOM header attributes to CSV, streaming.')
    .command([runCommand, extractCommand, validateCommand] as never)
    .demandCommand(1, 'name a command: run, extract or validate')
    .strict()
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .version(version)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .epilogue(EPILOGUE)
    .fail((message, err) => {
      // Throwing stops yargs before any command handler runs.
      throw new EtlError('E_USAGE', message ?? err?.message ?? 'bad command line', ExitCode.USAGE)
    })
    .parseAsync()
} catch (err) {
  fail(err)
}
