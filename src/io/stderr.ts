/**
 * stderr, as every command writes it: best effort. Messages there (failures, warnings, the
 * progress line, the summary) tell a person what happened; they are not the run's result. Node's
 * `process.stderr` reports a failed write (EPIPE when the reader has gone, `2>&1 >/dev/null |
 * head -1`; ENOSPC on `2>/dev/full`) as an 'error' event, which ends the process with a stack
 * trace when nothing listens: in the middle of a run, leaving its lock and temporary files
 * behind and exiting 1. With {@link guardStderr} in place, such a failure is ignored: the run goes
 * on, cleans up, and exits with the code it would have had with a working stderr.
 */

let guarded = false

/** Gives stderr the listener that keeps a failed write from ending the process; idempotent. */
export function guardStderr(): void {
  if (guarded) return
  guarded = true
  process.stderr.on('error', () => {})
}
