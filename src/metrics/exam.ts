/**
 * Dose per exam (`exam_dose:` in a pipeline grouped by exam, one row per file): the DLP of the
 * exam's image series from their headers (the method of `dlp.ts`, series by series), each
 * irradiation counted once however many reconstructions it has, beside the total of the exam's
 * dose reports (RDSR), merged as `rdsr.ts` merges them, and the ratio of the two. A check none
 * of the usual tools makes: a ratio far from 1 means series missing from the images read (or
 * from the report), reconstructions counted twice, or a report of another exam.
 *
 * Reconstructions: two series of an exam are reconstructions of one irradiation when their
 * images name the same Irradiation Event UID (0008,3010), or, when neither names one, they have
 * the same AcquisitionNumber and AcquisitionDate/AcquisitionTime (both present) and their scan
 * ranges overlap by half the shorter or more. The irradiation's DLP is the largest of its
 * reconstructions' (the widest covers the most of the irradiated length). Its limits: a scanner
 * that numbers every acquisition 1 and writes no acquisition time, or writes each series' own
 * time, makes two reconstructions count twice; the note says how many series were counted.
 *
 * Rows come sorted by exam (`group_by`), then series, then slice position (`locateSlices`, run
 * before the sorter, appends it). A row with a dose report's columns (its total or events) is a
 * report: its events are lists (`sr:113819[*]/...`, one slot per event). State per exam: one
 * series' slice window at a time, a few numbers per series, and the reports' events.
 */
import { computedNumber, valueNumber, valueText, type Precision, type Row, type Value } from '../values.js'
import { formatNumber } from './cells.js'
import { SERIES_DOSE_COLUMNS } from './dlp.js'
import { IMAGE_NEEDS, locateSlices, seriesDoseAccumulator, type DoseColumns } from './dose.js'
import type { Alert, ColumnsOf, GroupAccumulator, MetricModule } from './metric.js'
import {
  checkLevels,
  compileLevels,
  levelOf,
  referenceLevelsField,
  type CompiledLevel,
  type Level,
} from './reference-levels.js'
import { ExamReports, TOLERANCE_FIELD, reportFacts, type ExamReportTotals } from './rdsr.js'

/** What exam_dose reads (and the dose audit, which adds to it). */
export const EXAM_NEEDS = {
  ...IMAGE_NEEDS,
  /** Reconstructions: the irradiation an image comes from, or its acquisition's number and time. */
  irradiation: { keyword: 'IrradiationEventUID', optional: true },
  acquisitionNumber: { keyword: 'AcquisitionNumber', optional: true },
  acquisitionDate: { keyword: 'AcquisitionDate', optional: true },
  acquisitionTime: { keyword: 'AcquisitionTime', optional: true },
  /** Dose reports. */
  study: { keyword: 'StudyInstanceUID', optional: true },
  sop: { keyword: 'SOPInstanceUID', optional: true },
  date: { keyword: 'ContentDate', optional: true },
  time: { keyword: 'ContentTime', optional: true },
  total: { sr: 'sr:113811/113813@mGy.cm', optional: true },
  reportEvents: { sr: 'sr:113811/113812', optional: true },
  eventUids: { sr: 'sr:113819[*]/113769', optional: true },
  eventDoses: { sr: 'sr:113819[*]/113829/113838@mGy.cm', optional: true },
  scope: { sr: 'sr:113705/110180', optional: true },
} as const

const FIELDS = {
  protocol: {
    doc:
      'The extracted column whose value the reference levels match (e.g. StudyDescription, normalised), for ' +
      'the notification columns and alerts.',
    example: 'protocol: protocol',
    type: { kind: 'string' },
  },
  reference_levels: referenceLevelsField('An exam no level matches has no notification values.'),
  tolerance_percent: TOLERANCE_FIELD,
} as const

/** Image DLP over report DLP below this, or above {@link RATIO_HIGH}, earns a note. */
const RATIO_LOW = 0.8
const RATIO_HIGH = 1.05

const DLP = SERIES_DOSE_COLUMNS.indexOf('dlp_mGycm')

/** The dose metric per exam. */
export const examDose: MetricModule<'exam_dose', typeof EXAM_NEEDS, typeof FIELDS> = {
  key: 'exam_dose',
  doc:
    'Dose per exam (see "Dose per exam"), with group_by an exam and one row per file: the DLP of its CT ' +
    'image series from their headers, each irradiation once however many reconstructions it has, beside ' +
    "the total of the exam's dose reports (RDSR) and their ratio. It reads what `dose` reads, and, when " +
    'extracted, IrradiationEventUID, AcquisitionNumber, AcquisitionDate and AcquisitionTime (reconstructions) ' +
    'and the reports: SOPInstanceUID, `sr:113811/113813@mGy.cm`, `sr:113819[*]/113769` and ' +
    '`sr:113819[*]/113829/113838@mGy.cm`.',
  example: 'exam_dose: {}',
  fields: FIELDS,
  needs: EXAM_NEEDS,
  beforeColumns: [{ name: 'position_mm', kind: 'number' }],
  rowColumns: [],
  groupColumns: [
    { name: 'series', kind: 'integer' },
    { name: 'series_counted', kind: 'integer' },
    { name: 'image_dlp_mGycm', kind: 'number' },
    { name: 'reports', kind: 'integer' },
    { name: 'report_dlp_mGycm', kind: 'number' },
    { name: 'report_events', kind: 'integer' },
    { name: 'dlp_ratio', kind: 'number' },
    { name: 'reference_level', kind: 'text' },
    { name: 'max_ctdivol_mGy', kind: 'number' },
    { name: 'notification_ctdivol_mGy', kind: 'number' },
    { name: 'notification_dlp_mGycm', kind: 'number' },
    { name: 'above_notification', kind: 'text' },
    { name: 'dose_notes', kind: 'text' },
  ],
  summary: 'dose per exam',
  check({ config, groupBy, columns, report }) {
    if (!groupBy) report('exam_dose', 'exam_dose gives one row per exam: it needs group_by (e.g. [StudyInstanceUID])')
    const names = columns.map((c) => c.name)
    if (config.protocol !== undefined && !names.includes(config.protocol)) {
      report('exam_dose.protocol', `protocol "${config.protocol}" is not an extracted column (${names.join(', ')})`)
    }
    if ((config.reference_levels ?? []).length > 0 && config.protocol === undefined) {
      report('exam_dose', 'exam_dose.reference_levels needs protocol: the column whose value they match')
    }
    checkLevels('exam_dose', config.reference_levels, report)
  },
  plan({ columns, config, width, precision, names, alert }) {
    const doseColumns = doseColumnsOf(columns)
    const protocol = config.protocol === undefined ? -1 : names.indexOf(config.protocol)
    const levels = compileLevels(config.reference_levels as Level[])
    return {
      before: () => locateSlices(doseColumns),
      sortKeys: [
        { index: columns.series, descending: false },
        { index: width, descending: false },
      ],
      perGroup: () =>
        examAccumulator({
          columns,
          doseColumns,
          position: width,
          tolerancePercent: config.tolerance_percent,
          precision,
          levelOf: (row) => (protocol < 0 ? undefined : levelOf(levels, valueText(row[protocol]))),
          alert: alert ?? (() => {}),
        }),
    }
  },
}

/** What an exam keeps of one image series. */
export interface SeriesFacts {
  /** Its SeriesInstanceUID. */
  uid: string
  dlp: number
  /** The series' mean CTDIvol, when it has one. */
  ctdivol?: number
  irradiations: Set<string>
  acquisition: string
  low: number
  high: number
}

/** The columns an exam reads: those of {@link EXAM_NEEDS}, found. */
export type ExamColumns = ColumnsOf<typeof EXAM_NEEDS>

/** What one exam comes to. */
export interface ExamTotals {
  /** Image series with a DLP. */
  series: SeriesFacts[]
  /** Those standing each for one irradiation (reconstructions once). */
  irradiations: SeriesFacts[]
  /** Their DLP sum, or null without any. */
  image: number | null
  /** The exam's dose reports merged, when it has any. */
  report?: ExamReportTotals
}

const CTDIVOL_MEAN = SERIES_DOSE_COLUMNS.indexOf('ctdivol_mean_mGy')

/**
 * One exam's dose, fed its rows in the order the metric's sort keys give (series, then
 * position): each image series' DLP and mean CTDIvol, series by series, and its reports.
 */
export class ExamDose {
  private readonly reports: ExamReports
  private readonly done: SeriesFacts[] = []
  private current: { dose: GroupAccumulator; facts: Omit<SeriesFacts, 'dlp'> } | undefined

  constructor(
    private readonly columns: ExamColumns,
    private readonly doseColumns: DoseColumns,
    private readonly position: number,
    tolerancePercent: number,
    private readonly precision: Precision,
  ) {
    this.reports = new ExamReports({ quantity: 'DLP', unit: 'mGy.cm' }, tolerancePercent, precision)
  }

  add(row: Row): void {
    const { columns, position } = this
    const cell = (index: number | undefined): Value => (index === undefined ? null : row[index])
    const named = (name: string): Value => cell((columns as Record<string, number | undefined>)[name])
    const uids = cell(columns.eventUids)
    if (named('total') !== null || (Array.isArray(uids) ? uids.length > 0 : uids !== null)) {
      addReport(this.reports, reportFacts(named), uids, cell(columns.eventDoses))
      return
    }
    const uid = valueText(row[columns.series])
    if (this.current?.facts.uid !== uid) {
      this.endSeries()
      this.current = {
        dose: seriesDoseAccumulator({ columns: this.doseColumns, position, region: 'auto', precision: 'full' }),
        facts: { uid, irradiations: new Set(), acquisition: '', low: Infinity, high: -Infinity },
      }
    }
    this.current.dose.add(row)
    const facts = this.current.facts
    const at = row[position]
    if (typeof at !== 'number') return
    facts.low = Math.min(facts.low, at)
    facts.high = Math.max(facts.high, at)
    const irradiation = cell(columns.irradiation)
    for (const value of Array.isArray(irradiation) ? irradiation : [irradiation]) {
      const text = valueText(value)
      if (text) facts.irradiations.add(text)
    }
    if (!facts.acquisition) {
      const number = valueText(cell(columns.acquisitionNumber))
      const time = valueText(cell(columns.acquisitionTime))
      if (number && time) facts.acquisition = `${number}@${valueText(cell(columns.acquisitionDate))}${time}`
    }
  }

  private endSeries(): void {
    if (!this.current) return
    const cells = this.current.dose.result()
    const dlp = valueNumber(cells[DLP])
    const ctdivol = valueNumber(cells[CTDIVOL_MEAN])
    if (dlp !== undefined) this.done.push({ ...this.current.facts, dlp, ...(ctdivol !== undefined && { ctdivol }) })
    this.current = undefined
  }

  totals(): ExamTotals {
    this.endSeries()
    const irradiations = reconstructionsOnce(this.done)
    const image =
      irradiations.length > 0
        ? computedNumber(
            irradiations.reduce((sum, s) => sum + s.dlp, 0),
            this.precision,
          )
        : null
    return {
      series: this.done,
      irradiations,
      image,
      ...(!this.reports.empty && { report: this.reports.result() }),
    }
  }
}

/** What the per-exam accumulator of `exam_dose` is given. */
interface ExamOptions {
  columns: ExamColumns
  doseColumns: DoseColumns
  position: number
  tolerancePercent: number
  precision: Precision
  /** The reference level of an exam, from one of its rows. */
  levelOf: (row: Row) => CompiledLevel | undefined
  alert: (alert: Alert) => void
}

/** The per-exam accumulator of `exam_dose` (see the module's comment). */
function examAccumulator(options: ExamOptions): GroupAccumulator {
  const { columns, precision } = options
  const exam = new ExamDose(columns, options.doseColumns, options.position, options.tolerancePercent, precision)
  let first: Row | undefined
  return {
    add(row) {
      first ??= row
      exam.add(row)
    },
    result() {
      const totals = exam.totals()
      const { series, irradiations, image, report } = totals
      const reportDlp = report?.total ?? null
      const ratio = image !== null && reportDlp ? computedNumber(Number((image / reportDlp).toPrecision(3))) : null
      const level = first && options.levelOf(first)
      const study = first && columns.study !== undefined ? valueText(first[columns.study]) : ''
      const above = level ? notifications(level, study, totals, precision, options.alert) : undefined
      const ctdivols = irradiations.flatMap((s) => (s.ctdivol === undefined ? [] : [s.ctdivol]))
      const notes = [...(report?.notes ?? [])]
      if (series.length > irradiations.length) {
        const merged = series.length - irradiations.length
        notes.push(
          `${series.length} series with a DLP, ${merged} ${merged === 1 ? 'a reconstruction' : 'reconstructions'} ` +
            'of another: counted once',
        )
      }
      if (ratio !== null && (ratio < RATIO_LOW || ratio > RATIO_HIGH)) {
        notes.push(
          `the images' DLP (${formatNumber(image ?? undefined)} mGy.cm) is ${formatNumber(ratio * 100)}% of the ` +
            "report's: series missing from the images read, or from the report?",
        )
      }
      if (report && image === null) notes.push('no image series with a DLP: the report alone')
      const notifies = level?.notification_ctdivol_mGy !== undefined || level?.notification_dlp_mGycm !== undefined
      return [
        series.length,
        irradiations.length,
        image,
        report?.reports ?? 0,
        reportDlp,
        report?.events ?? (report ? report.counted : null),
        ratio,
        level?.name ?? null,
        ctdivols.length > 0 ? computedNumber(Math.max(...ctdivols), precision) : null,
        level?.notification_ctdivol_mGy ?? null,
        level?.notification_dlp_mGycm ?? null,
        notifies && above ? (above.series > 0 || above.exam ? 'yes' : 'no') : null,
        notes.join('; ') || null,
      ]
    },
  }
}

/**
 * An exam against its level's notification values: each series whose CTDIvol and the exam if
 * its DLP (the reports' total, else the images') is above raises an alert. Returns the count of
 * series above and whether the exam is.
 */
export function notifications(
  level: CompiledLevel,
  study: string,
  totals: ExamTotals,
  precision: Precision,
  alert: (alert: Alert) => void,
): { series: number; exam: boolean; dlp: number | null } {
  let series = 0
  const ctdivolLevel = level.notification_ctdivol_mGy
  for (const s of totals.irradiations) {
    if (ctdivolLevel === undefined || s.ctdivol === undefined || s.ctdivol <= ctdivolLevel) continue
    series++
    alert({
      scope: 'series',
      quantity: 'CTDIvol',
      value: computedNumber(s.ctdivol, precision) as number,
      level: ctdivolLevel,
      unit: 'mGy',
      reference: level.name,
      study,
      series: s.uid,
    })
  }
  const dlp = totals.report?.total ?? totals.image
  const dlpLevel = level.notification_dlp_mGycm
  const exam = dlpLevel !== undefined && dlp !== null && dlp > dlpLevel
  if (exam) {
    alert({ scope: 'exam', quantity: 'DLP', value: dlp, level: dlpLevel, unit: 'mGy.cm', reference: level.name, study })
  }
  return { series, exam, dlp }
}

/** The dose columns of `dose`, from an exam's columns. */
export function doseColumnsOf(columns: ExamColumns): DoseColumns {
  return {
    imageType: columns.imageType,
    orientation: columns.orientation,
    imagePosition: columns.imagePosition,
    sliceLocation: columns.sliceLocation,
    ctdivol: columns.ctdivol,
    ...(columns.thickness !== undefined && { thickness: columns.thickness }),
    ...(columns.bodyPart !== undefined && { bodyPart: columns.bodyPart }),
  }
}

/** A report row's events: parallel lists of UIDs and DLPs, one slot per event. */
function addReport(reports: ExamReports, facts: ReturnType<typeof reportFacts>, uids: Value, doses: Value): void {
  const uidList = Array.isArray(uids) ? uids : uids === null ? [] : [uids]
  const doseList = Array.isArray(doses) ? doses : doses === null ? [] : [doses]
  const count = Math.max(uidList.length, doseList.length)
  if (count === 0) reports.add(facts, null, null)
  for (let i = 0; i < count; i++) {
    reports.add(facts, valueText(uidList[i] ?? null) || null, valueNumber(doseList[i] ?? null) ?? null)
  }
}

/**
 * The series standing each for one irradiation: reconstructions of one (see the module's
 * comment) merged into the one with the largest DLP.
 */
export function reconstructionsOnce<S extends SeriesFacts>(series: readonly S[]): S[] {
  const kept: S[] = []
  for (const s of [...series].sort((a, b) => b.dlp - a.dlp)) {
    if (!kept.some((k) => sameIrradiation(k, s))) kept.push(s)
  }
  return kept
}

function sameIrradiation(a: SeriesFacts, b: SeriesFacts): boolean {
  if (a.irradiations.size > 0 || b.irradiations.size > 0) {
    for (const uid of a.irradiations) if (b.irradiations.has(uid)) return true
    return false
  }
  if (!a.acquisition || a.acquisition !== b.acquisition) return false
  const overlap = Math.min(a.high, b.high) - Math.max(a.low, b.low)
  const shorter = Math.min(a.high - a.low, b.high - b.low)
  return overlap >= shorter / 2
}
