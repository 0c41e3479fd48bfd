/**
 * The flags whose text is parsed here rather than by yargs: --max-failures (a count or a share)
 * and --since (a date or a duration back from now). Bad text is a usage error.
 */
import type { FailureLimit } from '../pipeline/run.js'
import { usage } from './fail.js'

/** --max-failures: `10` (files) or `2%` (of the DICOM files read); throws a usage error otherwise. */
export function parseFailureLimit(text: string | undefined): FailureLimit | undefined {
  if (text === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim())
  if (!m || (!m[2] && !Number.isInteger(Number(m[1])))) {
    return usage(`--max-failures must be a count (10) or a percentage (2%), got "${text}"`)
  }
  return m[2] ? { percent: Number(m[1]) } : { count: Number(m[1]) }
}

const SINCE_FORMS = 'a date (2026-11-01, 2026-11-01T06:00) or a duration (30m, 24h, 7d, 2w)'

/**
 * --since: a date or date-time, or a duration back from now (`30m`, `24h`, `7d`, `2w`); throws a
 * usage error otherwise. A date alone and a date-time without a zone are read in local time
 * (`2026-11-01` is local midnight, as a cron user means it); `Z` or `+01:00` names the zone. A date
 * that does not exist (`2026-02-30`, `T24:00`) is refused, not rolled over into the next month.
 */
export function parseSince(text: string | undefined, now = Date.now()): Date | undefined {
  if (text === undefined) return undefined
  const trimmed = text.trim()
  const duration = /^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$/i.exec(trimmed)
  if (duration) {
    const minutes = { m: 1, min: 1, h: 60, d: 1440, w: 10080 }[
      duration[2].toLowerCase() as 'm' | 'min' | 'h' | 'd' | 'w'
    ]
    const date = new Date(now - Number(duration[1]) * minutes * 60_000)
    if (Number.isNaN(date.getTime())) return usage(`--since ${text}: a duration reaching back before any date`)
    return date
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(Z|([+-])(\d{2}):?(\d{2}))?$/i.exec(trimmed)
  if (!m) return usage(`--since must be ${SINCE_FORMS}, got "${text}"`)
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((n) => Number(n ?? 0))
  const zoneMinutes = m[9] === undefined ? 0 : Number(m[9]) * 60 + Number(m[10])
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
  const exists = days !== undefined && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59
  if (!exists || Number(m[10] ?? 0) > 59 || zoneMinutes > 14 * 60) {
    return usage(`--since ${text}: no such date or time`)
  }
  let date: Date
  if (m[7] === undefined) {
    date = new Date(2000, month - 1, day, hour, minute, second)
    date.setFullYear(year)
  } else {
    const utc = new Date(Date.UTC(2000, month - 1, day, hour, minute, second))
    utc.setUTCFullYear(year)
    date = new Date(utc.getTime() - (m[8] === '-' ? -1 : 1) * zoneMinutes * 60_000)
  }
  return date
}

/**
 * The DICOMweb base URL among the inputs, when they name one: an http(s) URL selects the
 * DICOMweb source. Undefined for paths. @throws EtlError E_USAGE for a URL beside other inputs.
 */
export function dicomwebInput(inputs: readonly string[]): string | undefined {
  const urls = inputs.filter((input) => /^https?:\/\//i.test(input))
  if (urls.length === 0) return undefined
  if (inputs.length > 1) usage('a DICOMweb URL is read alone: give one URL, or paths')
  const url = urls[0]
  try {
    new URL(url)
  } catch {
    usage(`${url} is not a valid URL`)
  }
  return url
}
