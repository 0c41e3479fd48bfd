/**
 * Keyed pseudonymisation (`privacy:`, `--pseudonymise`): each column's values replaced as its
 * action says, with a secret key, so that the same value gives the same pseudonym run after run
 * and site after site (tables still join) and nobody without the key can tell the value back by
 * trying every medical record number.
 *
 * Every keyed value is an HMAC-SHA-256 under the key of a message that names what it is for
 * (domain separation): `pseudonym\0PatientID\0PAT001` gives PatientID's token, which no other
 * attribute's value can give. UIDs share one domain, so that a SOP Instance UID maps to the same
 * new UID wherever it is referenced. The stage (`pseudonymiseRows`) runs right after the source,
 * before the state, the sorter's runs, the errors file and the log see a row, so originals are
 * written nowhere; it is stateless (each row is rewritten in place as it goes through).
 */
import { createHmac } from 'node:crypto'
import { Transform } from 'node:stream'
import { lookupTag, formatTag } from '../dicom/keywords.js'
import { profiledAttribute, type ProfiledAttribute } from '../dicom/confidentiality-profile.js'
import type { ColumnSpec, PrivacyAction, SourceRecord } from '../records.js'
import { DicomDate, PersonName, valueText, type Row, type Value } from '../values.js'

/** The shortest key accepted, in bytes: HMAC-SHA-256's own output length. */
export const MIN_KEY_BYTES = 32

/**
 * The keyed functions of one key. Tokens are `PREFIX-` and 16 base32 characters (80 bits of the
 * HMAC): the prefix is the attribute keyword's capitals (`PID-` for PatientID), so a reader sees
 * what a token stands for, and tokens of different attributes never look alike.
 */
export class Pseudonymiser {
  constructor(private readonly key: Buffer) {}

  private mac(...parts: string[]): Buffer {
    return createHmac('sha256', this.key).update(parts.join('\0')).digest()
  }

  /** The token of a value of `attribute` (a keyword, `path`, or a tag). */
  token(attribute: string, text: string): string {
    return `${prefixOf(attribute)}-${base32(this.mac('pseudonym', attribute, text).subarray(0, 10))}`
  }

  /** A UID's new UID: `2.25.` and the decimal of 128 bits of its HMAC (PS3.5 B.2), the same for any attribute. */
  uid(uid: string): string {
    return `2.25.${BigInt(`0x${this.mac('uid', uid).subarray(0, 16).toString('hex')}`).toString()}`
  }

  /**
   * The days a patient's dates move by, from the patient's pseudonym: in -window..window,
   * never 0, the same for every date of the patient (intervals within a patient stay exact).
   */
  shiftDays(patientToken: string, window: number): number {
    const n = this.mac('shift_date', patientToken).readUInt32BE(0) % (2 * window)
    return n < window ? n - window : n - window + 1
  }

  /** A path component's token: 13 base32 characters, no prefix (a path stays readable as one). */
  component(name: string): string {
    return base32(this.mac('path', name).subarray(0, 8))
  }

  /**
   * A path (as shown: `displayPath`) with each folder and file name keyed; `/`, `.`, `..` and an
   * empty root stay. A URL (DICOMweb) keeps its scheme and the words of DICOMweb (`studies`,
   * `series`, `instances`); a UID in it (one that looks like a UID, or whatever follows
   * `studies/`, `series/` or `instances/`, such as a malformed `1`) becomes its new UID, as in
   * the UID columns.
   */
  path(shown: string): string {
    const url = /^(https?:)\/\/(.*)$/i.exec(shown)
    if (url) {
      const split = url[2].split('/')
      const parts = split.map((part, i) => {
        if (i > 0 && DICOMWEB_WORDS.has(part)) return part
        if (part === '') return part
        const decoded = safeDecode(part)
        if (i > 0 && (UID.test(decoded) || UID_AFTER.has(split[i - 1]))) return this.uid(decoded)
        return this.component(decoded)
      })
      return `${url[1]}//${parts.join('/')}`
    }
    return shown
      .split('/')
      .map((part) => (part === '' || part === '.' || part === '..' ? part : this.component(part)))
      .join('/')
  }

  /** The key a state file records a file under: its absolute path or URL, keyed whole. */
  stateKey(key: string): string {
    return `k-${base32(this.mac('state', key))}`
  }

  /** A fingerprint of the key, for the state's signature: a state made with another key is not used. */
  fingerprint(): string {
    return base32(this.mac('fingerprint').subarray(0, 10))
  }
}

const DICOMWEB_WORDS = new Set(['studies', 'series', 'instances', 'metadata', 'frames', 'rendered'])
const UID = /^[0-2](\.\d+)+$/
/** The words of DICOMweb a UID follows in its URLs. */
const UID_AFTER = new Set(['studies', 'series', 'instances'])

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** RFC 4648 base32, without padding. */
function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31]
  return out
}

/** The capitals of a keyword (`PatientID` -> `PID`), `P` for path, `T` and the tag's digits for a tag. */
function prefixOf(attribute: string): string {
  if (attribute === 'path') return 'P'
  const capitals = attribute.replace(/[^A-Z]/g, '')
  return capitals || `T${attribute.replace(/[^0-9A-Fa-f]/g, '').toUpperCase()}`
}

// ---- values ----

/**
 * An age as a 5-year band (`0-4`, ..., `80-84`, `85-88`), 89 and over as `89+` (the HIPAA Safe
 * Harbor grouping): from an AS value (`045Y`, `006M`, `003W`, `010D`) or a number of years; null
 * when it does not parse.
 */
export function ageBand(value: Value): string | null {
  const years = ageYears(value)
  if (years === undefined) return null
  if (years >= 89) return '89+'
  const low = Math.floor(years / 5) * 5
  return `${low}-${Math.min(low + 4, 88)}`
}

function ageYears(value: Value): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined
  if (typeof value !== 'string') return undefined
  const m = /^(\d{1,3})([DWMY])?$/.exec(value.trim())
  if (!m) return undefined
  const n = Number(m[1])
  const per = { D: 365.25, W: 52.1775, M: 12, Y: 1 }[(m[2] ?? 'Y') as 'D' | 'W' | 'M' | 'Y']
  return Math.floor(n / per)
}

/** The year of a DA or DT value (`2024`), or null. */
export function yearOnly(value: Value): string | null {
  if (!(value instanceof DicomDate) || value.vr === 'TM') return null
  const m = /^(\d{4})/.exec(value.stored)
  return m ? m[1] : null
}

/**
 * A DA or DT moved by `days` (a DT keeps its time and offset; one of a year or month only moves
 * as the first of its month, kept to its precision); a TM as it is (the shift is whole days);
 * null for anything else, or a date that does not parse, so that no original is left.
 */
export function shiftDate(value: Value, days: number): Value {
  if (!(value instanceof DicomDate)) return null
  if (value.vr === 'TM') return value
  const m = value.vr === 'DA' ? /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(value.stored) : DT.exec(value.stored)
  if (!m) return null
  const [year, month, day] = [
    Number(m[1]),
    m[2] === undefined ? 1 : Number(m[2]),
    m[3] === undefined ? 1 : Number(m[3]),
  ]
  const date = new Date(Date.UTC(year, month - 1, day))
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null
  date.setUTCDate(date.getUTCDate() + days)
  const iso = date.toISOString()
  const y = iso.slice(0, 4)
  if (!/^\d{4}$/.test(y)) return null
  const ymd = `${y}${iso.slice(5, 7)}${iso.slice(8, 10)}`
  if (value.vr === 'DA') return new DicomDate('DA', ymd)
  const precision = m[3] !== undefined ? 8 : m[2] !== undefined ? 6 : 4
  return new DicomDate('DT', ymd.slice(0, precision) + (m[4] ?? ''))
}

const DT = /^(\d{4})(\d{2})?(\d{2})?(.*)$/

// ---- columns ----

/** What the privacy rules know of a column: its attribute, the profile's word on it, the actions that suit it. */
export interface ColumnPrivacy {
  /** The keyword (`PatientID`), `path`, or the tag (`(0019,1023)`): the domain of its pseudonyms. */
  attribute: string
  /** The profile's entry, when the column is identifying (a profiled attribute, a private one, `path`, `mtime`). */
  profiled?: ProfiledAttribute
  /** The actions that suit the column's value type. */
  allowed: readonly PrivacyAction[]
}

const TEXT_ACTIONS: readonly PrivacyAction[] = ['pseudonym', 'remove', 'keep']
const BY_VR: Readonly<Record<string, readonly PrivacyAction[]>> = {
  UI: ['uid', 'pseudonym', 'remove', 'keep'],
  DA: ['shift_date', 'year_only', 'remove', 'keep'],
  DT: ['shift_date', 'year_only', 'remove', 'keep'],
  TM: ['shift_date', 'remove', 'keep'],
  AS: ['age_band', 'pseudonym', 'remove', 'keep'],
}
const NUMERIC_VRS = new Set(['DS', 'IS', 'FL', 'FD', 'US', 'SS', 'UL', 'SL', 'SV', 'UV', 'xs', 'up', 'lt'])
const BYTES_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN', 'ox'])

/** The privacy facts of an extracted column. */
export function columnPrivacy(column: ColumnSpec): ColumnPrivacy {
  const source = column.source
  if (source.kind === 'pseudo') {
    if (source.name === 'path') return { attribute: 'path', profiled: PATH_PROFILE, allowed: ['pseudonym', 'remove'] }
    if (source.name === 'mtime') return { attribute: 'mtime', profiled: MTIME_PROFILE, allowed: ['remove', 'keep'] }
    return { attribute: source.name, allowed: ['remove', 'keep'] }
  }
  const last = source.path ? source.path[source.path.length - 1] : undefined
  const tag = last?.tag ?? source.tag
  const entry = last?.creator ? undefined : lookupTag(tag)
  const keyword = source.content ? undefined : (entry?.keyword ?? source.keyword)
  const attribute = keyword ?? formatTag(tag)
  const profiled = source.content ? undefined : profiledAttribute(tag)
  const vr = source.content ? (source.content.unit !== undefined ? 'DS' : 'LO') : (entry?.vr ?? 'LO')
  const allowed = BY_VR[vr] ?? (NUMERIC_VRS.has(vr) || BYTES_VRS.has(vr) ? ['remove', 'keep'] : TEXT_ACTIONS)
  return { attribute, ...(profiled && { profiled }), allowed }
}

/** `path` is not an attribute, but folder names often hold names and IDs: keyed, or removed. */
const PATH_PROFILE: ProfiledAttribute = { basic: 'path', suggested: 'pseudonym' }
/** The file's time is near the acquisition's: a date the profile would remove. */
const MTIME_PROFILE: ProfiledAttribute = { basic: 'file time', suggested: 'remove' }

/**
 * What is wrong with giving `action` to a column, or undefined: an action that does not suit its
 * type (`uid` on a date), `keep` on `path`.
 */
export function checkAction(column: ColumnSpec, action: PrivacyAction): string | undefined {
  const { allowed } = columnPrivacy(column)
  if (allowed.includes(action)) return undefined
  return `privacy.columns.${column.name}: ${action} does not suit ${column.name}: one of ${allowed.join(', ')}`
}

/** The problem of an identifying column given no action (`keep` must be said), or undefined. */
export function missingAction(column: ColumnSpec, actions: Readonly<Record<string, unknown>>): string | undefined {
  if (Object.hasOwn(actions, column.name)) return undefined
  const { attribute, profiled, allowed } = columnPrivacy(column)
  if (!profiled) return undefined
  const why =
    attribute === 'path'
      ? 'path holds folder and file names, which often hold names and IDs'
      : attribute === 'mtime'
        ? 'mtime is near the acquisition date'
        : `${attribute} is identifying (PS3.15 Table E.1-1, basic profile: ${profiled.basic})`
  return `${why}: give it an action in privacy.columns: one of ${allowed.join(', ')} (suggested: ${profiled.suggested})`
}

/**
 * The actions `--pseudonymise` gives a pipeline without `privacy:`: each identifying column its
 * suggested action (PS3.15 Table E.1-1), the others none (kept).
 */
export function profileActions(columns: readonly ColumnSpec[]): Record<string, PrivacyAction> {
  const actions: Record<string, PrivacyAction> = {}
  // Without PatientID, dates cannot move per patient: they keep their year alone (times: removed).
  const patient = columns.some(isPatientColumn)
  for (const column of columns) {
    const { profiled, allowed } = columnPrivacy(column)
    if (!profiled) continue
    const suggested =
      profiled.suggested === 'shift_date' && !patient
        ? allowed.includes('year_only')
          ? 'year_only'
          : 'remove'
        : profiled.suggested
    actions[column.name] = allowed.includes(suggested) ? suggested : 'remove'
  }
  return actions
}

/** The top-level PatientID column, which date shifts read. */
export function isPatientColumn(column: ColumnSpec): boolean {
  const source = column.source
  return source.kind === 'element' && !source.path && !source.content && source.keyword === 'PatientID'
}

/** Whether a column's actions need the patient's pseudonym (date shifts do). */
export function needsPatient(actions: Readonly<Record<string, PrivacyAction>>): boolean {
  return Object.values(actions).includes('shift_date')
}

/** In words, what an action makes of a column, for `etl privacy-report`. */
export function describeAction(action: PrivacyAction, privacy: ColumnPrivacy, shiftDays: number): string {
  switch (action) {
    case 'pseudonym':
      return privacy.attribute === 'path'
        ? 'each folder and file name a keyed token of 13 characters'
        : `a keyed token ${prefixOf(privacy.attribute)}-XXXXXXXXXXXXXXXX (HMAC-SHA-256), the same for the same value`
    case 'uid':
      return 'a keyed UID 2.25.<128 bits of HMAC-SHA-256>, the same for the same UID in any column'
    case 'shift_date':
      return `moved by the patient's own number of days (1 to ${shiftDays}, earlier or later); times as they are`
    case 'year_only':
      return 'the year alone'
    case 'age_band':
      return '5-year band (0-4 ... 85-88), 89+'
    case 'remove':
      return 'empty'
    case 'keep':
      return 'as it is (original values)'
  }
}

// ---- the stage ----

/** What a run pseudonymises with: the key's functions, and the actions by column index. */
export interface PrivacyPlan {
  keyed: Pseudonymiser
  /** A row rewritten in place. */
  row: (row: Row) => void
  /** A path as shown (`displayPath`) with its names keyed: for cells, the errors file and the log. */
  path: (shown: string) => string
}

/**
 * The plan of a run: the actions of `privacy.columns` by column index. Date shifts read the
 * PatientID column (load checks it is extracted), before it is itself replaced.
 */
export function privacyPlan(
  columns: readonly ColumnSpec[],
  privacy: { columns: Readonly<Record<string, PrivacyAction>>; shiftDays: number },
  key: Buffer,
): PrivacyPlan {
  const keyed = new Pseudonymiser(key)
  const steps = columns.flatMap((column, index) => {
    const action = privacy.columns[column.name]
    if (action === undefined || action === 'keep') return []
    return [{ index, action, attribute: columnPrivacy(column).attribute }]
  })
  const patient = columns.findIndex(isPatientColumn)
  const window = privacy.shiftDays
  const path = (shown: string) => keyed.path(shown)
  return {
    keyed,
    path,
    row(row) {
      let days: number | undefined
      const shift = () => {
        if (days === undefined) {
          const id = patient < 0 ? '' : valueText(row[patient])
          days = keyed.shiftDays(keyed.token('PatientID', id), window)
        }
        return days
      }
      for (const { index, action, attribute } of steps) {
        const value = row[index]
        row[index] = mapValue(value, (v) => {
          switch (action) {
            case 'pseudonym':
              if (attribute === 'path') return typeof v === 'string' ? path(v) : null
              return keyed.token(attribute, v instanceof PersonName || v instanceof DicomDate ? v.stored : valueText(v))
            case 'uid':
              return typeof v === 'string' ? keyed.uid(v) : null
            case 'shift_date':
              return shiftDate(v, shift())
            case 'year_only':
              return yearOnly(v)
            case 'age_band':
              return ageBand(v)
            default:
              return null
          }
        })
      }
    },
  }
}

/** Each of a value's values mapped (null stays null: an empty cell says nothing). */
function mapValue(value: Value, map: (value: Exclude<Value, null | Value[]>) => Value): Value {
  if (value === null) return null
  if (Array.isArray(value)) return value.map((v) => mapValue(v, map))
  if (value === '') return ''
  return map(value)
}

/**
 * The stage: rows (or the records of an incremental run) with each column as its action says.
 * A record the state gave (`fromState`) is already pseudonymised and passes as it is; a new one
 * has its rows and its SOP Instance UID replaced (the state records both).
 */
export function pseudonymiseRows(
  plan: PrivacyPlan,
  fromState: (record: SourceRecord) => boolean = () => false,
): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(chunk: Row | SourceRecord, _encoding, callback) {
      if (Array.isArray(chunk)) plan.row(chunk)
      else if (!fromState(chunk)) {
        for (const row of chunk.rows) plan.row(row)
        chunk.sop = chunk.sop === '' ? '' : plan.keyed.uid(chunk.sop)
      }
      callback(null, chunk)
    },
  })
}
