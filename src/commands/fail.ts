/**
 * How a command ends on an error: one line on stderr (text or JSON, as --log-format says) and
 * its exit code; usage errors add the hint to --help.
 */
import { EtlError, ExitCode } from '../errors.js'
import { isStdoutClosed } from '../io/stdout.js'
import { createLogger } from '../log.js'

/** How fatal errors are written: set from --log-format before any command runs. */
let logFormat: 'text' | 'json' = 'text'

/** Sets how {@link fail} writes: from --log-format, before any command runs. */
export function setLogFormat(format: 'text' | 'json'): void {
  logFormat = format
}

/** Prints an error as one line and sets the exit code (70 and the stack for bugs). */
export function fail(err: unknown): void {
  // The reader of stdout has gone (`etl ... | head`): nothing more to say.
  if (isStdoutClosed(err)) return
  const log = createLogger(process.stderr, { logFormat })
  if (err instanceof EtlError) {
    for (const line of err.details) process.stderr.write(`${line}\n`)
    log.error(err.message, err.code)
    if (err.code === 'E_USAGE' && logFormat === 'text') log.error("run 'etl --help' for usage")
    process.exitCode = err.exitCode
    return
  }
  log.error(`internal error: ${(err as Error)?.stack ?? String(err)}`, 'E_INTERNAL')
  log.error('this is a bug: please report it with the command that caused it')
  process.exitCode = ExitCode.SOFTWARE
}

/** A usage error: one line, the hint to --help, exit 64. */
export function usage(message: string): never {
  throw new EtlError('E_USAGE', message, ExitCode.USAGE)
}
