/**
 * Runs a pipeline for a command: the --since, --state and --max-failures flags applied to its
 * spec, stop signals handled, and the outcome or error turned into the exit code.
 */
import { resolve } from 'node:path'
import { signalExitCode, STOP_SIGNALS } from '../errors.js'
import type { PipelineSpec } from '../pipeline/spec.js'
import { fail, usage } from './fail.js'
import { readPseudonymKey } from '../io/pseudonym-key.js'
import { DEFAULT_SHIFT_DAYS } from '../pipeline/spec.js'
import { profileActions } from '../transforms/privacy.js'
import type { CommonArgs } from './options.js'
import { parseFailureLimit, parseSince } from './parse-flags.js'

/** Runs a pipeline and sets process.exitCode; reports fatal errors in one line. */
export async function execute(spec: PipelineSpec, args: CommonArgs): Promise<void> {
  try {
    // Loaded here, not at start-up: `etl --help` and usage errors need none of the pipeline.
    const { exitCodeOf, runPipeline } = await import('../pipeline/run.js')
    const stop = new AbortController()
    const onSignal = (signal: NodeJS.Signals) => {
      // A second signal while the first is being handled ends the process at once.
      if (stop.signal.aborted) process.exit(signalExitCode(signal))
      stop.abort(signal)
    }
    // SIGHUP too: a run whose terminal is closed must not leave its lock and temporary output.
    const signals = Object.keys(STOP_SIGNALS) as NodeJS.Signals[]
    for (const signal of signals) process.on(signal, onSignal)
    const maxFailures = parseFailureLimit(args.maxFailures)
    const since = parseSince(args.since)
    const withSince = since ? { ...spec, source: { ...spec.source, since } } : spec
    const withState = args.state ? { ...withSince, state: resolve(args.state) } : withSince
    const run = withPrivacy(withState, args.pseudonymise ?? false)
    if (!run.privacy && args.keyFile !== undefined) {
      usage('--key-file needs --pseudonymise or a pipeline with privacy: (nothing would be pseudonymised)')
    }
    const pseudonymKey = run.privacy ? readPseudonymKey(args.keyFile) : undefined
    const summary = await runPipeline(run, {
      pseudonymKey,
      quiet: args.quiet,
      verbose: args.verbose,
      progress: args.progress,
      logFormat: args.logFormat,
      maxFailures,
      failOnAlert: args.failOnAlert,
      full: args.full,
      signal: stop.signal,
    }).finally(() => {
      // After an interruption the handlers stay: a second Ctrl-C must still exit 130, not kill.
      if (!stop.signal.aborted) for (const signal of signals) process.off(signal, onSignal)
    })
    process.exitCode = exitCodeOf(summary, maxFailures, args.failOnAlert)
  } catch (err) {
    fail(err)
  }
}

/**
 * The spec of a run with --pseudonymise: a pipeline's own `privacy:` as it is; without one, each
 * identifying column the action PS3.15 Table E.1-1 suggests (see `profileActions`).
 */
export function withPrivacy(spec: PipelineSpec, pseudonymise: boolean): PipelineSpec {
  if (!pseudonymise || spec.privacy) return spec
  return { ...spec, privacy: { columns: profileActions(spec.columns), shiftDays: DEFAULT_SHIFT_DAYS } }
}
