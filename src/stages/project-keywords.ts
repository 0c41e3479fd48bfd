/**
 * Keyword projector: turns each header into a row of cell strings, in column order.
 * A missing attribute is an empty cell. Values are formatted per VR by format-value.
 */
import { Transform } from 'node:stream'
import { parseCharsets } from '../dicom/charset.js'
import { formatValue, type FormatContext, type FormatOptions } from '../dicom/format-value.js'
import { formatTag, Tags } from '../dicom/keywords.js'
import { findElement, type PathStep } from '../dicom/paths.js'
import { latin1, type DataElement } from '../dicom/data-element.js'
import { readItems } from '../dicom/items.js'
import { planRead, type ReadPlan } from '../dicom/read-plan.js'
import { displayPath } from '../io/fs-path.js'
import type { ColumnSpec } from '../pipeline/spec.js'
import type { HeaderRecord, Row } from '../records.js'

/** Options of {@link projectKeywords}. */
export interface ProjectOptions {
  /** How cells are written (separator, dates, names, binary values, fallback character set). */
  format?: FormatOptions
  /** Told of every row made, with the header it came from (incremental runs record it). */
  onRow?: (record: HeaderRecord, row: Row) => void
  /** Warnings about values (an invalid number left empty), with the file they come from. */
  onWarning?: (path: string, message: string) => void
}

/** The data set tags the columns need (for the read plan). */
export function columnTags(columns: readonly ColumnSpec[]): number[] {
  const tags: number[] = []
  for (const c of columns) if (c.source.kind === 'element' && !c.source.path?.[0].creator) tags.push(c.source.tag)
  return tags
}

/** The private groups the columns need whole (their blocks are found per file, by creator). */
export function columnGroups(columns: readonly ColumnSpec[]): number[] {
  const groups: number[] = []
  for (const c of columns) {
    if (c.source.kind === 'element' && c.source.path?.[0].creator) groups.push(Math.floor(c.source.tag / 0x10000))
  }
  return groups
}

/** The read plan of a list of columns. */
export function columnPlan(columns: readonly ColumnSpec[]): ReadPlan {
  return planRead(columnTags(columns), { groups: columnGroups(columns) })
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
  const context: FormatContext = { ...options.format, littleEndian: header.littleEndian, charsets, warn }
  let metaContext: FormatContext | undefined
  const row: Row = new Array<string>(columns.length)
  const damage = header.damage
  if (damage && warn) warn(`data set unreadable from ${formatTag(damage.tag)} at byte ${damage.at}: ${damage.reason}`)
  for (let i = 0; i < columns.length; i++) {
    const source = columns[i].source
    if (source.kind === 'pseudo') {
      if (source.name === 'path') row[i] = displayPath(path)
      else if (source.name === 'size_bytes') row[i] = header.size === undefined ? '' : String(header.size)
      else row[i] = header.mtime ? header.mtime.toISOString() : ''
      continue
    }
    if (source.path) {
      row[i] = pathCell(header.elements, source.path, context)
      if (row[i] === '' && damage && source.tag >= damage.tag)
        warn?.(`${columns[i].name}: unreadable: ${damage.reason}`)
      continue
    }
    const element = header.elements.get(source.tag)
    // The file meta is always explicit VR little endian, whatever the data set's syntax.
    if (!element) {
      row[i] = ''
      // A tag at or after the damage may be in the file, past what could be read.
      if (damage && source.tag >= damage.tag && source.tag >>> 16 !== 0x0002) {
        warn?.(`${columns[i].name}: unreadable: ${damage.reason}`)
      }
    } else if (source.tag >>> 16 !== 0x0002) row[i] = formatValue(element, context)
    else row[i] = formatValue(element, (metaContext ??= { ...context, littleEndian: true }))
  }
  return row
}

/**
 * The cell of a path: followed through the chosen items of each sequence; one value per item
 * reached (empty where an item lacks the attribute), joined; an item's own Specific Character
 * Set applies inside it. A broken sequence gives an empty cell and a warning.
 */
function pathCell(
  elements: ReadonlyMap<number, DataElement>,
  steps: readonly PathStep[],
  context: FormatContext,
): string {
  const values: string[] = []
  const walk = (level: ReadonlyMap<number, DataElement>, i: number, charsets: readonly string[]): void => {
    const step = steps[i]
    const element = findElement(level, step)
    if (i === steps.length - 1) {
      values.push(element ? formatValue(element, { ...context, charsets }) : '')
      return
    }
    if (!element) return
    let items: Map<number, DataElement>[]
    try {
      items = readItems(element, context.littleEndian)
    } catch (err) {
      context.warn?.(`cannot read the items of ${formatTag(element.tag)}: ${(err as Error).message}`)
      return
    }
    const chosen = step.item === '*' ? items : items.slice(Number(step.item), Number(step.item) + 1)
    for (const item of chosen) {
      const own = item.get(Tags.SpecificCharacterSet)
      walk(item, i + 1, own ? charsetTerms(latin1(own.value)) : charsets)
    }
  }
  walk(elements, 0, context.charsets)
  return values.every((v) => v === '') ? '' : values.join(context.separator ?? '\\')
}

/** The projector as a Transform stream (object mode: HeaderRecords in, Rows out). */
export function projectKeywords(columns: readonly ColumnSpec[], options: ProjectOptions = {}): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(record: HeaderRecord, _encoding, callback) {
      const row = projectRow(record, columns, options)
      options.onRow?.(record, row)
      callback(null, row)
    },
  })
}
