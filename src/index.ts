/**
 * dicom-etl as a library: each pipeline stage is a stream factory, composable with
 * `stream.pipeline`; `runPipeline` wires them as the CLI does. A pipeline is a source, then
 * transforms, then a sink, each from its registry (`SOURCES`, `SINKS`); rows between them are
 * arrays of typed values (`Value`), made text only by a text sink (`valueText`, `rowText`).
 */
export { toSkip, type HeaderRecord, type Row, type Skip, type SourceRecord } from './records.js'
export {
  Binary,
  Decimal,
  DicomDate,
  PersonName,
  compareValues,
  computedNumber,
  DEFAULT_PRECISION,
  parseRow,
  rowText,
  stringifyRow,
  valueJson,
  valueNumber,
  valueNumbers,
  valueStrings,
  valueText,
  type Precision,
  type TextOptions,
  type Value,
} from './values.js'
export { SOURCES, SOURCE_TYPES, sourceOf, type SourceModule, type SourceType } from './sources/registry.js'
export { filesSource, filesFields } from './sources/files.js'
export { dicomwebSource, dicomwebFields } from './sources/dicomweb.js'
export { createHttpClient, HttpError, type HttpClient, type HttpOptions } from './io/http-client.js'
export { jsonToPart10, type JsonDataset, type JsonAttribute, type Part10 } from './dicom/dicom-json.js'
export type { SourceContext } from './sources/source.js'
export { SINKS, OUTPUT_FORMATS, sinkOf, formatOfPath, type SinkModule, type OutputFormat } from './sinks/registry.js'
export { jsonlSink } from './sinks/jsonl.js'
export type { ColumnType, SinkColumn, SinkContext } from './sinks/sink.js'
export { columnType, typeOfVr, aggregateType } from './pipeline/column-types.js'
export { frameElements, numberOfFrames, FRAME_TAGS, type FrameElement } from './dicom/frames.js'
export { listFiles, type ListFilesOptions, type ListInfo } from './sources/list-files.js'
export { readHeaders, newReadInfo, type ReadHeadersOptions, type ReadInfo } from './sources/read-headers.js'
export {
  projectKeywords,
  projectRow,
  projectValues,
  projectFrames,
  columnTags,
  columnGroups,
  columnPlan,
  needsStat,
  type ProjectOptions,
} from './transforms/project-keywords.js'
export {
  sortRows,
  sortRowsInMemory,
  compareRows,
  fanIn,
  DEFAULT_SORT_MEMORY_BYTES,
  type SortColumn,
  type SortOptions,
  type SortInfo,
} from './transforms/sort-rows.js'
export {
  locateSlices,
  locateRow,
  deriveMetrics,
  findDoseColumns,
  DOSE_KEYWORDS,
  REQUIRED_DOSE_KEYWORDS,
  seriesDoseAccumulator,
  dose,
  type DoseColumns,
  type DoseSpec,
  type DeriveMetricsOptions,
  type SeriesDoseOptions,
} from './metrics/dose.js'
export {
  findNeeds,
  type MetricModule,
  type AnyMetric,
  type MetricPlan,
  type MetricColumn,
  type GroupAccumulator,
  type Need,
  type Needs,
  type ColumnsOf,
  type ConfigOf,
  type PlanContext,
  type CheckContext,
} from './metrics/metric.js'
export { METRICS, metricsOf, type Metric, type MetricSpecs } from './metrics/registry.js'
export { groupRows, type GroupRowsOptions, type GroupInfo } from './transforms/group-rows.js'
export {
  filterRows,
  compileWhere,
  keepRows,
  type FilterRowsOptions,
  type FilterInfo,
  type RowTest,
} from './transforms/filter-rows.js'
export {
  parseWhere,
  showWhere,
  type WhereExpr,
  type WhereProblem,
  type RowFilter,
  type BoundColumn,
} from './pipeline/where.js'
export { resolveWhere, type FilterResult } from './pipeline/where-columns.js'
export {
  locateSlice,
  sliceNormal,
  SliceWindow,
  SeriesDose,
  seriesDose,
  sliceDlp,
  sliceNotes,
  seriesDoseCells,
  SLICE_DOSE_COLUMNS,
  SERIES_DOSE_COLUMNS,
  TOLERANCE_MM,
  GAP_FACTOR,
  AXIAL_MIN_COS,
  type Exclusion,
  type Location,
  type SliceCells,
  type PlacedSlice,
  type DoseSlice,
  type PositionedSlice,
  type RegionSetting,
  type SeriesDoseResult,
} from './metrics/dlp.js'
export { K_FACTORS, REGIONS, regionOfBodyPart, bodyPartsOf, type Region } from './metrics/effective-dose.js'
export {
  aggregator,
  groupAggregates,
  percentiles,
  isAggregateOp,
  AGGREGATE_OPS,
  type AggregateOp,
  type Aggregator,
  type AggregateColumn,
  type GroupAggregates,
  type GroupAggregatesOptions,
} from './metrics/aggregate.js'
export { HeldValues, type HeldValuesOptions } from './metrics/held-values.js'
export { formatNumber } from './metrics/cells.js'
export { formatCsv } from './sinks/csv.js'
export { AtomicFile, commitAll, resolveTarget, type Target } from './io/atomic-file.js'
export { prepareOutputs, type OutputPaths, type RunOutputs } from './io/outputs.js'
export { readHeader, readHeaderSync, type FileHeader } from './dicom/read-header.js'
export { readItems } from './dicom/items.js'
export { scanHeader, type Header } from './dicom/scan-header.js'
export { planRead, type ReadPlan } from './dicom/read-plan.js'
export type { DataElement } from './dicom/data-element.js'
export { formatValue, decodeValue, type FormatContext, type FormatOptions } from './dicom/format-value.js'
export { parsePath, findElement, type PathStep } from './dicom/paths.js'
export { lookupKeyword, lookupTag, parseTag, formatTag, suggestKeyword, type DictEntry } from './dicom/keywords.js'
export { parseColumn } from './pipeline/columns.js'
export { loadPipeline, parsePipeline, formatProblem, type Problem } from './pipeline/load.js'
export { runPipeline, exitCodeOf, rowStages, type RunOptions } from './pipeline/run.js'
export type {
  PipelineSpec,
  ColumnSpec,
  SortKey,
  SourceSpec,
  OutputSpec,
  GroupSpec,
  AggregateSpec,
} from './pipeline/spec.js'
export { DEFAULT_SORT_MEMORY_MB } from './pipeline/spec.js'
export { EtlError, ExitCode, type ErrorCode } from './errors.js'
export { tuneHeapForStreaming } from './heap.js'
export type { Summary } from './log.js'
