/**
 * dicom-etl as a library: each pipeline stage is a stream factory, composable with
 * `stream.pipeline`; `runPipeline` wires them as the CLI does.
 */
export { listFiles, type ListFilesOptions, type ListInfo } from './stages/list-files.js'
export {
  readHeaders,
  newReadInfo,
  toSkip,
  type HeaderRecord,
  type ReadHeadersOptions,
  type ReadInfo,
  type Skip,
} from './stages/read-headers.js'
export {
  projectKeywords,
  projectRow,
  columnTags,
  columnGroups,
  columnPlan,
  needsStat,
  type Row,
  type ProjectOptions,
} from './stages/project-keywords.js'
export { sortRows, sortRowsInMemory, compareRows, compareCells, type SortColumn } from './stages/sort-rows.js'
export { formatCsv, AtomicFileWriter } from './stages/write-csv.js'
export {
  readHeader,
  readHeaderSync,
  readItems,
  scanHeader,
  planRead,
  type DataElement,
  type Header,
  type FileHeader,
  type ReadPlan,
} from './dicom/read-header.js'
export { formatValue, type FormatContext } from './dicom/format-value.js'
export { parsePath, findElement, type PathStep } from './dicom/paths.js'
export { lookupKeyword, lookupTag, parseTag, formatTag, suggestKeyword, type DictEntry } from './dicom/keywords.js'
export { parseColumn } from './pipeline/columns.js'
export { loadPipeline, parsePipeline, formatProblem, type Problem } from './pipeline/load.js'
export { runPipeline, exitCodeOf, type RunOptions } from './pipeline/run.js'
export type { PipelineSpec, ColumnSpec, SortKey, SourceSpec, OutputSpec } from './pipeline/spec.js'
export { EtlError, ExitCode, type ErrorCode } from './errors.js'
export type { Summary } from './log.js'
