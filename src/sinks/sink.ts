/**
 * The contract of a sink: typed rows in, the bytes of one output format out. The runner writes
 * those bytes into the output file (committed atomically, with the errors file and the state)
 * or to stdout; a sink never opens files itself.
 */
import type { TextOptions } from '../values.js'

/** What a column holds, as far as a typed format needs to know before the first row. */
export interface ColumnType {
  /**
   * `number`: doubles (DS, FL, FD, computed doses); `integer`: IS, US, SS, UL, SL, SV, UV, sizes,
   * counts; `bytes`: binary VRs; `text`: everything else (names, dates, UIDs, code strings).
   */
  kind: 'number' | 'integer' | 'text' | 'bytes'
  /** Several values per row (VM > 1, or one per sequence item through `[*]`). */
  list: boolean
}

/** One output column: its header and its type. */
export interface SinkColumn {
  name: string
  type: ColumnType
}

/** What a sink is made from. */
export interface SinkContext {
  columns: readonly SinkColumn[]
  /** How text formats write values (separator, dates, names, binary, spreadsheet safety). */
  format: TextOptions & { spreadsheet?: boolean }
}
