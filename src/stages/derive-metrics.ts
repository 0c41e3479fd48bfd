/**
 * Dose columns of each slice, in two stages around the sorter (the method is in
 * `metrics/dlp.ts`):
 *
 * - `locateSlices`, before it, appends each row's slice position (`position_mm`), null for an
 *   image that does not count, so that the sorter can order each series along the scan.
 * - `deriveMetrics`, after it, appends the length each slice stands for (`interval_mm`), its DLP
 *   contribution (`dlp_mGycm`) and a note (`dose_note`). State: the rows of at most three slice
 *   positions of the current series (one row each unless positions repeat), held until the
 *   positions around them are known; the series' rows come out in the order they went in.
 */
import { Transform } from 'node:stream'
import { computedNumber, valueNumber, valueText } from '../values.js'
import {
  SliceWindow,
  locateSlice,
  sliceDlp,
  sliceNotes,
  type DoseSlice,
  type Location,
  type PlacedSlice,
  type SliceCells,
} from '../metrics/dlp.js'
import type { ColumnSpec } from '../pipeline/spec.js'
import type { Row } from '../records.js'
import { compareRows } from './sort-rows.js'

/** Where the attributes a dose computation reads are in a row: column indexes. */
export interface DoseColumns {
  imageType: number
  orientation: number
  imagePosition: number
  sliceLocation: number
  ctdivol: number
  /** For the overlap note. */
  thickness?: number
  /** For the k-factor when the region is `auto`. */
  bodyPart?: number
}

/** The DICOM keyword of each attribute of {@link DoseColumns}. */
export const DOSE_KEYWORDS: Readonly<Record<keyof DoseColumns, string>> = {
  imageType: 'ImageType',
  orientation: 'ImageOrientationPatient',
  imagePosition: 'ImagePositionPatient',
  sliceLocation: 'SliceLocation',
  ctdivol: 'CTDIvol',
  thickness: 'SliceThickness',
  bodyPart: 'BodyPartExamined',
}

/** The keywords a dose pipeline must extract: those of {@link DoseColumns} and SeriesInstanceUID. */
export const REQUIRED_DOSE_KEYWORDS = [
  'SeriesInstanceUID',
  DOSE_KEYWORDS.imageType,
  DOSE_KEYWORDS.orientation,
  DOSE_KEYWORDS.imagePosition,
  DOSE_KEYWORDS.sliceLocation,
  DOSE_KEYWORDS.ctdivol,
]

/**
 * Finds the columns a dose computation reads among extracted ones, by keyword (the first column
 * of each; attributes at the top level of the data set, not in sequences). `missing` lists the
 * required keywords that are not extracted; `series` is the SeriesInstanceUID column.
 */
export function findDoseColumns(extracted: readonly ColumnSpec[]): {
  columns?: DoseColumns
  series: number
  missing: string[]
} {
  const find = (keyword: string) =>
    extracted.findIndex((c) => c.source.kind === 'element' && !c.source.path && c.source.keyword === keyword)
  const missing = REQUIRED_DOSE_KEYWORDS.filter((keyword) => find(keyword) < 0)
  const optional = (keyword: string) => (find(keyword) < 0 ? undefined : find(keyword))
  const series = find('SeriesInstanceUID')
  if (missing.length > 0) return { series, missing }
  const columns: DoseColumns = {
    imageType: find(DOSE_KEYWORDS.imageType),
    orientation: find(DOSE_KEYWORDS.orientation),
    imagePosition: find(DOSE_KEYWORDS.imagePosition),
    sliceLocation: find(DOSE_KEYWORDS.sliceLocation),
    ctdivol: find(DOSE_KEYWORDS.ctdivol),
    thickness: optional(DOSE_KEYWORDS.thickness),
    bodyPart: optional(DOSE_KEYWORDS.bodyPart),
  }
  return { columns, series, missing }
}

/** The header cells of a row that locate its slice. */
export function sliceCells(row: Row, columns: DoseColumns): SliceCells {
  return {
    imageType: row[columns.imageType],
    orientation: row[columns.orientation],
    imagePosition: row[columns.imagePosition],
    sliceLocation: row[columns.sliceLocation],
  }
}

/** What a row's slice brings to its series' dose. */
export function doseSlice(row: Row, columns: DoseColumns, location: Location): DoseSlice {
  const optional = (index: number | undefined) => (index === undefined ? undefined : valueNumber(row[index]))
  return {
    ctdivol: valueNumber(row[columns.ctdivol]),
    thicknessMm: optional(columns.thickness),
    bodyPart: columns.bodyPart === undefined ? undefined : valueText(row[columns.bodyPart]) || undefined,
    positionNote: location.excluded ? undefined : location.note,
  }
}

/** A row with its slice position appended (null when the image does not count). */
export function locateRow(row: Row, columns: DoseColumns): Row {
  const location = locateSlice(sliceCells(row, columns))
  row.push(location.excluded ? null : computedNumber(location.position))
  return row
}

/** Appends `position_mm` to each row (object mode: Rows in, the same Rows out). */
export function locateSlices(columns: DoseColumns): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(row: Row, _encoding, callback) {
      callback(null, locateRow(row, columns))
    },
  })
}

/** Options of {@link deriveMetrics}. */
export interface DeriveMetricsOptions {
  /** The columns that tell series apart (the rows come sorted by them, then by position). */
  series: readonly number[]
  columns: DoseColumns
  /** The column `locateSlices` appended. */
  position: number
}

/**
 * Appends `interval_mm`, `dlp_mGycm` and `dose_note` to rows sorted by series and then by
 * `position_mm` (empty positions last), as `locateSlices` and the sorter leave them.
 * @throws Error (destroying the stream) on rows out of that order.
 */
export function deriveMetrics(options: DeriveMetricsOptions): Transform {
  const { columns, position } = options
  const sameSeries = compareRows(options.series.map((index) => ({ index, descending: false })))
  const window = new SliceWindow<SliceRow>()
  let previous: Row | undefined
  /** An excluded image has been seen in this series: only more of them may follow. */
  let excludedSeen = false
  const output = (slice: PlacedSlice<SliceRow>): Row => [
    ...slice.item.row,
    computedNumber(slice.intervalMm),
    computedNumber(sliceDlp(slice)),
    sliceNotes(slice).join('; ') || null,
  ]
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(row: Row, _encoding, callback) {
      if (previous) {
        const order = sameSeries(previous, row)
        if (order > 0) return callback(unsorted('series'))
        if (order !== 0) {
          for (const placed of window.end()) this.push(output(placed))
          excludedSeen = false
        }
      }
      previous = row
      const location = locateSlice(sliceCells(row, columns))
      const at = row[position]
      if (typeof at !== 'number') {
        for (const placed of window.end()) this.push(output(placed))
        excludedSeen = true
        const reason = location.excluded ?? 'no position'
        return callback(null, [...row, null, null, `excluded: ${reason}`])
      }
      if (excludedSeen) return callback(unsorted('position'))
      let placed: PlacedSlice<SliceRow>[]
      try {
        placed = window.push(at, { ...doseSlice(row, columns, location), row })
      } catch (err) {
        return callback(err as Error)
      }
      for (const slice of placed) this.push(output(slice))
      callback()
    },
    flush(callback) {
      for (const placed of window.end()) this.push(output(placed))
      callback()
    },
  })
}

/** A slice with the row it came from. */
interface SliceRow extends DoseSlice {
  row: Row
}

function unsorted(what: string): Error {
  return new Error(`deriveMetrics needs rows sorted by series, then position: a row came out of ${what} order`)
}
