/**
 * Dose-Length Product of CT series from their image headers: DLP = sum_i CTDIvol_i x L_i, where
 * L_i is the length along the scan that image i stands for. Pure code, fed by the stages
 * (`derive-metrics` per slice, `group-rows` per series) with the slices of a series in position
 * order.
 *
 * 1. Which images count, and where each is (`locateSlice`, per image): a localizer (ImageType
 *    contains LOCALIZER) and an image whose plane is more than 45° from axial (its normal, from
 *    ImageOrientationPatient, has |z| < cos 45°) are excluded, and counted. The position is
 *    SliceLocation when it agrees with ImagePositionPatient projected on the slice normal
 *    (within `TOLERANCE_MM`) or when there is no projection; otherwise the projection. An image
 *    with neither is excluded.
 * 2. The length of each image (`SliceWindow`, over the sorted positions of a series): each
 *    distinct position stands for the slab between the midpoints to its neighbours,
 *    L_j = (e_{j-1} + e_j) / 2, where e_j is the spacing to the next position. The first and
 *    last positions mirror their one spacing (L_1 = e_1, L_n = e_{n-1}), so n positions a
 *    uniform s apart give L = s each, n x s in all. A spacing over `GAP_FACTOR` times the
 *    smaller of its neighbouring spacings is a gap (missing images, or two ranges in one
 *    series): it counts as that neighbouring spacing, and is flagged. Images at a position
 *    already seen (within `TOLERANCE_MM`) get L = 0 and are flagged: the first image there
 *    stands for it. A series with a single position has no L.
 * 3. The DLP of a series (`SeriesDose`): the sum of CTDIvol_i x L_i / 10 (mm to cm) over its
 *    images, empty with a note when it has no image with an L, or when an image that counts has
 *    no CTDIvol. Overlapping reconstruction (interval below SliceThickness) needs nothing: L is
 *    the interval, not the thickness. It is noted.
 */
import { formatNumber } from './cells.js'
import {
  DEFAULT_PRECISION,
  computedNumber,
  valueNumber,
  valueNumbers,
  valueStrings,
  type Precision,
  type Value,
} from '../values.js'
import { K_FACTORS, regionOfBodyPart, type Region } from './effective-dose.js'

/** Positions closer than this are the same; SliceLocation this close to the projection agrees. */
export const TOLERANCE_MM = 0.01
/** A spacing more than this many times its neighbours' is a gap. */
export const GAP_FACTOR = 1.5
/** The smallest |z| of the slice normal of an axial image (cos 45°). */
export const AXIAL_MIN_COS = Math.SQRT1_2

/** Why an image is left out of the DLP. */
export type Exclusion = 'localizer' | 'not axial' | 'no position'

/** The header values `locateSlice` reads, typed as the reader decodes them. */
export interface SliceCells {
  /** ImageType: its values. */
  imageType: Value
  /** ImageOrientationPatient: six direction cosines. */
  orientation: Value
  /** ImagePositionPatient: x, y, z in mm. */
  imagePosition: Value
  /** SliceLocation in mm. */
  sliceLocation: Value
}

/** Where an image is along the scan, or why it does not count. */
export type Location =
  | { excluded: Exclusion; position?: undefined }
  | {
      excluded?: undefined
      /** mm, along the slice normal (or SliceLocation's axis). */
      position: number
      /** Why the position is not SliceLocation, when it is not. */
      note?: string
    }

/** Step 1: whether an image counts and its position. */
export function locateSlice(cells: SliceCells): Location {
  if (valueStrings(cells.imageType).some((value) => value.trim().toUpperCase() === 'LOCALIZER')) {
    return { excluded: 'localizer' }
  }
  const normal = sliceNormal(cells.orientation)
  if (normal && Math.abs(normal[2]) < AXIAL_MIN_COS) return { excluded: 'not axial' }
  const corner = valueNumbers(cells.imagePosition, 3)
  const projected = normal && corner ? normal[0] * corner[0] + normal[1] * corner[1] + normal[2] * corner[2] : undefined
  const sliceLocation = valueNumber(cells.sliceLocation)
  if (sliceLocation !== undefined && (projected === undefined || Math.abs(sliceLocation - projected) <= TOLERANCE_MM)) {
    return { position: sliceLocation }
  }
  if (projected === undefined) return { excluded: 'no position' }
  const why =
    sliceLocation === undefined
      ? 'no SliceLocation'
      : `SliceLocation differs by ${formatNumber(Math.abs(sliceLocation - projected))} mm`
  return { position: projected, note: `position from ImagePositionPatient (${why})` }
}

/** The unit normal of an image plane (row cosines x column cosines), if the orientation is usable. */
export function sliceNormal(orientation: Value): [number, number, number] | undefined {
  const cosines = valueNumbers(orientation, 6)
  if (!cosines) return undefined
  const [rx, ry, rz, cx, cy, cz] = cosines
  const n: [number, number, number] = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx]
  const length = Math.hypot(...n)
  return length > 0.5 ? [n[0] / length, n[1] / length, n[2] / length] : undefined
}

/** An image out of a {@link SliceWindow}, with the length it stands for. */
export interface PlacedSlice<T> {
  item: T
  position: number
  /** L in mm: 0 at a repeated position, undefined for the only position of a series. */
  intervalMm: number | undefined
  /** At a position already taken by an earlier image. */
  repeated: boolean
  /** The spacing counted to the next position (e_j); undefined for the last. */
  spacingAfterMm?: number
  /** The actual spacing to the next position when it is a gap (more than e_j). */
  gapAfterMm?: number
}

interface Slot<T> {
  position: number
  items: T[]
}

/**
 * Step 2, streaming: takes the images of one series in ascending position and gives each back
 * with its L as soon as the positions around it are known. It holds the images of at most three
 * positions (one image each, unless positions repeat): an image's L needs the spacings on both
 * sides of it, and deciding whether a spacing is a gap needs the spacings on both sides of that.
 */
export class SliceWindow<T> {
  private slots: Slot<T>[] = []
  /** The spacing before the first pending position, d_{j-1}, and what was counted of it, e_{j-1}. */
  private spacingBefore: number | undefined
  private countedBefore: number | undefined

  /**
   * Adds an image; returns those now placed (possibly none).
   * @throws RangeError when the position is below the previous one: the input must be sorted.
   */
  push(position: number, item: T): PlacedSlice<T>[] {
    const last = this.slots[this.slots.length - 1]
    if (last && position < last.position - TOLERANCE_MM) {
      throw new RangeError(`slice positions must ascend within a series: ${position} after ${last.position}`)
    }
    if (last && position - last.position <= TOLERANCE_MM) {
      last.items.push(item)
      return []
    }
    this.slots.push({ position, items: [item] })
    return this.slots.length === 3 ? this.place() : []
  }

  /** Places every image still held (the series has ended) and starts over. */
  end(): PlacedSlice<T>[] {
    const placed: PlacedSlice<T>[] = []
    while (this.slots.length > 0) placed.push(...this.place())
    this.spacingBefore = undefined
    this.countedBefore = undefined
    return placed
  }

  /** Places the images of the first pending position. */
  private place(): PlacedSlice<T>[] {
    const [slot, next, afterNext] = this.slots
    const spacing = next && next.position - slot.position
    const counted =
      spacing === undefined
        ? undefined
        : countedSpacing(spacing, this.spacingBefore, afterNext && afterNext.position - next.position)
    const left = this.countedBefore ?? counted
    const right = counted ?? this.countedBefore
    const intervalMm = left === undefined || right === undefined ? undefined : (left + right) / 2
    const gapAfterMm = spacing !== undefined && counted !== undefined && counted < spacing ? spacing : undefined
    this.spacingBefore = spacing
    this.countedBefore = counted
    this.slots.shift()
    return slot.items.map((item, i) => ({
      item,
      position: slot.position,
      intervalMm: i === 0 ? intervalMm : 0,
      repeated: i > 0,
      ...(i === 0 && counted !== undefined && { spacingAfterMm: counted }),
      ...(i === 0 && gapAfterMm !== undefined && { gapAfterMm }),
    }))
  }
}

/** A spacing as counted: itself, or, for a gap, the smaller of its neighbours. */
function countedSpacing(spacing: number, before: number | undefined, after: number | undefined): number {
  const neighbours = [before, after].filter((d): d is number => d !== undefined)
  if (neighbours.length === 0) return spacing
  const reference = Math.min(...neighbours)
  return spacing > GAP_FACTOR * reference ? reference : spacing
}

/** What a counted image brings to its series. */
export interface DoseSlice {
  /** CTDIvol in mGy, if the header has it. */
  ctdivol?: number
  /** SliceThickness in mm, if known. */
  thicknessMm?: number
  /** BodyPartExamined, if given. */
  bodyPart?: string
  /** Why the position is not SliceLocation, as `locateSlice` says. */
  positionNote?: string
}

/** A slice's DLP contribution in mGy·cm: CTDIvol x L / 10; undefined without either. */
export function sliceDlp(slice: PlacedSlice<DoseSlice>): number | undefined {
  const { ctdivol } = slice.item
  if (slice.intervalMm === undefined || ctdivol === undefined) return undefined
  return slice.intervalMm === 0 ? 0 : (ctdivol * slice.intervalMm) / 10
}

/** A slice's own notes: why its L or contribution is what it is. */
export function sliceNotes(slice: PlacedSlice<DoseSlice>): string[] {
  const notes: string[] = []
  if (slice.item.positionNote) notes.push(slice.item.positionNote)
  if (slice.intervalMm === undefined) notes.push('single slice: no interval')
  if (slice.repeated) notes.push('repeated position: not counted')
  if (slice.gapAfterMm !== undefined) {
    notes.push(
      `gap of ${formatNumber(slice.gapAfterMm)} mm to the next slice: ${formatNumber(slice.spacingAfterMm)} mm counted`,
    )
  }
  if (slice.item.ctdivol === undefined && !slice.repeated) notes.push('no CTDIvol')
  return notes
}

/** `auto` (from BodyPartExamined) or a region: where E's k-factor comes from. */
export type RegionSetting = 'auto' | Region

/** The dose of a series (or any group of series' images), as `SeriesDose.result` gives it. */
export interface SeriesDoseResult {
  /** Images counted (not excluded), repeated positions included. */
  slices: number
  /** Images excluded (localizer, not axial, no position). */
  excluded: number
  /** From the first slab's outer edge to the last's, in mm. */
  scanRangeMm?: number
  /** The mean reconstruction interval, sum of L / positions, in mm. */
  intervalMm?: number
  ctdivolMeanMGy?: number
  ctdivolMaxMGy?: number
  dlpMGyCm?: number
  region?: Region
  /** The k-factor used, in mSv per mGy·cm. */
  k?: number
  /** E = k x DLP in mSv: an estimate. */
  effectiveDoseMSv?: number
  notes: string[]
}

/**
 * Step 3: sums up the slices of one series as `SliceWindow` places them, and the images it
 * excludes, in constant memory.
 */
export class SeriesDose {
  private slices = 0
  private positions = 0
  private repeated = 0
  private readonly excluded = new Map<Exclusion, number>()
  private lengthMm = 0
  private dlp = 0
  private withoutCtdivol = 0
  private ctdivolSum = 0
  private ctdivolCount = 0
  private ctdivolMax = -Infinity
  private first: PlacedSlice<DoseSlice> | undefined
  private last: PlacedSlice<DoseSlice> | undefined
  private gaps = 0
  private largestGap: PlacedSlice<DoseSlice> | undefined
  private minSpacing = Infinity
  private maxSpacing = -Infinity
  private minThickness = Infinity
  private fromProjection = 0
  private bodyPart: string | undefined

  /** Adds a slice as placed by `SliceWindow`. */
  add(slice: PlacedSlice<DoseSlice>): void {
    const { item } = slice
    this.slices++
    if (item.ctdivol !== undefined) {
      this.ctdivolSum += item.ctdivol
      this.ctdivolCount++
      this.ctdivolMax = Math.max(this.ctdivolMax, item.ctdivol)
    }
    if (item.thicknessMm !== undefined) this.minThickness = Math.min(this.minThickness, item.thicknessMm)
    if (item.positionNote) this.fromProjection++
    this.bodyPart ??= item.bodyPart || undefined
    if (slice.repeated) {
      this.repeated++
      return
    }
    this.positions++
    this.first ??= slice
    this.last = slice
    this.lengthMm += slice.intervalMm ?? 0
    const contribution = sliceDlp(slice)
    if (contribution === undefined) this.withoutCtdivol += item.ctdivol === undefined ? 1 : 0
    else this.dlp += contribution
    if (slice.spacingAfterMm !== undefined) {
      this.minSpacing = Math.min(this.minSpacing, slice.spacingAfterMm)
      this.maxSpacing = Math.max(this.maxSpacing, slice.spacingAfterMm)
    }
    if (slice.gapAfterMm !== undefined) {
      this.gaps++
      if (!this.largestGap || slice.gapAfterMm > (this.largestGap.gapAfterMm as number)) this.largestGap = slice
    }
  }

  /** Counts an image left out. */
  exclude(reason: Exclusion): void {
    this.excluded.set(reason, (this.excluded.get(reason) ?? 0) + 1)
  }

  /** The series' figures; `region` says where the k-factor comes from. */
  result(region: RegionSetting): SeriesDoseResult {
    const notes: string[] = []
    const excluded = [...this.excluded.values()].reduce((a, b) => a + b, 0)
    if (excluded > 0) {
      const counts = [...this.excluded].map(
        ([reason, n]) => `${n} ${reason === 'no position' ? 'without position' : reason}`,
      )
      notes.push(`excluded: ${counts.join(', ')}`)
    }
    const measured = this.positions > 1
    const dlp = measured && this.withoutCtdivol === 0 ? this.dlp : undefined
    if (this.slices === 0) notes.push('no axial slices: no DLP')
    else if (!measured) notes.push('single slice: no interval, no DLP')
    else if (this.withoutCtdivol === this.positions) notes.push('no CTDIvol: no DLP')
    else if (this.withoutCtdivol > 0)
      notes.push(`no CTDIvol on ${this.withoutCtdivol} of ${this.positions} slices: no DLP`)
    const intervalMm = measured ? this.lengthMm / this.positions : undefined
    if (this.gaps > 0) {
      const gap = this.largestGap as PlacedSlice<DoseSlice>
      notes.push(
        `${this.gaps} gap${this.gaps === 1 ? '' : 's'} in positions (largest ${formatNumber(gap.gapAfterMm)} mm, ` +
          `after ${formatNumber(gap.position)} mm): counted as the neighbouring interval`,
      )
    }
    if (this.repeated > 0)
      notes.push(`${this.repeated} image${this.repeated === 1 ? '' : 's'} at a repeated position: not counted`)
    if (this.maxSpacing - this.minSpacing > TOLERANCE_MM) {
      notes.push(`interval varies from ${formatNumber(this.minSpacing)} to ${formatNumber(this.maxSpacing)} mm`)
    }
    if (
      intervalMm !== undefined &&
      Number.isFinite(this.minThickness) &&
      intervalMm < this.minThickness - TOLERANCE_MM
    ) {
      notes.push(
        `overlapping reconstruction: interval ${formatNumber(intervalMm)} mm < thickness ${formatNumber(this.minThickness)} mm`,
      )
    }
    if (this.fromProjection > 0) {
      notes.push(
        `position from ImagePositionPatient on ${this.fromProjection} slice${this.fromProjection === 1 ? '' : 's'}`,
      )
    }
    let resolved: Region | undefined
    if (region !== 'auto') resolved = region
    else if (this.bodyPart !== undefined) {
      resolved = regionOfBodyPart(this.bodyPart)
      if (!resolved && dlp !== undefined)
        notes.push(`no k-factor for BodyPartExamined "${this.bodyPart}": no effective dose`)
    } else if (dlp !== undefined) notes.push('no BodyPartExamined: no effective dose (set dose.region)')
    const k = resolved && K_FACTORS[resolved]
    const first = this.first
    const last = this.last
    return {
      slices: this.slices,
      excluded,
      scanRangeMm:
        measured && first && last
          ? last.position - first.position + ((first.intervalMm ?? 0) + (last.intervalMm ?? 0)) / 2
          : undefined,
      intervalMm,
      ctdivolMeanMGy: this.ctdivolCount > 0 ? this.ctdivolSum / this.ctdivolCount : undefined,
      ctdivolMaxMGy: this.ctdivolCount > 0 ? this.ctdivolMax : undefined,
      dlpMGyCm: dlp,
      region: resolved,
      k,
      effectiveDoseMSv: k !== undefined && dlp !== undefined ? k * dlp : undefined,
      notes,
    }
  }
}

/** The columns a dose pipeline adds to each slice's row. */
export const SLICE_DOSE_COLUMNS = ['position_mm', 'interval_mm', 'dlp_mGycm', 'dose_note'] as const

/** The kind of value of each column of {@link SLICE_DOSE_COLUMNS}. */
export const SLICE_DOSE_KINDS = ['number', 'number', 'number', 'text'] as const

/** The columns a grouped dose pipeline adds to each group's row, in the order of `seriesDoseCells`. */
export const SERIES_DOSE_COLUMNS = [
  'slices',
  'excluded',
  'scan_range_mm',
  'interval_mm',
  'ctdivol_mean_mGy',
  'ctdivol_max_mGy',
  'dlp_mGycm',
  'region',
  'k_mSv_per_mGycm',
  'effective_dose_estimate_mSv',
  'dose_notes',
] as const

/** The kind of value of each column of {@link SERIES_DOSE_COLUMNS}. */
export const SERIES_DOSE_KINDS = [
  'integer',
  'integer',
  'number',
  'number',
  'number',
  'number',
  'number',
  'text',
  'number',
  'number',
  'text',
] as const

/**
 * A series' result as the values of `SERIES_DOSE_COLUMNS` (null where there is none), its numbers
 * to `precision` significant digits (default {@link DEFAULT_PRECISION}).
 */
export function seriesDoseCells(result: SeriesDoseResult, precision: Precision = DEFAULT_PRECISION): Value[] {
  const round = (value: number | undefined) => computedNumber(value, precision)
  return [
    result.slices,
    result.excluded,
    round(result.scanRangeMm),
    round(result.intervalMm),
    round(result.ctdivolMeanMGy),
    round(result.ctdivolMaxMGy),
    round(result.dlpMGyCm),
    result.region ?? null,
    round(result.k),
    round(result.effectiveDoseMSv),
    result.notes.length > 0 ? result.notes.join('; ') : null,
  ]
}

/** A slice for {@link seriesDose}: its position in mm and what it brings. */
export interface PositionedSlice extends DoseSlice {
  position: number
}

/**
 * The dose of one series from its slices in any order: sorted by position (stably), placed by
 * `SliceWindow` and summed by `SeriesDose`, as the pipeline does. For tests and library use.
 */
export function seriesDose(
  slices: readonly PositionedSlice[],
  region: RegionSetting = 'auto',
): { slices: PlacedSlice<DoseSlice>[]; result: SeriesDoseResult } {
  const window = new SliceWindow<DoseSlice>()
  const dose = new SeriesDose()
  const placed: PlacedSlice<DoseSlice>[] = []
  const sorted = [...slices].sort((a, b) => a.position - b.position)
  for (const { position, ...item } of sorted) placed.push(...window.push(position, item))
  placed.push(...window.end())
  for (const slice of placed) dose.add(slice)
  return { slices: placed, result: dose.result(region) }
}
