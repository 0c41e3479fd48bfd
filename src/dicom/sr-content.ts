/**
 * SR content items (PS3.3 C.17.3, Table C.17-5 and C.18.x): their concept names, and their
 * values as their ValueType (0040,A040) says. Pure: items in, typed values out.
 *
 *   NUM                 MeasuredValueSequence[0].NumericValue, a number (`@unit`: its
 *                       MeasurementUnitsCodeSequence[0].CodeValue, UCUM: `mGy.cm`)
 *   TEXT                TextValue
 *   CODE                ConceptCodeSequence[0].CodeMeaning (`@code`: its CodeValue)
 *   UIDREF              UID
 *   DATETIME, DATE, TIME  DateTime, Date, Time (dates as stored)
 *   PNAME               PersonName
 *   CONTAINER and others  null
 */
import { decodeValue, type FormatContext } from './format-value.js'
import { latin1, type DataElement } from './data-element.js'
import { readItems } from './items.js'
import type { ConceptCode } from './paths.js'
import { convertUnit } from './units.js'
import { Decimal, type Value } from '../values.js'

export const SrTags = {
  ContentSequence: 0x0040a730,
  ConceptNameCodeSequence: 0x0040a043,
  ValueType: 0x0040a040,
  CodeValue: 0x00080100,
  CodingSchemeDesignator: 0x00080102,
  CodeMeaning: 0x00080104,
  LongCodeValue: 0x00080119,
  URNCodeValue: 0x00080120,
  MeasuredValueSequence: 0x0040a300,
  NumericValue: 0x0040a30a,
  MeasurementUnitsCodeSequence: 0x004008ea,
  TextValue: 0x0040a160,
  ConceptCodeSequence: 0x0040a168,
  UID: 0x0040a124,
  DateTime: 0x0040a120,
  Date: 0x0040a121,
  Time: 0x0040a122,
  PersonName: 0x0040a123,
} as const

/** What a column takes of a content item: its value, its code (CODE) or its unit (NUM). */
export type ContentPart = 'value' | 'code' | 'unit'

/** A column's reading of content items: the part, and for NUM values the unit to convert to. */
export interface ContentSpec {
  part: ContentPart
  unit?: string
}

/** A coded entry (PS3.3 Table 8.8-1): value, scheme, meaning as stored. */
export interface Code {
  value: string
  scheme: string
  meaning: string
}

/** A content item (or any data set): its elements by tag. */
type Item = ReadonlyMap<number, DataElement>

const VALUE_TAGS: Readonly<Record<string, number>> = {
  TEXT: SrTags.TextValue,
  UIDREF: SrTags.UID,
  DATETIME: SrTags.DateTime,
  DATE: SrTags.Date,
  TIME: SrTags.Time,
  PNAME: SrTags.PersonName,
}

/** The text of a short string element, padding removed; '' when absent. */
function text(item: Item, tag: number): string {
  const element = item.get(tag)
  return element
    ? latin1(element.value)
        .replace(/[\0 ]+$/, '')
        .trim()
    : ''
}

/** The first item of a sequence, or undefined (absent, empty, unreadable). */
function firstItem(item: Item, tag: number, littleEndian: boolean): Map<number, DataElement> | undefined {
  const element = item.get(tag)
  if (!element) return undefined
  try {
    return readItems(element, littleEndian)[0]
  } catch {
    return undefined
  }
}

/** The code of the first item of a code sequence (ConceptNameCodeSequence, ConceptCodeSequence...). */
export function codeOf(item: Item, sequenceTag: number, context: FormatContext): Code | undefined {
  const code = firstItem(item, sequenceTag, context.littleEndian)
  if (!code) return undefined
  const value = text(code, SrTags.CodeValue) || text(code, SrTags.LongCodeValue) || text(code, SrTags.URNCodeValue)
  const meaning = code.get(SrTags.CodeMeaning)
  const decoded = meaning ? decodeValue(meaning, context) : null
  return {
    value,
    scheme: text(code, SrTags.CodingSchemeDesignator),
    meaning: typeof decoded === 'string' ? decoded : '',
  }
}

/** True when an item's concept name (ConceptNameCodeSequence[0]) is `code`: value, and scheme if given. */
export function hasConceptName(item: Item, code: ConceptCode, littleEndian: boolean): boolean {
  const name = firstItem(item, SrTags.ConceptNameCodeSequence, littleEndian)
  if (!name) return false
  const value = text(name, SrTags.CodeValue) || text(name, SrTags.LongCodeValue) || text(name, SrTags.URNCodeValue)
  return (
    value === code.value && (code.scheme === undefined || text(name, SrTags.CodingSchemeDesignator) === code.scheme)
  )
}

/** A content item's ValueType (`NUM`, `CONTAINER`...), '' when absent. */
export function valueType(item: Item): string {
  return text(item, SrTags.ValueType)
}

/** The measured value of a NUM item: its number (null if none) and unit code ('' if none). */
export function measuredValue(
  item: Item,
  context: FormatContext,
): { number: number | Decimal | null; stored: string; unit: string } {
  const measured = firstItem(item, SrTags.MeasuredValueSequence, context.littleEndian)
  if (!measured) return { number: null, stored: '', unit: '' }
  const unit = firstItem(measured, SrTags.MeasurementUnitsCodeSequence, context.littleEndian)
  const element = measured.get(SrTags.NumericValue)
  const stored = element
    ? latin1(element.value)
        .replace(/[\0 ]+$/, '')
        .trim()
    : ''
  const number = element ? decodeValue(element, context) : null
  return {
    // NumericValue is one DS (VM 1): several values are not one number.
    number: typeof number === 'number' || number instanceof Decimal ? number : null,
    stored,
    unit: unit ? text(unit, SrTags.CodeValue) : '',
  }
}

/**
 * The value of a content item as `content` asks. `name` (the column) and the warning callback
 * of `context` report what is left empty: a NumericValue that is not one number (Toshiba's
 * `10.50/ 15.00`), a unit that cannot be converted. Never a wrong number.
 */
export function contentValue(item: Item, content: ContentSpec, context: FormatContext, name: string): Value {
  const type = valueType(item)
  if (content.part === 'code')
    return type === 'CODE' ? codeOf(item, SrTags.ConceptCodeSequence, context)?.value || null : null
  if (type === 'NUM') {
    // The DS decoder warns about an invalid number itself; a backslash is warned about here.
    const warnless = { ...context, warn: undefined }
    const { number, stored, unit } = measuredValue(item, warnless)
    if (content.part === 'unit') return unit || null
    if (number === null) {
      if (stored !== '') context.warn?.(`${name}: NumericValue "${stored}" is not one number; left empty`)
      return null
    }
    if (content.unit === undefined) return number
    const converted = convertUnit(number, unit, content.unit)
    if (typeof converted === 'string') {
      context.warn?.(`${name}: ${unit === '' ? 'no unit' : converted}; cannot give ${content.unit}, left empty`)
      return null
    }
    return converted
  }
  if (content.part === 'unit') return null
  if (content.unit !== undefined) {
    // A number in a unit was asked for: another value type (a TEXT "1000 mGy" where the template
    // says NUM) is no number, never passed on as text in a number column.
    context.warn?.(
      `${name}: a ${type || 'content item without a ValueType'}, not a NUM; cannot give ${content.unit}, left empty`,
    )
    return null
  }
  if (type === 'CODE') return codeOf(item, SrTags.ConceptCodeSequence, context)?.meaning || null
  if (!Object.hasOwn(VALUE_TAGS, type)) return null
  const element = item.get(VALUE_TAGS[type])
  return element ? decodeValue(element, context) : null
}

/**
 * DCM concept names of NUM content in the radiation dose reports (TID 10001-10014: CT and
 * projection X-ray), all seen in the OpenREM test files: a column that ends in one of them is a
 * number column before any file is read. Other `sr:` columns are text, unless they convert a unit.
 */
export const DOSE_NUM_CONCEPTS: ReadonlySet<string> = new Set([
  '113722',
  '113725',
  '113727',
  '113729',
  '113733',
  '113734',
  '113736',
  '113738',
  '113766',
  '113768',
  '113812',
  '113813',
  '113823',
  '113824',
  '113825',
  '113826',
  '113827',
  '113828',
  '113830',
  '113833',
  '113834',
  '113838',
  '113855',
  '113893',
  '113895',
  '113896',
  '113899',
  '113903',
  '113904',
  '113905',
  '113906',
  '122130',
])
