#!/usr/bin/env node
/** The `etl` command line: a thin yargs shell over the library; one module per command. */
import { readFileSync } from 'node:fs'
import { tuneHeapForStreaming } from './heap.js'
import { guardStderr } from './io/stderr.js'

tuneHeapForStreaming()
// Messages on stderr are best effort: a closed or full stderr must not end a run half-way.
guardStderr()
// A file size limit (`ulimit -f`, set by some cron and batch environments) kills a process that
// writes past it with SIGXFSZ, leaving temporary files and locks behind. Handled, the write fails
// with EFBIG instead, and the run ends as on a full disk: one line, exit 74, old outputs intact.
process.on('SIGXFSZ', () => {})

const EPILOGUE = `Exit codes:
  0   every file read (non-DICOM files are ignored and counted)
  3   with --fail-on-alert: every file read, and a dose above its notification level (dose_audit)
  64  bad command line (also: two outputs naming one file, an output over an input or a DICOM file)
  65  some DICOM files could not be read (rows for the others were written; see --max-failures),
      or a folder could not be listed (whatever --max-failures allows)
  66  an input path does not exist (E_NO_INPUT), or no file was found (E_NO_FILES; see --allow-empty)
  69  a DICOMweb server cannot be reached (E_UNAVAILABLE)
  70  internal error (a bug)
  74  an output, errors or state file could not be written (all of them are left as they were),
      or no file descriptor was left at all (E_FILE_LIMIT: raise ulimit -n)
  75  another run holds the lock of the same output or state file
  77  a DICOMweb server refused the credentials (E_NOPERM)
  78  the pipeline file is invalid, or a pseudonymised run has no key of 32 bytes or more (E_KEY)
  129 hung up (SIGHUP), 130 interrupted (SIGINT), 143 terminated (SIGTERM): the previous
      output is left as it was

Rows go to stdout (or the output file: CSV, JSON Lines or Parquet); failures, warnings, alerts and
the summary go to stderr.
Docs: README.md`

/** The part of yargs's internals that {@link main} touches (not in its public types). */
interface YargsInternals {
  getInternalMethods?: () => { getUsageInstance: () => { cacheHelpMessage?: () => void } }
}

async function main(): Promise<void> {
  // `run` and `extract` read with worker threads: start them now, so that they load while this
  // thread loads yargs and the pipeline (a stage adopts them; unadopted ones let the process exit).
  if ((args[0] === 'run' || args[0] === 'extract') && !args.some((a) => a === '--help' || a === '-h')) {
    const [{ prestartReaders }, { defaultThreads }] = await Promise.all([
      import('./sources/reader-threads.js'),
      import('./pipeline/spec.js'),
    ])
    try {
      prestartReaders(defaultThreads())
    } catch {
      // No thread now (a process limit, say): the reader stage starts its own, or says why not.
    }
  }
  const [
    { default: yargs },
    { EtlError, ExitCode },
    { fail },
    { extractCommand },
    { inspectCommand },
    { keywordsCommand },
    { runCommand },
    { validateCommand },
    { privacyReportCommand },
    { writeStdout },
  ] = await Promise.all([
    import('yargs'),
    import('./errors.js'),
    import('./commands/fail.js'),
    import('./commands/extract.js'),
    import('./commands/inspect.js'),
    import('./commands/keywords.js'),
    import('./commands/run.js'),
    import('./commands/validate.js'),
    import('./commands/privacy-report.js'),
    import('./io/stdout.js'),
  ])
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  const cli = yargs(args)
  // yargs renders the whole help text after every command it runs, in case the command fails
  // later (~40 ms, most of it measuring string widths). Our commands report their own errors and
  // never ask yargs for that text, so the rendering is skipped; `--help` renders it as usual.
  const internals = (cli as unknown as YargsInternals).getInternalMethods?.()
  const usageInstance = internals?.getUsageInstance()
  if (usageInstance && typeof usageInstance.cacheHelpMessage === 'function') usageInstance.cacheHelpMessage = () => {}
  try {
    // yargs prints --help and --version with console.log, which drops a failed write in silence
    // (`etl --help > /dev/full` exited 0): with a callback, yargs hands the text over instead.
    let output = ''
    await cli
      .scriptName('etl')
      .usage(
        '$0 <command> [options]\n\nDICOM header attributes and dose as a table (CSV, JSON Lines, Parquet), streaming: from files or a PACS.',
      )
      .command([
        runCommand,
        extractCommand,
        validateCommand,
        privacyReportCommand,
        inspectCommand,
        keywordsCommand,
      ] as never)
      .demandCommand(1, 'name a command: run, extract, validate, privacy-report, inspect or keywords')
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
      .parseAsync(args, {}, (_err, _argv, text) => {
        output = text
      })
    if (output) await writeStdout(`${output}\n`)
  } catch (err) {
    fail(err)
  }
}

// `etl --version` answers before anything else is loaded (yargs alone takes ~100 ms to load).
const args = process.argv.slice(2)
if (args.length === 1 && args[0] === '--version') {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  const { writeStdout } = await import('./io/stdout.js')
  await writeStdout(`${version}\n`).catch(async (err: unknown) => (await import('./commands/fail.js')).fail(err))
} else {
  await main()
}
