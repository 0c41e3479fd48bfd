/**
 * Is the process that left something behind (a lock, a temporary file, a sort folder) still
 * running? A pid alone cannot say: pids are reused, and after a reboot or in a container a stale
 * lock's pid often belongs to another process (pid 1, say). So what we leave behind records the
 * pid and the process's start time as the kernel keeps it (field 22 of /proc/PID/stat, in clock
 * ticks since boot), and a process counts as the same only while both match.
 */
import { readFileSync } from 'node:fs'

/** A process as recorded: its pid and its start time (ticks since boot; undefined where /proc is absent). */
export interface ProcessId {
  pid: number
  start?: number
}

/** The start time of a running process (field 22 of /proc/PID/stat), or undefined (gone, or no /proc). */
export function processStart(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return undefined
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const start = Number(fields[19])
  return Number.isFinite(start) ? start : undefined
}

/** This process, as others will check it. */
export function thisProcess(): ProcessId {
  return { pid: process.pid, start: processStart(process.pid) }
}

/**
 * True while the recorded process runs on this machine: its pid exists and, when a start time
 * was recorded and /proc can tell, started at that time.
 */
export function isRunning(owner: ProcessId): boolean {
  try {
    process.kill(owner.pid, 0)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (owner.start === undefined) return true
  const start = processStart(owner.pid)
  return start === undefined || start === owner.start
}
