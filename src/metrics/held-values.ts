/**
 * The values of one group that an exact rank or an exact distinct count needs (`median`, `pNN`,
 * `count_distinct`), held within a memory budget and given back sorted.
 *
 * State: while the values fit the budget, an array of them in memory; past it, the sorter
 * (`transforms/sort-rows.ts`) takes them all, one row per value, and holds them as it holds rows:
 * within the same budget, in sorted runs in its private folder under the temporary folder
 * (`etl-sort-*`, mode 0700), merged when they are read back, removed when the merge ends, when
 * the store is destroyed and at process exit. A group of any size thus holds at most its budget.
 */
import { once } from 'node:events'
import type { Duplex } from 'node:stream'
import { sortRows, type SortInfo } from '../transforms/sort-rows.js'
import { Binary, compareValues, valueText, type TextOptions, type Value } from '../values.js'

/** Options of {@link HeldValues}. */
export interface HeldValuesOptions {
  /** The bytes the values may take in memory before they go to the sorter. */
  memoryBytes: number
  /** Where the sorter's folder of runs is made. Default `os.tmpdir()`. */
  tempDir?: string
  /** How values compare where their text counts (as the sorter and `group_by` compare them). */
  format?: TextOptions
  /** The sorter's counts, for tests and the curious: runs written once spilled. */
  info?: SortInfo
}

/** Bytes counted per held value: its slot and a double (or a pointer). */
const VALUE_BYTES = 16
/** Bytes counted besides for a string (its header; then a byte per character), or another object. */
const OBJECT_BYTES = 24

/** What a value takes in memory, roughly, as the sorter counts its keys. */
function valueBytes(value: Value): number {
  if (typeof value === 'number' || value === null) return VALUE_BYTES
  if (typeof value === 'string') return VALUE_BYTES + OBJECT_BYTES + value.length
  if (Array.isArray(value)) return value.reduce<number>((sum, v) => sum + valueBytes(v), VALUE_BYTES + OBJECT_BYTES)
  const length = value instanceof Binary ? value.bytes.length : valueText(value).length
  return VALUE_BYTES + 2 * OBJECT_BYTES + length
}

/** The values of one group, in memory within a budget and through the sorter beyond it. */
export class HeldValues {
  /** Values added. */
  count = 0
  private values: Value[] = []
  private bytes = 0
  private sorter: Duplex | undefined
  private failure: Error | undefined

  constructor(private readonly options: HeldValuesOptions) {}

  /** Whether the values have gone to the sorter (and, past its budget, to disk). */
  get spilled(): boolean {
    return this.sorter !== undefined
  }

  /** Adds a value; a promise when it went to the sorter and the sorter asks to wait. */
  add(value: Value): void | Promise<void> {
    this.count++
    if (this.sorter) return this.write(value)
    this.values.push(value)
    this.bytes += valueBytes(value)
    if (this.bytes >= this.options.memoryBytes) return this.spill()
  }

  /** The values in ascending order (as `compareValues` orders them), in batches; once. */
  async *sorted(): AsyncGenerator<readonly Value[]> {
    const sorter = this.sorter
    if (!sorter) {
      const format = this.options.format
      const values = this.values
      this.values = []
      yield values.sort((a, b) => compareValues(a, b, format))
      return
    }
    sorter.end()
    let batch: Value[] = []
    for await (const row of sorter as AsyncIterable<Value[]>) {
      batch.push(row[0])
      if (batch.length === 1024) {
        yield batch
        batch = []
      }
    }
    if (batch.length > 0) yield batch
  }

  /** Forgets the values; a sorter's runs are removed. */
  destroy(): void {
    this.values = []
    this.sorter?.destroy()
  }

  /** Hands the values held so far to a new sorter. */
  private async spill(): Promise<void> {
    const sorter = sortRows([{ index: 0, descending: false }], {
      memoryBytes: this.options.memoryBytes,
      ...(this.options.tempDir !== undefined && { tempDir: this.options.tempDir }),
      ...(this.options.format && { format: this.options.format }),
      ...(this.options.info && { info: this.options.info }),
    })
    sorter.on('error', (err: Error) => (this.failure ??= err))
    this.sorter = sorter
    const values = this.values
    this.values = []
    this.bytes = 0
    for (const value of values) await this.write(value)
  }

  /** Writes a value to the sorter; a promise to wait for when its buffer is full. */
  private write(value: Value): void | Promise<void> {
    const sorter = this.sorter as Duplex
    if (this.failure) throw this.failure
    if (!sorter.write([value])) return once(sorter, 'drain').then(() => undefined)
  }
}
