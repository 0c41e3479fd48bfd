/**
 * The dose audit (`dose_audit:`): CT dose per protocol group against reference levels, as
 * physicists audit it (README, "Dose audit"). With `group_by` the protocol group (a column such
 * as StudyDescription, normalised) and one row per file (images and dose reports), each group's
 * row gives its exams and series, the median CTDIvol of its series and the median DLP of its
 * exams, the Diagnostic Reference Level (DRL) its name or pattern matches, their ratios and
 * `above_drl`; each series above its notification CTDIvol and each exam above its notification
 * DLP is counted and raised as an alert (`Alert`, logged; exit 3 with `--fail-on-alert`).
 *
 * An exam's DLP is its dose reports' total where a report was read (it includes over-ranging),
 * else the sum of its image series' DLP, each irradiation once (`ExamDose`, as `exam_dose`). A
 * series' CTDIvol is the mean over its slices; reconstructions of one irradiation count once.
 * The DRL is compared with the median of the group (the UK's and ICRP 135's practice: a
 * facility's typical dose is the median of a sample of standard patients).
 *
 * Rows come sorted by the group, then exam (StudyInstanceUID), then series and slice position.
 * State per group: the current exam (`ExamDose`: one series' slices at a time) and one number
 * per exam and per series, for the medians (8 bytes each: 100,000 exams in under 1 MB).
 */
import { computedNumber, valueText, type Precision, type Row, type Value } from '../values.js'
import { percentiles } from './aggregate.js'
import { locateSlices } from './dose.js'
import { EXAM_NEEDS, ExamDose, doseColumnsOf, notifications, type ExamColumns } from './exam.js'
import type { Alert, GroupAccumulator, MetricModule } from './metric.js'
import { TOLERANCE_FIELD } from './rdsr.js'
import {
  checkLevels,
  compileLevels,
  levelOf,
  referenceLevelsField,
  type CompiledLevel,
  type Level,
} from './reference-levels.js'

const NEEDS = {
  ...EXAM_NEEDS,
  study: { keyword: 'StudyInstanceUID' },
} as const

const FIELDS = {
  protocol: {
    required: true,
    doc: 'The `group_by` column whose value the levels match (`match`), e.g. a normalised StudyDescription.',
    example: 'protocol: protocol',
    type: { kind: 'string' },
  },
  reference_levels: referenceLevelsField('A group no level matches gets no DRL.'),
  tolerance_percent: TOLERANCE_FIELD,
} as const

/** The dose audit metric. */
export const doseAudit: MetricModule<'dose_audit', typeof NEEDS, typeof FIELDS> = {
  key: 'dose_audit',
  doc:
    'CT dose per protocol group against reference levels (see "Dose audit"), with group_by the protocol ' +
    'group and one row per file: exams, series, the median CTDIvol and DLP, the DRL, their ratio, ' +
    '`above_drl`, and the series and exams above their notification values (alerts). It reads what ' +
    '`exam_dose` reads, StudyInstanceUID included.',
  example: 'dose_audit: {protocol: protocol, reference_levels: [{name: Head, match: head, dlp_mGycm: 790}]}',
  fields: FIELDS,
  needs: NEEDS,
  beforeColumns: [{ name: 'position_mm', kind: 'number' }],
  rowColumns: [],
  groupColumns: [
    { name: 'reference_level', kind: 'text' },
    { name: 'exams', kind: 'integer' },
    { name: 'series', kind: 'integer' },
    { name: 'median_ctdivol_mGy', kind: 'number' },
    { name: 'median_dlp_mGycm', kind: 'number' },
    { name: 'drl_ctdivol_mGy', kind: 'number' },
    { name: 'drl_dlp_mGycm', kind: 'number' },
    { name: 'ratio_ctdivol', kind: 'number' },
    { name: 'ratio_dlp', kind: 'number' },
    { name: 'above_drl', kind: 'text' },
    { name: 'series_above_notification', kind: 'integer' },
    { name: 'exams_above_notification', kind: 'integer' },
    { name: 'dose_notes', kind: 'text' },
  ],
  summary: 'dose audit per protocol group',
  check({ config, groupBy, report }) {
    if (!groupBy) {
      report('dose_audit', 'dose_audit gives one row per protocol group: it needs group_by (e.g. [protocol])')
    } else if (config.protocol !== undefined && !groupBy.includes(config.protocol)) {
      report(
        'dose_audit.protocol',
        `protocol "${config.protocol}" must be one of the group_by columns (${groupBy.join(', ')})`,
      )
    }
    checkLevels('dose_audit', config.reference_levels, report)
  },
  plan({ columns, config, width, precision, alert, grouped, names }) {
    const doseColumns = doseColumnsOf(columns)
    const levels = compileLevels(config.reference_levels as Level[])
    return {
      before: () => locateSlices(doseColumns),
      sortKeys: [
        { index: columns.study, descending: false },
        { index: columns.series, descending: false },
        { index: width, descending: false },
      ],
      ...(grouped && {
        perGroup: () =>
          auditAccumulator({
            columns,
            position: width,
            tolerancePercent: config.tolerance_percent,
            precision,
            levels,
            protocolOf: (row) => row[names.indexOf(config.protocol)],
            alert: alert ?? (() => {}),
          }),
      }),
    }
  },
}

interface AuditOptions {
  columns: ExamColumns & { study: number }
  position: number
  tolerancePercent: number
  precision: Precision
  levels: CompiledLevel[]
  protocolOf: (row: Row) => Value
  alert: (alert: Alert) => void
}

/** One protocol group's audit (see the module's comment). */
function auditAccumulator(options: AuditOptions): GroupAccumulator {
  const { columns, precision } = options
  const doseColumns = doseColumnsOf(columns)
  const examDlps: number[] = []
  const seriesCtdivols: number[] = []
  let level: CompiledLevel | undefined
  let matched = false
  let fromReports = 0
  let seriesAbove = 0
  let examsAbove = 0
  let exam: { study: string; dose: ExamDose } | undefined
  const endExam = () => {
    if (!exam) return
    const totals = exam.dose.totals()
    for (const series of totals.irradiations) if (series.ctdivol !== undefined) seriesCtdivols.push(series.ctdivol)
    const above = level ? notifications(level, exam.study, totals, precision, options.alert) : undefined
    seriesAbove += above?.series ?? 0
    if (above?.exam) examsAbove++
    const dlp = totals.report?.total ?? totals.image
    if (totals.report?.total != null) fromReports++
    if (dlp !== null) examDlps.push(dlp)
    exam = undefined
  }
  return {
    add(row) {
      if (!matched) {
        const protocol = valueText(options.protocolOf(row))
        level = levelOf(options.levels, protocol)
        matched = true
      }
      const study = valueText(row[columns.study])
      if (exam?.study !== study) {
        endExam()
        exam = {
          study,
          dose: new ExamDose(columns, doseColumns, options.position, options.tolerancePercent, precision),
        }
      }
      exam.dose.add(row)
    },
    result() {
      endExam()
      const [medianCtdivol] = percentiles(seriesCtdivols, [50])
      const [medianDlp] = percentiles(examDlps, [50])
      const round = (value: number | undefined) => (value === undefined ? null : computedNumber(value, precision))
      const ratio = (value: number | undefined, drl: number | undefined) =>
        value === undefined || !drl ? null : computedNumber(Number((value / drl).toPrecision(3)))
      const ratioCtdivol = ratio(medianCtdivol, level?.ctdivol_mGy)
      const ratioDlp = ratio(medianDlp, level?.dlp_mGycm)
      const ratios = [ratioCtdivol, ratioDlp].filter((r): r is number => r !== null)
      const notes: string[] = []
      if (!level && options.levels.length > 0) notes.push('no reference level matches this protocol')
      if (examDlps.length > 0) {
        const images = examDlps.length - fromReports
        const parts = [
          ...(fromReports > 0 ? [`${fromReports} from dose reports`] : []),
          ...(images > 0 ? [`${images} from image headers`] : []),
        ]
        notes.push(`exam DLP: ${parts.join(', ')}`)
      }
      if (examDlps.length > 0 && examDlps.length < 10) {
        notes.push(
          `${examDlps.length} ${examDlps.length === 1 ? 'exam' : 'exams'}: a median of fewer than 10 is not a DRL audit`,
        )
      }
      return [
        level?.name ?? null,
        examDlps.length,
        seriesCtdivols.length,
        round(medianCtdivol),
        round(medianDlp),
        level?.ctdivol_mGy ?? null,
        level?.dlp_mGycm ?? null,
        ratioCtdivol,
        ratioDlp,
        ratios.length === 0 ? null : ratios.some((r) => r > 1) ? 'yes' : 'no',
        seriesAbove,
        examsAbove,
        notes.join('; ') || null,
      ]
    },
  }
}
