/**
 * The contract of a source: the stages that yield the pipeline's rows (or, for an incremental
 * run, records: rows with the facts that identify what was read, see `records.ts`), reporting
 * each file or instance that gives none through `onSkip`.
 */
import type { Transform } from 'node:stream'
import type { RunState } from '../io/state-file.js'
import type { PipelineSpec } from '../pipeline/spec.js'
import type { Skip } from '../records.js'
import type { ListInfo } from './list-files.js'
import type { ReadInfo } from './read-headers.js'

/** What a source is made from. */
export interface SourceContext {
  spec: PipelineSpec
  /** Give records (rows with the facts that identify their file), not rows: the state records them. */
  records: boolean
  /** Makes the state's stage that takes what was listed and passes on only what must be read. */
  skipKnown?: () => Transform
  /** The state of an incremental run, for a source that finds what is unchanged itself (DICOMweb). */
  state?: RunState
  /** Counts the source keeps, for the progress line and the summary. */
  info: { list: ListInfo; read: ReadInfo }
  onSkip: (skip: Skip) => void
  onWarning: (path: string, message: string) => void
  onNote: (message: string) => void
}
