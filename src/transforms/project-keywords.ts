/**
 * Keyword projector: turns each header into a row of typed values, in column order (or, with
 * {@link projectRow}, of cell texts). A missing attribute is null (an empty cell). Values are
 * decoded per VR by format-value.
 */
import { Transform } from 'node:stream'
import { parseCharsets } from '../dicom/charset.js'
import { decodeValue, type FormatContext, type FormatOptions } from '../dicom/format-value.js'
import { formatTag, Tags } from '../dicom/keywords.js'
import { findElement, type PathStep } from '../dicom/paths.js'
import { FRAME_TAGS, frameElements, numberOfFrames, type FrameElement } from '../dicom/frames.js'
import { latin1, type DataElement } from '../dicom/data-element.js'
import { readItems } from '../dicom/items.js'
import { contentValue, hasConceptName, type ContentSpec } from '../dicom/sr-content.js'
import { planRead, type ReadPlan } from '../dicom/read-plan.js'
import { displayPath } from '../io/fs-path.js'
import type { ColumnSpec } from '../pipeline/spec.js'
import type { HeaderRecord } from '../records.js'
import { rowText, type Row, type Value } from '../values.js'

/** Options of {@link projectKeywords}. */
export interface ProjectOptions {
  /** How cells are written (separator, dates, names, binary values, fallback character set). */
  format?: FormatOptions
  /** Told of every row made, with the header it came from (incremental runs record it). */
  onRow?: (record: HeaderRecord, row: Row) => void
  /** Warnings about values (an invalid number left empty), with the file they come from. */
  onWarning?: (path: string, message: string) => void
  /** The frame the row stands for (the `frame` column), 1-based; absent for a row per file. */
  frame?: number
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

/** The read plan of a list of columns; per frame, with the functional groups the frames come from. */
export function columnPlan(columns: readonly ColumnSpec[], perFrame = false): ReadPlan {
  const tags = columnTags(columns)
  if (perFrame) tags.push(...FRAME_TAGS)
  return planRead(tags, { groups: columnGroups(columns) })
}

/** True when a column needs the file's stat (size_bytes, mtime). */
export function needsStat(columns: readonly ColumnSpec[]): boolean {
  return columns.some(
    (c) => c.source.kind === 'pseudo' && (c.source.name === 'size_bytes' || c.source.name === 'mtime'),
  )
}

/**
 * The rows of one header per frame (`rows: per_frame`): for an Enhanced multi-frame image, each
 * frame's attributes from its functional groups over the shared ones over the top level
 * (`dicom/frames.ts`); for a classic multi-frame image, NumberOfFrames rows of the top-level
 * values; otherwise one row, frame 1. A broken functional group gives one row per file with a
 * warning.
 */
export function projectFrames(
  record: HeaderRecord,
  columns: readonly ColumnSpec[],
  options: ProjectOptions = {},
): Row[] {
  const { header, path } = record
  const warn = options.onWarning ? (message: string) => options.onWarning?.(path, message) : undefined
  let frames: Map<number, FrameElement>[] | undefined
  try {
    frames = frameElements(header.elements, header.littleEndian, { warn })
  } catch (err) {
    warn?.(`${(err as Error).message}: one row for the file`)
    return [projectValues(record, columns, options)]
  }
  if (frames) {
    return frames.map((elements, i) =>
      projectValues({ path, header: { ...header, elements } }, columns, { ...options, frame: i + 1 }),
    )
  }
  const count = numberOfFrames(header.elements) ?? 1
  const rows: Row[] = []
  for (let frame = 1; frame <= Math.max(1, count); frame++)
    rows.push(projectValues(record, columns, { ...options, frame }))
  return rows
}

const NO_CHARSETS: readonly string[] = []
const UTF8: readonly string[] = ['ISO_IR 192']
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

/** The character sets inside an item: its own Specific Character Set, else those around it (UTF-8 throughout for DICOM JSON). */
function itemCharsets(
  item: ReadonlyMap<number, DataElement>,
  around: readonly string[],
  context: FormatContext,
): readonly string[] {
  if (context.utf8) return around
  const own = item.get(Tags.SpecificCharacterSet)
  return own ? charsetTerms(latin1(own.value)) : around
}

/** How a header's values are decoded: its byte order, its character sets, warnings naming its file. */
function headerContext({ header, path }: HeaderRecord, options: ProjectOptions): FormatContext {
  const onWarning = options.onWarning
  const warn = onWarning ? (message: string) => onWarning(path, message) : undefined
  if (header.textUtf8) return { ...options.format, littleEndian: header.littleEndian, charsets: UTF8, utf8: true, warn }
  const charsetElement = header.elements.get(Tags.SpecificCharacterSet)
  const charsets = charsetElement ? charsetTerms(latin1(charsetElement.value)) : NO_CHARSETS
  return { ...options.format, littleEndian: header.littleEndian, charsets, warn }
}

/** The row of one header as cell texts, written with the `format` options as the CSV sink writes them. */
export function projectRow(
  record: HeaderRecord,
  columns: readonly ColumnSpec[],
  options: ProjectOptions = {},
): string[] {
  return rowText(projectValues(record, columns, options), options.format)
}

/** The row of one header: one typed value per column. */
export function projectValues(record: HeaderRecord, columns: readonly ColumnSpec[], options: ProjectOptions = {}): Row {
  const { header, path } = record
  const context = headerContext(record, options)
  const warn = context.warn
  let metaContext: FormatContext | undefined
  const row: Row = new Array<Value>(columns.length)
  const damage = header.damage
  if (damage && warn) warn(`data set unreadable from ${formatTag(damage.tag)} at byte ${damage.at}: ${damage.reason}`)
  for (let i = 0; i < columns.length; i++) {
    const source = columns[i].source
    if (source.kind === 'pseudo') {
      if (source.name === 'path') row[i] = displayPath(path)
      else if (source.name === 'size_bytes') row[i] = header.size ?? null
      else if (source.name === 'frame') row[i] = options.frame ?? null
      else row[i] = header.mtime ? header.mtime.toISOString() : null
      continue
    }
    if (source.path) {
      row[i] = pathValue(
        header.elements,
        source.path,
        context,
        source.content && { ...source.content, name: columns[i].name },
      )
      if (row[i] === null && damage && source.tag >= damage.tag)
        warn?.(`${columns[i].name}: unreadable: ${damage.reason}`)
      continue
    }
    const element: FrameElement | undefined = header.elements.get(source.tag)
    // The file meta is always explicit VR little endian, whatever the data set's syntax.
    if (!element) {
      row[i] = null
      // A tag at or after the damage may be in the file, past what could be read.
      if (damage && source.tag >= damage.tag && source.tag >>> 16 !== 0x0002) {
        warn?.(`${columns[i].name}: unreadable: ${damage.reason}`)
      }
    } else if (element.charsets && !context.utf8)
      row[i] = decodeValue(element, { ...context, charsets: element.charsets })
    else if (source.tag >>> 16 !== 0x0002) row[i] = decodeValue(element, context)
    else row[i] = decodeValue(element, (metaContext ??= { ...context, littleEndian: true }))
  }
  return row
}

/**
 * The rows of one header per content item (`rows: {per_item: ...}`): one row per item the path
 * reaches (every item its last step matches), none when it reaches none. A column whose path
 * starts with the item path (the same sequences and codes, whatever their item selectors) is
 * read from the row's item; the others are the file's, the same in each row.
 */
export function projectItems(
  record: HeaderRecord,
  columns: readonly ColumnSpec[],
  itemSteps: readonly PathStep[],
  options: ProjectOptions = {},
): Row[] {
  const { header } = record
  const context = headerContext(record, options)
  const items = reachItems(header.elements, itemSteps, context)
  if (items.length === 0) return []
  const relative = columns.map((c) => {
    const source = c.source
    if (source.kind !== 'element' || !source.path || !startsWith(source.path, itemSteps)) return undefined
    return {
      steps: source.path.slice(itemSteps.length),
      content: source.content && { ...source.content, name: c.name },
    }
  })
  const base = projectValues(record, columns, options)
  return items.map(({ item, charsets: here }) => {
    const row = [...base]
    const inItem = { ...context, charsets: here }
    relative.forEach((rel, i) => {
      if (!rel) return
      if (rel.steps.length > 0) row[i] = pathValue(item, rel.steps, inItem, rel.content)
      else row[i] = rel.content ? contentValue(item, rel.content, inItem, rel.content.name) : null
    })
    return row
  })
}

/** Whether a path goes through `prefix`: the same tags and codes, step by step. */
function startsWith(steps: readonly PathStep[], prefix: readonly PathStep[]): boolean {
  if (steps.length < prefix.length) return false
  return prefix.every((p, i) => {
    const s = steps[i]
    return (
      s.tag === p.tag &&
      s.creator === p.creator &&
      s.code?.value === p.code?.value &&
      (s.code?.scheme ?? '') === (p.code?.scheme ?? '')
    )
  })
}

/** The items a path reaches: its steps' selectors, and every match of its last step. */
function reachItems(
  elements: ReadonlyMap<number, DataElement>,
  steps: readonly PathStep[],
  context: FormatContext,
): { item: Map<number, DataElement>; charsets: readonly string[] }[] {
  const reached: { item: Map<number, DataElement>; charsets: readonly string[] }[] = []
  const walk = (level: ReadonlyMap<number, DataElement>, i: number, charsets: readonly string[]): void => {
    const step = steps[i]
    const element = findElement(level, step)
    if (!element) return
    let items: Map<number, DataElement>[]
    try {
      items = readItems(element, context.littleEndian)
    } catch (err) {
      context.warn?.(`cannot read the items of ${formatTag(element.tag)}: ${(err as Error).message}`)
      return
    }
    const code = step.code
    if (code) items = items.filter((item) => hasConceptName(item, code, context.littleEndian))
    const last = i === steps.length - 1
    const chosen = last || step.item === '*' ? items : items.slice(Number(step.item ?? 0), Number(step.item ?? 0) + 1)
    for (const item of chosen) {
      const here = itemCharsets(item, charsets, context)
      if (last) reached.push({ item, charsets: here })
      else walk(item, i + 1, here)
    }
  }
  walk(elements, 0, context.charsets)
  return reached
}

/**
 * The value of a path: followed through the chosen items of each sequence (by index, or the
 * items whose concept name is the step's code). Through `[*]`, one value per item reached, as
 * an array: null where an item lacks the attribute, or the item or sequence a later step names
 * (so that the values line up with the items); otherwise the one value. With `content` (an
 * `sr:` column), the last step chooses SR content items and gives their values. An item's own
 * Specific Character Set applies inside it. A broken sequence gives null and a warning.
 */
function pathValue(
  elements: ReadonlyMap<number, DataElement>,
  steps: readonly PathStep[],
  context: FormatContext,
  content?: ContentSpec & { name: string },
): Value {
  const values: Value[] = []
  const last = steps.length - 1
  const walk = (level: ReadonlyMap<number, DataElement>, i: number, charsets: readonly string[]): void => {
    const step = steps[i]
    const element = findElement(level, step)
    if (i === last && !content) {
      values.push(element ? decodeValue(element, { ...context, charsets }) : null)
      return
    }
    // A step that chooses one item holds a place in the values, found or not; `[*]` one per item.
    const one = step.item !== '*'
    if (!element) {
      if (one) values.push(null)
      return
    }
    let items: Map<number, DataElement>[]
    try {
      items = readItems(element, context.littleEndian)
    } catch (err) {
      context.warn?.(`cannot read the items of ${formatTag(element.tag)}: ${(err as Error).message}`)
      if (one) values.push(null)
      return
    }
    const code = step.code
    if (code) items = items.filter((item) => hasConceptName(item, code, context.littleEndian))
    const chosen = one ? items.slice(Number(step.item), Number(step.item) + 1) : items
    if (one && chosen.length === 0) values.push(null)
    for (const item of chosen) {
      const here = itemCharsets(item, charsets, context)
      if (i === last && content) values.push(contentValue(item, content, { ...context, charsets: here }, content.name))
      else walk(item, i + 1, here)
    }
  }
  walk(elements, 0, context.charsets)
  if (values.every((v) => v === null || v === '')) return null
  return steps.some((step) => step.item === '*') ? values : values[0]
}

/** The projector as a Transform stream (object mode: HeaderRecords in, Rows of typed values out). */
export function projectKeywords(columns: readonly ColumnSpec[], options: ProjectOptions = {}): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(record: HeaderRecord, _encoding, callback) {
      const row = projectValues(record, columns, options)
      options.onRow?.(record, row)
      callback(null, row)
    },
  })
}
