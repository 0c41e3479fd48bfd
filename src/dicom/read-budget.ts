/**
 * What reads may hold: the bytes of one thread's reads in flight (one large read at a time),
 * and the bytes read from one file against its limit. Also the I/O steps that the read logic
 * yields to its drivers, waiting for the large-read slot among them.
 */
import type { Stats } from 'node:fs'
import { EtlError } from '../errors.js'

/**
 * The bytes that the reads in flight of one thread hold (windows, inflated data): each read may
 * allocate `small` bytes freely; past that it must hold the budget's one large-read slot, which
 * it keeps until it ends, and it stops at `maxBytes` (E_UNSUPPORTED). So a thread's reads in
 * flight hold at most maxBytes + (reads - 1) x small, whatever their number: one large read at
 * a time, the others waiting for the slot while holding no more than `small` each (no deadlock:
 * the holder never waits). Synchronous reads, one at a time, never wait.
 */
export class ReadBudget {
  /** Bytes a read may allocate without the large-read slot. */
  readonly small: number
  /** Bytes held by reads in flight now, and the most ever (for tests and the bench). */
  held = 0
  maxHeld = 0
  /** Reads that held the large-read slot at once, at most (1 unless a bug). */
  maxLarge = 0
  private large = 0
  private readonly waiting: (() => void)[] = []

  constructor(small = 1024 * 1024) {
    this.small = small
  }

  /** Takes the large-read slot: at once when free, else when the reads before have released it. */
  acquire(): Promise<void> | undefined {
    if (this.large === 0) {
      this.large = 1
      this.maxLarge = Math.max(this.maxLarge, 1)
      return undefined
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  /** Gives the slot to the next waiting read, if any. */
  release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.large = 0
  }

  hold(bytes: number): void {
    this.held += bytes
    if (this.held > this.maxHeld) this.maxHeld = this.held
  }
}

/** The budget of this thread's reads (a module instance per worker thread). */
export const threadBudget = new ReadBudget()

/** What one read holds of its thread's budget. */
export interface Holding {
  budget: ReadBudget
  bytes: number
  /** Whether it holds the large-read slot. */
  large: boolean
}

/** An I/O request of {@link readSteps}: read into a buffer at a file position, fstat, or wait for the large-read slot. */
export type Step =
  { op: 'read'; buf: Buffer; offset: number; length: number; position: number } | { op: 'stat' } | { op: 'large' }
export type StepResult = number | Stats

/** Most bytes read from one file unless `maxBytes` says otherwise: 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024

/** Bytes read so far from one file, against its limit. */
export interface Budget {
  read: number
  max: number
}

/** Counts `bytes` about to be allocated against the thread's budget, first waiting for the large-read slot past `small`. */
export function* reserve(holding: Holding | undefined, bytes: number): Generator<Step, void, StepResult> {
  if (!holding) return
  if (!holding.large && holding.bytes + bytes > holding.budget.small) {
    yield { op: 'large' }
    holding.large = true
  }
  holding.bytes += bytes
  holding.budget.hold(bytes)
}

/** Counts `bytes` read from one file against its limit: past it, E_UNSUPPORTED. */
export function charge(budget: Budget, bytes: number, what: string): void {
  budget.read += bytes
  if (budget.read > budget.max)
    throw new EtlError('E_UNSUPPORTED', `${what} goes on past ${budget.max} bytes; not read`)
}
