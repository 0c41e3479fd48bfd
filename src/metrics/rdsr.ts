/**
 * Exam totals from dose reports (RDSR): `rdsr_ct:` and `rdsr_xray:` in a grouped pipeline whose
 * rows are the reports' irradiation events (`rows: {per_item: ...}`), one group per exam. Each
 * is a metric module (`metric.ts`) made by {@link reportMetric} from what differs between them:
 * the `sr:` paths of the report's total, of an event's UID and dose, and the column names.
 *
 * The exam's reports are merged by their events, which carry Irradiation Event UIDs (113769):
 * - a report whose events all appear in another report is superseded by it: a scanner that
 *   writes a report per series repeats the exam's earlier events in each later one (Siemens'
 *   cumulative reports), whose total includes theirs;
 * - reports with events of their own each count: a continued exam (a second session, a second
 *   scanner) has reports that add up.
 * So the exam's total is the sum of the totals of the reports not superseded, and its events are
 * counted once each by UID. Between two reports with the same events, the later (ContentDate,
 * ContentTime) is kept. What a physicist should look at goes to `dose_notes`: reports merged,
 * totals that disagree with their events, event counts that disagree, and a report whose Scope
 * of Accumulation names another study than its header (the header's StudyInstanceUID groups it).
 *
 * State per group: per report its total, event count and event UIDs, and each event's dose once
 * (an exam has tens of events, never the archive's); no row is kept.
 */
import { computedNumber, valueNumber, valueText, type Precision, type Value } from '../values.js'
import { formatNumber } from './cells.js'
import type { GroupAccumulator, MetricColumn, MetricModule } from './metric.js'

/** The attributes an exam-total metric reads, by the names its code knows them by. */
type ReportNeeds = {
  study: { keyword: 'StudyInstanceUID' }
  sop: { keyword: 'SOPInstanceUID' }
  date: { keyword: 'ContentDate'; optional: true }
  time: { keyword: 'ContentTime'; optional: true }
  /** The report's accumulated total (its unit in the path). */
  total: { sr: string }
  /** The report's own count of events, where the template has one. */
  reportEvents: { sr: string; optional: true }
  /** An event's Irradiation Event UID. */
  event: { sr: string }
  /** An event's dose, in the unit of the total. */
  eventDose: { sr: string }
  /** The Study Instance UID under Scope of Accumulation (113705/110180). */
  scope: { sr: 'sr:113705/110180'; optional: true }
}

/**
 * `tolerance_percent`, of every metric that merges dose reports: how far their events' sum may
 * be from their total before a note says so.
 */
export const TOLERANCE_FIELD = {
  default: 1,
  doc:
    "How far (percent of a report's total) the sum of its events' doses may be from the total before " +
    '`dose_notes` says so. Reports round their values, so a small difference is normal.',
  example: 'tolerance_percent: 2',
  type: { kind: 'integer', min: 0, max: 100 },
} as const

/** The fields of the block. */
const FIELDS = {
  tolerance_percent: TOLERANCE_FIELD,
} as const

/** What differs between the exam-total metrics. */
interface ReportKind<K extends string> {
  key: K
  /** What the reports are, for the documentation: `CT dose reports (TID 10011)`. */
  what: string
  total: string
  reportEvents: string
  event: string
  eventDose: string
  /** The names of the total and of the events' sum, with their unit: `total_dlp_mGycm`. */
  totalColumn: string
  sumColumn: string
  /** The quantity and unit in notes: `DLP`, `mGy.cm`. */
  quantity: string
  unit: string
  example: string
}

/** The columns each exam gets, after the aggregates. */
function groupColumns(kind: ReportKind<string>): MetricColumn[] {
  return [
    { name: 'reports', kind: 'integer' },
    { name: kind.totalColumn, kind: 'number' },
    { name: 'events', kind: 'integer' },
    { name: 'events_counted', kind: 'integer' },
    { name: kind.sumColumn, kind: 'number' },
    { name: 'dose_notes', kind: 'text' },
  ]
}

/** An exam-total metric for one kind of report. */
export function reportMetric<K extends string>(kind: ReportKind<K>): MetricModule<K, ReportNeeds, typeof FIELDS> {
  const needs: ReportNeeds = {
    study: { keyword: 'StudyInstanceUID' },
    sop: { keyword: 'SOPInstanceUID' },
    date: { keyword: 'ContentDate', optional: true },
    time: { keyword: 'ContentTime', optional: true },
    total: { sr: kind.total },
    reportEvents: { sr: kind.reportEvents, optional: true },
    event: { sr: kind.event },
    eventDose: { sr: kind.eventDose },
    scope: { sr: 'sr:113705/110180', optional: true },
  }
  return {
    key: kind.key,
    doc:
      `Exam totals from ${kind.what} (see "Dose reports (RDSR)"), with group_by an exam and one row per ` +
      `event: the reports merged (a report whose events all appear in another is superseded by it), ` +
      `the total, the events counted once each by UID, the sum of their ${kind.quantity}, and notes. ` +
      `It reads StudyInstanceUID, SOPInstanceUID, ${kind.total}, ${kind.event} and ${kind.eventDose}, ` +
      `which must be extracted (under any name), and ContentDate, ContentTime, ${kind.reportEvents} and ` +
      'sr:113705/110180 when they are.',
    example: kind.example,
    fields: FIELDS,
    needs,
    beforeColumns: [],
    rowColumns: [],
    groupColumns: groupColumns(kind),
    summary: `${kind.key} per exam`,
    check({ groupBy, report }) {
      if (!groupBy) report(kind.key, `${kind.key} gives totals per exam: it needs group_by (e.g. [StudyInstanceUID])`)
    },
    plan({ columns, config, precision }) {
      return {
        sortKeys: [],
        perGroup: () => examAccumulator(columns, config.tolerance_percent, kind, precision),
      }
    },
  }
}

/** What a report says of itself: its rows repeat it with each event. */
export interface ReportFacts {
  sop: string
  total: number | null
  /** Its own count of events. */
  events: number | null
  /** ContentDate and ContentTime, for the latest of two reports with the same events. */
  when: string
  /** The Study Instance UID under its Scope of Accumulation, and its header's. */
  scope: string
  study: string
}

/** A report and the events seen in it. */
interface Report extends ReportFacts {
  eventUids: Set<string>
}

/** What an exam's reports come to, merged. */
export interface ExamReportTotals {
  reports: number
  total: number | null
  events: number | null
  counted: number
  sum: number | null
  notes: string[]
}

/** The words of an exam's notes: `DLP`, `mGy.cm`. */
export interface ReportWords {
  quantity: string
  unit: string
}

/**
 * The reports of one exam, merged by their events (see the module's comment): the state of an
 * exam-total accumulator, fed an event at a time.
 */
export class ExamReports {
  private readonly reports = new Map<string, Report>()
  private readonly doses = new Map<string, number | null>()
  private anonymous = 0

  constructor(
    private readonly words: ReportWords,
    private readonly tolerancePercent: number,
    /** Significant digits of the sums (`format.precision`). */
    private readonly precision: Precision = 15,
  ) {}

  /** The report's facts, then one of its events (none: `uid` and `dose` null). */
  add(facts: ReportFacts, uid: string | null, dose: number | null): void {
    let report = this.reports.get(facts.sop)
    if (!report) {
      report = { ...facts, eventUids: new Set() }
      this.reports.set(facts.sop, report)
    }
    if (!uid && dose === null) return
    // An event without its UID cannot be matched with another report's: it counts on its own.
    const key = uid || `\0${this.anonymous++}`
    report.eventUids.add(key)
    if (!this.doses.has(key) || this.doses.get(key) === null) this.doses.set(key, dose)
  }

  /** Whether any report was seen. */
  get empty(): boolean {
    return this.reports.size === 0
  }

  result(): ExamReportTotals {
    const all = [...this.reports.values()]
    const kept = all.filter((report) => !all.some((other) => other !== report && supersedes(other, report)))
    const total = kept.every((r) => r.total !== null)
      ? computedNumber(
          kept.reduce((sum, r) => sum + (r.total as number), 0),
          kept.length === 1 ? 15 : this.precision,
        )
      : null
    const events = kept.every((r) => r.events !== null) ? kept.reduce((sum, r) => sum + (r.events as number), 0) : null
    const known = [...this.doses.values()].filter((dose): dose is number => dose !== null)
    const sum =
      known.length > 0
        ? computedNumber(
            known.reduce((a, b) => a + b, 0),
            this.precision,
          )
        : null
    const counted = this.doses.size
    const notes = examNotes({
      all,
      kept,
      total,
      events,
      counted,
      sum,
      tolerancePercent: this.tolerancePercent,
      words: this.words,
    })
    return { reports: all.length, total, events, counted, sum, notes }
  }
}

/** The facts of a report from a row's cells (named as in the needs of the metrics). */
export function reportFacts(cell: (name: string) => Value): ReportFacts {
  const text = (name: string) => valueText(cell(name))
  return {
    sop: text('sop'),
    total: valueNumber(cell('total')) ?? null,
    events: valueNumber(cell('reportEvents')) ?? null,
    when: `${text('date')}${text('time').padEnd(13, '0')}`,
    scope: text('scope'),
    study: text('study'),
  }
}

/** The per-exam accumulator of the exam-total metrics: each row an event of a report. */
function examAccumulator(
  columns: { [name: string]: number | undefined },
  tolerancePercent: number,
  kind: ReportKind<string>,
  precision: Precision,
): GroupAccumulator {
  const exam = new ExamReports(kind, tolerancePercent, precision)
  return {
    add(row) {
      const cell = (name: string): Value => {
        const index = columns[name]
        return index === undefined ? null : row[index]
      }
      exam.add(reportFacts(cell), valueText(cell('event')) || null, valueNumber(cell('eventDose')) ?? null)
    },
    result() {
      const { reports, total, events, counted, sum, notes } = exam.result()
      return [reports, total, events, counted, sum, notes.join('; ') || null]
    },
  }
}

/**
 * Whether report `a` makes report `b` redundant: `a` has every event of `b`, and more, or the
 * same ones and is later (then the larger SOP Instance UID, so that one of two copies stays).
 */
function supersedes(a: Report, b: Report): boolean {
  for (const uid of b.eventUids) if (!a.eventUids.has(uid)) return false
  if (a.eventUids.size > b.eventUids.size) return true
  return a.when > b.when || (a.when === b.when && a.sop > b.sop)
}

/** The notes of an exam, in the order a physicist would check them. */
function examNotes(exam: {
  all: Report[]
  kept: Report[]
  total: number | null
  events: number | null
  counted: number
  sum: number | null
  tolerancePercent: number
  words: ReportWords
}): string[] {
  const { all, kept, total, events, counted, sum, words } = exam
  const notes: string[] = []
  const superseded = all.length - kept.length
  if (superseded > 0) {
    notes.push(`${all.length} reports: ${superseded} repeated in a later one (cumulative), not counted twice`)
  }
  if (kept.length > 1) notes.push(`${kept.length} reports with events of their own (continued exam): totals added`)
  const missing = kept.filter((r) => r.total === null).length
  if (missing > 0)
    notes.push(`${missing === 1 ? 'a report has' : `${missing} reports have`} no ${words.quantity} total`)
  if (events !== null && events !== counted) notes.push(`the reports count ${events} events, ${counted} found`)
  if (total !== null && sum !== null) {
    const off = total === 0 ? (sum === 0 ? 0 : Infinity) : ((sum - total) / total) * 100
    if (Math.abs(off) > exam.tolerancePercent) {
      const percent = Number.isFinite(off) ? ` (${off > 0 ? '+' : ''}${formatNumber(Number(off.toFixed(1)))}%)` : ''
      notes.push(
        `the events' ${words.quantity} add up to ${formatNumber(sum)} ${words.unit}, the total says ` +
          `${formatNumber(total)}${percent}`,
      )
    }
  }
  const foreign = all.filter((r) => r.scope !== '' && r.scope !== r.study).length
  if (foreign > 0) {
    notes.push(
      `${foreign === 1 ? 'a report names' : `${foreign} reports name`} another study in its Scope of ` +
        'Accumulation (110180) than its header: grouped by the header',
    )
  }
  return notes
}

/** CT dose reports: TID 10011, events TID 10013, DLP in mGy.cm. */
export const rdsrCt = reportMetric({
  key: 'rdsr_ct',
  what: 'CT dose reports (TID 10011)',
  total: 'sr:113811/113813@mGy.cm',
  reportEvents: 'sr:113811/113812',
  event: 'sr:113819/113769',
  eventDose: 'sr:113819/113829/113838@mGy.cm',
  totalColumn: 'total_dlp_mGycm',
  sumColumn: 'sum_event_dlp_mGycm',
  quantity: 'DLP',
  unit: 'mGy.cm',
  example: 'rdsr_ct: {tolerance_percent: 1}',
})

/** Projection X-ray dose reports: TID 10001, events TID 10003, dose area product in Gy.m2. */
export const rdsrXray = reportMetric({
  key: 'rdsr_xray',
  what: 'projection X-ray dose reports (TID 10001: DX, CR, RF, XA, MG)',
  total: 'sr:113702/113722@Gy.m2',
  reportEvents: 'sr:113702/113812',
  event: 'sr:113706/113769',
  eventDose: 'sr:113706/122130@Gy.m2',
  totalColumn: 'total_dap_Gym2',
  sumColumn: 'sum_event_dap_Gym2',
  quantity: 'dose area product',
  unit: 'Gy.m2',
  example: 'rdsr_xray: {tolerance_percent: 1}',
})
