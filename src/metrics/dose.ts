/**
 * The dose metric (`dose:` in a pipeline file): the DLP of CT series from their image headers,
 * by the method of `dlp.ts`, as a metric module (`metric.ts`). Its stages and accumulator:
 *
 * - `locateSlices`, before the sorter, appends each row's slice position (`position_mm`), null
 *   for an image that does not count, so that the sorter can order each series along the scan.
 * - `deriveMetrics`, after it (without `group_by`), appends the length each slice stands for
 *   (`interval_mm`), its DLP contribution (`dlp_mGycm`) and a note (`dose_note`). State: the rows
 *   of at most three slice positions of the current series (one row each unless positions
 *   repeat), held until the positions around them are known; the series' rows come out in the
 *   order they went in.
 * - `seriesDoseAccumulator`, per group (with `group_by`): the series' dose columns. State: the
 *   slices of up to three positions (`SliceWindow`) and the series sums (`SeriesDose`); never
 *   the group's rows.
 */
import { Transform } from 'node:stream'
import { DEFAULT_PRECISION, computedNumber, valueNumber, valueText, type Precision } from '../values.js'
import {
  SERIES_DOSE_COLUMNS,
  SERIES_DOSE_KINDS,
  SLICE_DOSE_COLUMNS,
  SLICE_DOSE_KINDS,
  SeriesDose,
  SliceWindow,
  locateSlice,
  seriesDoseCells,
  sliceDlp,
  sliceNotes,
  type DoseSlice,
  type Location,
  type PlacedSlice,
  type RegionSetting,
  type SliceCells,
} from './dlp.js'
import { REGIONS } from './effective-dose.js'
import {
  findNeeds,
  type ColumnsOf,
  type ConfigOf,
  type GroupAccumulator,
  type MetricColumn,
  type MetricModule,
} from './metric.js'
import type { ColumnSpec, Row } from '../records.js'
import { compareRows } from '../transforms/sort-rows.js'

/**
 * What the DLP of image series reads, in the order a message names the missing ones (the dose
 * metrics per exam read it too).
 */
export const IMAGE_NEEDS = {
  series: { keyword: 'SeriesInstanceUID' },
  imageType: { keyword: 'ImageType' },
  orientation: { keyword: 'ImageOrientationPatient' },
  imagePosition: { keyword: 'ImagePositionPatient' },
  sliceLocation: { keyword: 'SliceLocation' },
  ctdivol: { keyword: 'CTDIvol' },
  /** For the overlap note. */
  thickness: { keyword: 'SliceThickness', optional: true },
  /** For the k-factor when the region is `auto`. */
  bodyPart: { keyword: 'BodyPartExamined', optional: true },
} as const

/** The attributes dose reads: the images', and what orders the slices. */
const NEEDS = {
  ...IMAGE_NEEDS,
  /** Per slice, the rows come by study (its date first), then series number, when extracted. */
  study: { keyword: 'StudyInstanceUID', optional: true },
  studyDate: { keyword: 'StudyDate', optional: true },
  seriesNumber: { keyword: 'SeriesNumber', optional: true },
} as const

/** The fields of the `dose:` block. */
const FIELDS = {
  region: {
    default: 'auto',
    doc:
      'The body region whose k-factor gives the effective dose estimate; `auto` maps BodyPartExamined ' +
      '(then extracted too) to a region.',
    example: 'region: CHEST',
    type: { kind: 'enum', values: ['auto', ...REGIONS] },
  },
} as const

/** Dose columns: per slice, or per group when the pipeline is grouped (the `dose:` block). */
export type DoseSpec = ConfigOf<typeof FIELDS>

/** Where the attributes a dose computation reads are in a row: column indexes. */
export type DoseColumns = Omit<ColumnsOf<typeof NEEDS>, 'series' | 'study' | 'studyDate' | 'seriesNumber'>

/** The DICOM keyword of each attribute of {@link DoseColumns}. */
export const DOSE_KEYWORDS: Readonly<Record<keyof DoseColumns, string>> = {
  imageType: NEEDS.imageType.keyword,
  orientation: NEEDS.orientation.keyword,
  imagePosition: NEEDS.imagePosition.keyword,
  sliceLocation: NEEDS.sliceLocation.keyword,
  ctdivol: NEEDS.ctdivol.keyword,
  thickness: NEEDS.thickness.keyword,
  bodyPart: NEEDS.bodyPart.keyword,
}

/** The keywords a dose pipeline must extract: those of {@link DoseColumns} and SeriesInstanceUID. */
export const REQUIRED_DOSE_KEYWORDS = Object.values(NEEDS).flatMap((need) => ('optional' in need ? [] : [need.keyword]))

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
  const { columns, found, missing } = findNeeds(NEEDS, extracted)
  return { ...(columns && { columns }), series: found.series ?? -1, missing }
}

/** Column names and their kinds, side by side, as metric columns. */
function metricColumns(names: readonly string[], kinds: readonly MetricColumn['kind'][]): MetricColumn[] {
  return names.map((name, i) => ({ name, kind: kinds[i] }))
}

/** The dose metric. */
export const dose: MetricModule<'dose', typeof NEEDS, typeof FIELDS> = {
  key: 'dose',
  doc:
    'Dose columns computed from CT image headers (see "Dose metrics"): per slice, or per series with ' +
    '`group_by`. It reads ImageType, ImageOrientationPatient, ImagePositionPatient, SliceLocation, CTDIvol ' +
    'and SeriesInstanceUID, which must be extracted (under any name), and SliceThickness when it is. Per slice, ' +
    'the rows come by study (StudyDate, then StudyInstanceUID, when that is extracted), SeriesNumber (when ' +
    'extracted), series and position.',
  example: 'dose: {region: auto}',
  fields: FIELDS,
  needs: NEEDS,
  beforeColumns: metricColumns(SLICE_DOSE_COLUMNS.slice(0, 1), SLICE_DOSE_KINDS.slice(0, 1)),
  rowColumns: metricColumns(SLICE_DOSE_COLUMNS.slice(1), SLICE_DOSE_KINDS.slice(1)),
  groupColumns: metricColumns(SERIES_DOSE_COLUMNS, SERIES_DOSE_KINDS),
  summary: 'dose per slice',
  check({ config, found, missing, columns, groupBy, report, at }) {
    if (config.region === 'auto' && missing.length === 0 && found.bodyPart === undefined) {
      report(at('region'), 'region auto reads BodyPartExamined: extract it, or name the region (e.g. region: CHEST)')
    }
    if (groupBy && found.series !== undefined && !groupBy.includes(columns[found.series].name)) {
      report('group_by', `dose is per series: group_by must include ${columns[found.series].name}`)
    }
  },
  plan({ columns, config, width, precision, grouped }) {
    // Per slice, the series in reading order: by study (chronological: StudyDate, then the
    // StudyInstanceUID that tells studies apart), then by SeriesNumber (a number: 2 before 10),
    // each where extracted, then by SeriesInstanceUID. Per group, the group_by columns order
    // the series, and a group is one series (its rows only by position).
    const byStudy = columns.study === undefined ? [] : [columns.studyDate, columns.study]
    const series = grouped
      ? [columns.series]
      : [...byStudy, columns.seriesNumber, columns.series].filter((index) => index !== undefined)
    return {
      before: () => locateSlices(columns),
      sortKeys: [...series, width].map((index) => ({ index, descending: false })),
      perRow: () => deriveMetrics({ series, columns, position: width, precision }),
      perGroup: () => seriesDoseAccumulator({ columns, position: width, region: config.region, precision }),
    }
  },
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
  /** Significant digits of `interval_mm` and `dlp_mGycm`. Default {@link DEFAULT_PRECISION}. */
  precision?: Precision
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
  const precision = options.precision ?? DEFAULT_PRECISION
  const output = (slice: PlacedSlice<SliceRow>): Row => [
    ...slice.item.row,
    computedNumber(slice.intervalMm, precision),
    computedNumber(sliceDlp(slice), precision),
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

/** Options of {@link seriesDoseAccumulator}. */
export interface SeriesDoseOptions {
  columns: DoseColumns
  /** The column `locateSlices` appended. */
  position: number
  region: RegionSetting
  /** Significant digits of the computed columns. Default {@link DEFAULT_PRECISION}. */
  precision?: Precision
}

/**
 * The dose columns of a group (`SERIES_DOSE_COLUMNS`), from its rows as `locateSlices` leaves
 * them, sorted by position (empty positions last).
 */
export function seriesDoseAccumulator({ columns, position, region, precision }: SeriesDoseOptions): GroupAccumulator {
  const window = new SliceWindow<DoseSlice>()
  const series = new SeriesDose()
  /** An excluded image has been seen: only more of them may follow (they sort last). */
  let excludedSeen = false
  return {
    add(row) {
      const location = locateSlice(sliceCells(row, columns))
      const at = row[position]
      if (location.excluded || typeof at !== 'number') {
        excludedSeen = true
        series.exclude(location.excluded ?? 'no position')
        return
      }
      if (excludedSeen) {
        throw new Error('groupRows needs the rows of a group sorted by position: a row came out of order')
      }
      for (const slice of window.push(at, doseSlice(row, columns, location))) series.add(slice)
    },
    result() {
      for (const slice of window.end()) series.add(slice)
      return seriesDoseCells(series.result(region), precision)
    },
  }
}
