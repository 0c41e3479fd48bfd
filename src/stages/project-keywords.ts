/**
 * Keyword projector: turns each header into a row of cell strings, in column order.
 * A missing attribute is an empty cell. Values are formatted per VR by format-value.
 */
import { Transform } from 'node:stream'
import { parseCharsets } from '../dicom/charset.js'
import { formatValue, type FormatContext } from '../dicom/format-value.js'
import { Tags } from '../dicom/keywords.js'
import { latin1 } from '../dicom/read-header.js'
import type { ColumnSpec } from '../pipeline/spec.js'
import type { HeaderRecord } from './read-headers.js'

/** A CSV row: one string per column. */
export type Row = string[]

/** Options of {@link projectKeywords}. */
export interface ProjectOptions {
  /** Joins multiple values in a cell. Default backslash. */
  separator?: string
  /** Warnings about values (an invalid number left empty), with the file they come from. */
  onWarning?: (path: string, message: string) => void
}

/** The data set tags the columns need (for the read plan). */
export function columnTags(columns: readonly ColumnSpec[]): number[] {
  const tags: number[] = []
  for (const c of columns) if (c.source.kind === 'element') tags.push(c.source.tag)
  return tags
}

/** True when a column needs the file's stat (size_bytes, mtime). */
export function needsStat(columns: readonly ColumnSpec[]): boolean {
  return columns.some((c) => c.source.kind === 'pseudo' && c.source.name !== 'path')
}

const NO_CHARSETS: readonly string[] = []
const charsetCache = new Map<string, readonly string[]>()

/** The terms of a Specific Character Set value; archives repeat a handful of values, so they are parsed once. */
function charsetTerms(raw: string): readonly string[] {
  let terms = charsetCache.get(raw)
  if (!terms) {
    terms = parseCharsets(raw)
    if (charsetCache.size < 256) charsetCache.set(raw, terms)
  }
  return terms
}

/** The row of one header. */
export function projectRow(record: HeaderRecord, columns: readonly ColumnSpec[], options: ProjectOptions = {}): Row {
  const { header, path } = record
  const charsetElement = header.elements.get(Tags.SpecificCharacterSet)
  const charsets = charsetElement ? charsetTerms(latin1(charsetElement.value)) : NO_CHARSETS
  const onWarning = options.onWarning
  const warn = onWarning ? (message: string) => onWarning(path, message) : undefined
  const context = { littleEndian: header.littleEndian, charsets, separator: options.separator, warn }
  let metaContext: FormatContext | undefined
  const row: Row = new Array<string>(columns.length)
  for (let i = 0; i < columns.length; i++) {
    const source = columns[i].source
    if (source.kind === 'pseudo') {
      if (source.name === 'path') row[i] = path
      else if (source.name === 'size_bytes') row[i] = header.size === undefined ? '' : String(header.size)
      else row[i] = header.mtime ? header.mtime.toISOString() : ''
      continue
    }
    const element = header.elements.get(source.tag)
    // The file meta is always explicit VR little endian, whatever the data set's syntax.
    if (!element) row[i] = ''
    else if (source.tag >>> 16 !== 0x0002) row[i] = formatValue(element, context)
    else row[i] = formatValue(element, (metaContext ??= { ...context, littleEndian: true }))
  }
  return row
}

/** The projector as a Transform stream (object mode: HeaderRecords in, Rows out). */
export function projectKeywords(columns: readonly ColumnSpec[], options: ProjectOptions = {}): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(record: HeaderRecord, _encoding, callback) {
      callback(null, projectRow(record, columns, options))
    },
  })
}
