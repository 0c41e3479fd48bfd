/**
 * The sinks: the only place that lists them. `output.format` (and `--format`) names one; a path
 * ending in one of a sink's extensions chooses it when no format is named. Adding a sink: its
 * module (typed rows in, bytes out, see `sink.ts`), a line here, its test and its README row.
 */
import type { Transform } from 'node:stream'
import type { SinkContext } from './sink.js'

/** One output format. */
export interface SinkModule {
  /** What `output.format` says. */
  format: string
  /** File name endings that choose it. */
  extensions: readonly string[]
  /** One line for `--help`, the schema and the README. */
  doc: string
  /** Bytes that are not text: refused on a terminal. */
  binary: boolean
  /** The sink's stream: typed rows in, bytes out. Loaded on use, so a run pays only for its own. */
  create(context: SinkContext): Promise<Transform>
}

export const SINKS = [
  {
    format: 'csv',
    extensions: ['.csv'],
    doc: 'CSV (RFC 4180): a header row, then one line per row; values as text with the `format:` options',
    binary: false,
    create: async (context) =>
      (await import('./csv.js')).formatCsv(
        context.columns.map((c) => c.name),
        { spreadsheet: context.format.spreadsheet, format: context.format },
      ),
  },
  {
    format: 'jsonl',
    extensions: ['.jsonl', '.ndjson'],
    doc: 'JSON Lines: one object per row; numbers as numbers, multiple values as arrays, empty as null',
    binary: false,
    create: async (context) => (await import('./jsonl.js')).jsonlSink(context),
  },
  {
    format: 'parquet',
    extensions: ['.parquet'],
    doc: 'Parquet: typed, nullable columns (DOUBLE, INT64, UTF-8 text, bytes; LIST for multiple values), row groups of 16,384 rows',
    binary: true,
    create: async (context) => {
      const parquet = await import('./parquet.js')
      await parquet.loadParquetLibrary()
      return parquet.parquetSink(context)
    },
  },
] as const satisfies readonly SinkModule[]

/** The names of the output formats. */
export type OutputFormat = (typeof SINKS)[number]['format']

export const OUTPUT_FORMATS = SINKS.map((s) => s.format) as OutputFormat[]

/** The sink of a format. */
export function sinkOf(format: OutputFormat): SinkModule {
  return SINKS.find((s) => s.format === format) as SinkModule
}

/** The format a file name implies by its ending; undefined for `-` and other endings. */
export function formatOfPath(path: string): OutputFormat | undefined {
  const lower = path.toLowerCase()
  return SINKS.find((s) => s.extensions.some((e) => lower.endsWith(e)))?.format
}
