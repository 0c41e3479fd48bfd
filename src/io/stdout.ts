/**
 * stdout, as every command writes it. Node's `process.stdout` fails in two ways that a command
 * writing to it directly does not see:
 *
 * - it reports a failed write (EPIPE when the reader has gone, `etl inspect f | head -1`;
 *   ENOSPC on `> /dev/full`) as an 'error' event, which ends the process with a stack trace
 *   when nothing listens;
 * - it never stays destroyed (Node un-destroys the stdio streams after an error), so its
 *   `errored` is null again by the time a `pipeline` that used it as a sink rejects, and the
 *   error cannot be told from an input's.
 *
 * Here every write waits until stdout has taken the bytes (so output held in memory stays one
 * chunk), an 'error' listener is always in place, and a failure becomes one of two errors: a
 * closed stdout ({@link isStdoutClosed}), which commands end on quietly, or `E_OUTPUT` "cannot
 * write stdout: no space left on device", exit 74.
 */
import { Writable } from 'node:stream'
import { EtlError, ExitCode, describeSystemError } from '../errors.js'

let guarded = false

/** Gives stdout the listener that keeps a failed write from ending the process. */
function guard(): void {
  if (guarded) return
  guarded = true
  // The failure also comes to the write's callback, where it is reported.
  process.stdout.on('error', () => {})
}

/** True for errors that mean the reader of stdout has gone: nothing more to write, nothing to say. */
export function isStdoutClosed(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'E_STDOUT_CLOSED'
}

/** The error a failed stdout write becomes: closed (quiet), or E_OUTPUT with exit code 74. */
export function stdoutError(err: unknown): EtlError {
  if (isStdoutClosed(err)) return new EtlError('E_STDOUT_CLOSED', 'stdout closed', ExitCode.OK)
  return new EtlError('E_OUTPUT', `cannot write stdout: ${describeSystemError(err)}`, ExitCode.IO_ERR)
}

/** Writes to stdout and resolves once it has taken the bytes; rejects with {@link stdoutError}. */
export function writeStdout(chunk: string | Uint8Array): Promise<void> {
  guard()
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (err) => (err ? reject(stdoutError(err)) : resolve()))
  })
}

/** Writes lines (each ended by `\n`) in chunks of about 64 KiB, each awaited. */
export async function writeLines(lines: Iterable<string>): Promise<void> {
  let chunk = ''
  for (const line of lines) {
    chunk += `${line}\n`
    if (chunk.length >= 64 * 1024) {
      await writeStdout(chunk)
      chunk = ''
    }
  }
  if (chunk) await writeStdout(chunk)
}

/**
 * stdout as the sink of a pipeline: a Writable that keeps its error (with its system code,
 * EPIPE or ENOSPC) where `process.stdout` would forget it, and is never ended itself.
 */
export function stdoutSink(): Writable {
  guard()
  return new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      process.stdout.write(chunk, (err) => callback(err ?? undefined))
    },
  })
}
