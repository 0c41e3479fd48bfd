/**
 * The DICOMweb source (PS3.18): QIDO-RS finds the studies, then each study's series; WADO-RS
 * gives each series' metadata (DICOM JSON), one data set per instance. Each data set is written
 * back as Part 10 bytes (`dicom/dicom-json.ts`) and read by the same header scanner and projector
 * as a file, so a column means the same for both sources. The `path` column is the instance's
 * WADO-RS URL.
 *
 * Two stages: `listSeries` (QIDO, paged with limit/offset; a page that repeats, as from a server
 * that ignores offset, or a result count at a server's cap is reported, never silently cut) and
 * `readSeries` (metadata of `concurrency` series at a time, rows out in the order the series
 * were listed). For an incremental run each series is one record (its rows, its instance count
 * as its size, and in place of a file's SOPInstanceUID the index of its instances: `sop:rows`
 * each): a series whose QIDO-RS instance count is the state's is not fetched again; one that
 * changed is fetched, and only its instances the index does not know are projected. `--since`
 * asks for a StudyDate range and leaves out that day's studies before its time here. The HTTP
 * client (`io/http-client.ts`) bounds the requests in flight and their rate, and retries. A
 * study list that cannot be read stops the run (exit 69, or 77 when the server refuses the
 * credentials); a series that keeps failing is a failure of its own, in `--errors` with its URL
 * and reason, and the run goes on.
 */
import { readFileSync } from 'node:fs'
import { Readable, Transform } from 'node:stream'
import { dropMadeUpMeta, jsonToPart10, type JsonDataset } from '../dicom/dicom-json.js'
import { formatTag, Tags } from '../dicom/keywords.js'
import { planRead } from '../dicom/read-plan.js'
import { scanHeader } from '../dicom/scan-header.js'
import { recordKey } from '../io/state-file.js'
import { EtlError, ExitCode } from '../errors.js'
import { createHttpClient, HttpError, type HttpClient } from '../io/http-client.js'
import type { Fields } from '../pipeline/fields.js'
import type { DicomwebSpec } from '../pipeline/spec.js'
import type { Row, SourceRecord } from '../records.js'
import { FRAME_TAGS } from '../dicom/frames.js'
import { columnGroups, columnTags } from '../transforms/project-keywords.js'
import { rowResult, type ProjectJob } from './read-batch.js'
import type { SourceContext } from './source.js'

const string = { kind: 'string' } as const
const seconds = { kind: 'integer', min: 1, max: 3600 } as const

/** QIDO-RS matching keys of studies (PS3.18 table 10.6.1-5), passed on as given. */
export const STUDY_QUERY_KEYS = [
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'ModalitiesInStudy',
  'ReferringPhysicianName',
  'PatientName',
  'PatientID',
  'StudyInstanceUID',
  'StudyID',
  'StudyDescription',
] as const
/** QIDO-RS matching keys of series, asked of each study's series. */
export const SERIES_QUERY_KEYS = ['Modality', 'SeriesInstanceUID', 'SeriesNumber', 'SeriesDescription'] as const

/** The YAML fields of `source:` for DICOMweb (besides `type`; `concurrency` is shared). */
export const dicomwebFields = {
  url: {
    doc: "With `type: dicomweb`: the DICOMweb base URL (QIDO-RS and WADO-RS), e.g. Orthanc's `http://pacs:8042/dicom-web`.",
    example: 'url: https://pacs.example.org/dicom-web',
    type: string,
  },
  query: {
    doc:
      'With `type: dicomweb`: QIDO-RS matching keys, as PS3.18 writes them (ranges `20261101-20261130`, ' +
      'wildcards `CT*`). Study keys ask for studies, series keys (Modality, SeriesNumber, ...) for their series.',
    example: "query: {StudyDate: '20261101-20261130', ModalitiesInStudy: CT}",
    type: {
      kind: 'mapping',
      fields: Object.fromEntries(
        [...STUDY_QUERY_KEYS, ...SERIES_QUERY_KEYS].map((key) => [
          key,
          { doc: `QIDO-RS matching key ${key}.`, example: `${key}: '*'`, type: string },
        ]),
      ),
    },
  },
  auth: {
    doc:
      'With `type: dicomweb`: the credentials, read from an environment variable or a file, never written here ' +
      '(a `password` or `token` key is a problem).',
    type: {
      kind: 'mapping',
      fields: {
        type: {
          default: 'none',
          doc: '`none`, `basic` (user and password) or `bearer` (a token).',
          example: 'type: bearer',
          type: { kind: 'enum', values: ['none', 'basic', 'bearer'] },
        },
        username: { doc: 'The user name of basic auth.', example: 'username: etl', type: string },
        password_env: {
          doc: 'The environment variable holding the basic auth password.',
          example: 'password_env: PACS_PASSWORD',
          type: string,
        },
        password_file: {
          doc: 'A file holding the basic auth password (relative to the pipeline file).',
          example: 'password_file: /run/secrets/pacs',
          type: string,
        },
        token_env: {
          doc: 'The environment variable holding the bearer token.',
          example: 'token_env: PACS_TOKEN',
          type: string,
        },
        token_file: {
          doc: 'A file holding the bearer token (relative to the pipeline file).',
          example: 'token_file: /run/secrets/pacs-token',
          type: string,
        },
        password: {
          doc: 'Refused: a secret written in a pipeline file is read by whoever reads the file. Use `password_env` or `password_file`.',
          type: string,
        },
        token: {
          doc: 'Refused: a secret written in a pipeline file is read by whoever reads the file. Use `token_env` or `token_file`.',
          type: string,
        },
      },
    },
  },
  ca_file: {
    doc: 'With `type: dicomweb`: a PEM file of extra certificate authorities for HTTPS.',
    example: 'ca_file: /etc/ssl/hospital-ca.pem',
    type: string,
  },
  connect_timeout_secs: {
    default: 10,
    doc: 'With `type: dicomweb`: seconds to connect before the attempt fails (and is retried).',
    example: 'connect_timeout_secs: 5',
    type: seconds,
  },
  read_timeout_secs: {
    default: 60,
    doc: 'With `type: dicomweb`: seconds of silence while waiting for an answer before the attempt fails.',
    example: 'read_timeout_secs: 120',
    type: seconds,
  },
  retries: {
    default: 4,
    doc:
      'With `type: dicomweb`: retries of a request after connection errors, timeouts, 429 and 5xx answers, ' +
      'with exponential backoff and jitter (Retry-After honoured).',
    example: 'retries: 6',
    type: { kind: 'integer', min: 0, max: 20 },
  },
  requests_per_second: {
    doc: 'With `type: dicomweb`: requests started per second at most (none by default), to spare a clinical PACS.',
    example: 'requests_per_second: 20',
    type: { kind: 'integer', min: 1, max: 10000 },
  },
  page_size: {
    default: 100,
    doc: 'With `type: dicomweb`: results asked per QIDO-RS page (`limit`), paged with `offset`.',
    example: 'page_size: 500',
    type: { kind: 'integer', min: 1, max: 100000 },
  },
} as const satisfies Fields

/** Series in flight when `concurrency` is not given. */
export const DEFAULT_DICOMWEB_CONCURRENCY = 4

/** A series to read: its study, its UID, where its metadata is, and its instances as QIDO-RS counts them. */
interface SeriesTask {
  study: string
  series: string
  url: string
  count?: number
}

/**
 * The rows of each instance of a series' record, by SOPInstanceUID, from the record's index
 * (`sop:rows` of each instance read, in order, space-separated); undefined when the record has
 * none (a state of an earlier etl, a pseudonymised run) or one that does not add up to its rows.
 * An instance that failed is not in the index (it gave no rows): it is read again.
 */
export function instanceRows(entry: { sop: string; rows: Row[] }): Map<string, Row[]> | undefined {
  if (entry.sop === '') return undefined
  const map = new Map<string, Row[]>()
  let at = 0
  for (const item of entry.sop.split(' ')) {
    const colon = item.lastIndexOf(':')
    const count = Number(item.slice(colon + 1))
    if (colon < 0 || !Number.isSafeInteger(count) || count < 0) return undefined
    // An instance without a SOPInstanceUID (`:rows`) keeps its place but is read again.
    if (colon > 0) map.set(item.slice(0, colon), entry.rows.slice(at, at + count))
    at += count
  }
  return at === entry.rows.length ? map : undefined
}

/** The stages of the DICOMweb source: the series lister, the metadata reader. */
export function dicomwebSource(context: SourceContext): (Readable | Transform)[] {
  const { spec } = context
  const web = spec.source.dicomweb as DicomwebSpec
  const base = web.url.replace(/\/+$/, '')
  const concurrency = spec.source.concurrency ?? DEFAULT_DICOMWEB_CONCURRENCY
  let client: Promise<HttpClient> | undefined
  const http = () =>
    (client ??= createHttpClient({
      authorization: authorization(web),
      caFile: web.caFile,
      connectTimeoutMs: web.connectTimeoutMs,
      readTimeoutMs: web.readTimeoutMs,
      retries: web.retries,
      backoffMs: web.backoffMs,
      concurrency,
      requestsPerSecond: web.requestsPerSecond,
    }))
  const close = async () => {
    if (client) await (await client).close()
  }
  const query = { ...web.query }
  // --since: the studies from its day on, asked of the server (StudyDate, a DA range), then those
  // of that day before its time left out here. Not a StudyDate plus StudyTime range: servers match
  // the two apart (Orthanc 1.10 does), which leaves out a study after midnight, earlier in the day.
  let after: string | undefined
  const since = spec.source.since
  if (since && query.StudyDate === undefined) {
    query.StudyDate = `${dicomDate(since)}-`
    if (dicomTime(since) !== '000000') after = dicomDate(since) + dicomTime(since)
  }
  const lister = listSeries({ base, query, after, pageSize: web.pageSize ?? 100, http, context })
  const reader = readSeries({ http, context, concurrency, close })
  return [lister, reader]
}

/** The Authorization header the auth settings give (secrets from the environment or files). */
function authorization(web: DicomwebSpec): string | undefined {
  const auth = web.auth
  if (!auth || auth.type === 'none') return undefined
  const secret = (env: string | undefined, file: string | undefined, what: string): string => {
    if (env !== undefined) {
      const value = process.env[env]
      if (value === undefined || value === '') {
        throw new EtlError('E_NOPERM', `the ${what} variable ${env} is not set`, ExitCode.NOPERM)
      }
      return value
    }
    if (file !== undefined) {
      try {
        return readFileSync(file, 'utf8').replace(/\r?\n$/, '')
      } catch (err) {
        throw new EtlError(
          'E_NOPERM',
          `cannot read the ${what} file ${file}: ${(err as Error).message}`,
          ExitCode.NOPERM,
        )
      }
    }
    throw new EtlError('E_CONFIG', `auth ${auth.type} needs ${what}_env or ${what}_file`, ExitCode.CONFIG)
  }
  if (auth.type === 'bearer') return `Bearer ${secret(auth.tokenEnv, auth.tokenFile, 'token')}`
  const password = secret(auth.passwordEnv, auth.passwordFile, 'password')
  return `Basic ${Buffer.from(`${auth.username ?? ''}:${password}`).toString('base64')}`
}

/** YYYYMMDD of a date, in local time (StudyDate is the scanner's local date). */
function dicomDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`
}

/** HHMMSS of a time, in local time (StudyTime is the scanner's local time). */
function dicomTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`
}

/**
 * Whether a study (a QIDO-RS result) is at or after `after` (YYYYMMDDHHMMSS) by its StudyDate and
 * StudyTime. A study whose date or time cannot be told is kept: leaving out is for what is
 * known to be older.
 */
export function studyAtOrAfter(study: unknown, after: string): boolean {
  const date = firstValue(study, '00080020')?.trim()
  if (date === undefined || !/^\d{8}$/.test(date)) return true
  if (date !== after.slice(0, 8)) return date > after.slice(0, 8)
  // TM: HH, HHMM, HHMMSS, with a fraction; the old HH:MM:SS too.
  const time = /^(\d{2}(?:\d{2}(?:\d{2})?)?)(?:\.\d*)?$/.exec(
    firstValue(study, '00080030')?.trim().replace(/:/g, '') ?? '',
  )
  if (!time) return true
  return time[1].padEnd(6, '0') >= after.slice(8)
}

/** A fatal error for a request that failed while listing. */
function fatal(err: unknown): Error {
  if (!(err instanceof HttpError)) return err as Error
  if (err.status === 401 || err.status === 403) {
    return new EtlError('E_NOPERM', `DICOMweb server refused the credentials: ${err.message}`, ExitCode.NOPERM)
  }
  return new EtlError('E_UNAVAILABLE', `DICOMweb server unavailable: ${err.message}`, ExitCode.UNAVAILABLE)
}

/** The text of an attribute's first value in a QIDO result. */
function firstValue(dataset: unknown, tag: string): string | undefined {
  const value = (dataset as JsonDataset | undefined)?.[tag]?.Value?.[0]
  return typeof value === 'string' ? value : undefined
}

interface ListOptions {
  base: string
  query: Record<string, string | undefined>
  /** Studies before this date and time (YYYYMMDDHHMMSS, from --since) are left out. */
  after?: string
  pageSize: number
  http: () => Promise<HttpClient>
  context: SourceContext
}

/**
 * The series of the studies the query finds, as a readable object stream of tasks. Each QIDO
 * search is paged with limit and offset until a page comes back short or empty. A page that
 * brings nothing new (a server that ignores offset) stops the paging, and a full page then is a
 * failure: the rest cannot be read. A short page whose size is round (a server's cap, e.g. 100)
 * is checked with one more page; when that one has results, the cap is noted and paging goes on
 * by it.
 */
function listSeries({ base, query, after, pageSize, http, context }: ListOptions): Readable {
  const studyKeys = new URLSearchParams()
  const seriesKeys = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    if ((SERIES_QUERY_KEYS as readonly string[]).includes(key)) seriesKeys.set(key, value)
    else studyKeys.set(key, value)
  }
  // The series' instance count: an unchanged series (by it) is taken from the state.
  seriesKeys.set('includefield', '00201209')
  // StudyTime, a default return key of studies, asked all the same when --since needs it.
  if (after) studyKeys.append('includefield', '00080030')
  let capNoted = false
  const pages = async function* (url: string, params: URLSearchParams, uidTag: string) {
    const client = await http()
    const seen = new Set<string>()
    // The page size the server honours: ours, or its cap once a short page proves not the last.
    let size = pageSize
    for (let offset = 0; ;) {
      const page = new URLSearchParams(params)
      page.set('limit', String(pageSize))
      page.set('offset', String(offset))
      const got = ((await client.getJson(`${url}?${page}`)) ?? []) as unknown[]
      if (!Array.isArray(got)) throw new HttpError(url, 'QIDO-RS answer is not a JSON array')
      const fresh = got.filter((d) => {
        const uid = firstValue(d, uidTag)
        if (uid === undefined || seen.has(uid)) return false
        seen.add(uid)
        return true
      })
      yield* fresh
      if (got.length === 0) return
      if (fresh.length === 0) {
        // The same page again: the server ignores offset. A full first page hides the rest.
        context.info.read.failed++
        context.onSkip({
          path: `${url}?${params}`,
          outcome: 'failed',
          code: 'E_HTTP',
          reason: `the server ignores offset: only the first ${seen.size} results could be read`,
        })
        return
      }
      if (size < pageSize && offset === size && !capNoted) {
        capNoted = true
        context.onNote(
          `the server gives at most ${size} results per QIDO-RS page (asked ${pageSize}): paged by ${size}`,
        )
      }
      offset += got.length
      if (got.length >= size) continue
      // A short page of a round size may be a server's cap (e.g. 100): the next page tells.
      if (got.length % 10 !== 0 || size < pageSize) return
      size = got.length
    }
  }
  const web = (context.info.list.web = { studies: 0, series: 0, seriesRead: 0 })
  async function* tasks(): AsyncGenerator<SeriesTask> {
    try {
      for await (const study of pages(`${base}/studies`, studyKeys, '0020000D')) {
        if (after && !studyAtOrAfter(study, after)) continue
        web.studies++
        const studyUid = firstValue(study, '0020000D') as string
        const seriesUrl = `${base}/studies/${encodeURIComponent(studyUid)}/series`
        try {
          for await (const series of pages(seriesUrl, seriesKeys, '0020000E')) {
            const seriesUid = firstValue(series, '0020000E') as string
            const count = (series as JsonDataset)['00201209']?.Value?.[0]
            web.series++
            yield {
              study: studyUid,
              series: seriesUid,
              url: `${seriesUrl}/${encodeURIComponent(seriesUid)}`,
              ...(count !== undefined && Number.isInteger(Number(count)) && { count: Number(count) }),
            }
          }
        } catch (err) {
          // A study whose series the server will not list is a failure of its own; the run goes on
          // (a server gone, or one refusing the credentials, stops it).
          if (!(err instanceof HttpError) || err.unreachable || err.status === 401 || err.status === 403) throw err
          context.info.read.failed++
          context.onSkip({ path: err.url, outcome: 'failed', code: 'E_HTTP', reason: err.reason })
        }
      }
    } catch (err) {
      throw fatal(err)
    }
    context.info.list.done = true
  }
  return Readable.from(tasks(), { objectMode: true, highWaterMark: 16 })
}

interface ReadOptions {
  http: () => Promise<HttpClient>
  context: SourceContext
  concurrency: number
  close: () => Promise<void>
}

/** What reading a series gave: its rows, or nothing (its failure reported). */
type SeriesResult = (Row | SourceRecord)[]

/**
 * Reads the metadata of each series (`concurrency` at once), one data set per instance, each
 * projected to its rows as a file's header is; rows leave in the order the series came in.
 */
function readSeries({ http, context, concurrency, close }: ReadOptions): Transform {
  const { spec, info } = context
  const where = spec.where
  // The columns the filter reads and the pipeline does not: read, tested, then cut off.
  const columns = where ? [...spec.columns, ...where.hidden] : spec.columns
  const perFrame = spec.rows === 'per_frame'
  const perItem = spec.perItem?.steps
  const tags = columnTags(columns)
  tags.push(Tags.SOPInstanceUID)
  if (perFrame) tags.push(...FRAME_TAGS)
  if (perItem) tags.push(perItem[0].tag)
  const plan = planRead(tags, { groups: columnGroups(columns) })
  /** The top-level tags the columns read: their bulk data is fetched. */
  const bulkTags = new Set(columnTags(columns))
  const project: ProjectJob = {
    columns,
    format: spec.format,
    perFrame,
    perItem,
    ...(where && { where: { expr: where.expr, width: spec.columns.length } }),
  }
  const pending: Promise<SeriesResult>[] = []

  const state = context.state
  async function read(task: SeriesTask): Promise<SeriesResult> {
    const known = state?.previous?.lookup(recordKey(state, task.url), state.width, () => state.unusable++)
    if (state && known && task.count !== undefined && known.entry.size === task.count) {
      const record: SourceRecord = { path: task.url, ...known.entry }
      state.known.set(record, known.line)
      state.unchanged += task.count
      state.unchangedRows += record.rows.length
      info.list.listed += task.count
      return [record]
    }
    // A series that changed: the rows of the instances the state holds are taken from it, by
    // SOPInstanceUID; only the others are projected. Not in a pseudonymised run, whose records
    // hold keyed UIDs and rows the privacy stage must not key again: there the series is read whole.
    const kept = state && known && !state.privacy ? instanceRows(known.entry) : undefined
    const client = await http()
    let instances: unknown
    try {
      instances = await client.getJson(`${task.url}/metadata`)
    } catch (err) {
      if (err instanceof HttpError && (err.status === 401 || err.status === 403)) throw fatal(err)
      info.read.failed++
      const reason = err instanceof HttpError ? err.reason : (err as Error).message
      context.onSkip({ path: `${task.url}/metadata`, outcome: 'failed', code: 'E_HTTP', reason })
      return []
    }
    if (!Array.isArray(instances)) {
      info.read.failed++
      context.onSkip({
        path: `${task.url}/metadata`,
        outcome: 'failed',
        code: 'E_HTTP',
        reason: 'metadata is not a JSON array of data sets',
      })
      return []
    }
    const out: Row[] = []
    // The index of the series' record: each instance's SOPInstanceUID and how many rows it gave.
    const index: string[] = []
    let failed = false
    for (const dataset of instances as JsonDataset[]) {
      info.list.listed++
      const sop = firstValue(dataset, '00080018') ?? ''
      const rows = sop === '' ? undefined : kept?.get(sop)
      if (state && rows) {
        state.unchanged++
        state.unchangedRows += rows.length
        out.push(...rows)
        index.push(`${sop}:${rows.length}`)
        continue
      }
      const path = `${task.url}/instances/${encodeURIComponent(sop)}`
      let header
      try {
        const converted = jsonToPart10(dataset)
        let bytes = converted.bytes
        // Values the server gives by reference: fetched only when a column asks for them.
        const wanted = [...converted.bulkData].filter(([tag]) => bulkTags.has(tag))
        if (wanted.length > 0) {
          for (const [tag, uri] of wanted) {
            const key = tag.toString(16).toUpperCase().padStart(8, '0')
            try {
              const value = await client.getBulk(uri)
              dataset[key] = { vr: dataset[key]?.vr, InlineBinary: value.toString('base64') }
            } catch (err) {
              const reason = err instanceof HttpError ? err.reason : (err as Error).message
              context.onWarning(path, `${formatTag(tag)}: bulk data not read (${uri}: ${reason})`)
            }
          }
          bytes = jsonToPart10(dataset).bytes
        }
        const scanned = scanHeader(bytes, true, plan)
        if (!scanned.done) throw new Error('data set cut short')
        header = { ...scanned.header, textUtf8: true, bytesRead: bytes.length }
        dropMadeUpMeta(header.elements)
      } catch (err) {
        info.read.failed++
        failed = true
        const reason = (err as Error).message
        context.onSkip({ path, outcome: 'failed', code: 'E_CORRUPT', reason })
        continue
      }
      const result = rowResult(path, header, project)
      if (!('rows' in result)) {
        info.read.failed++
        failed = true
        if ('skip' in result) context.onSkip(result.skip)
        continue
      }
      info.read.read++
      info.read.bytesRead += result.bytesRead
      info.read.rows += result.rows.length
      info.read.filtered += result.filtered ?? 0
      if (result.warnings) for (const message of result.warnings) context.onWarning(path, message)
      out.push(...result.rows)
      index.push(`${/^[^\s:]+$/.test(sop) ? sop : ''}:${result.rows.length}`)
    }
    // For the state: the series as one record, its instance count as its size (-1, never equal to
    // a count, when an instance failed: the series is read again next time, its failure reported),
    // its index in place of a file's SOPInstanceUID (none in a pseudonymised run).
    const size = failed ? -1 : instances.length
    const sop = state?.privacy ? '' : index.join(' ')
    if (context.records) return [{ path: task.url, rows: out, size, mtimeMs: 0, ino: 0, sop }]
    return out
  }

  const stream = new Transform({
    objectMode: true,
    highWaterMark: 16,
    transform(task: SeriesTask, _encoding, callback) {
      const job = read(task)
      job.catch(() => {})
      pending.push(job)
      info.read.inFlight = pending.length
      info.read.maxInFlight = Math.max(info.read.maxInFlight, pending.length)
      // A window of `concurrency` series: the first is waited for once the window is full.
      if (pending.length < concurrency) return callback()
      emitFirst().then(() => callback(), callback)
    },
    flush(callback) {
      const finish = async () => {
        while (pending.length > 0) await emitFirst()
      }
      finish().then(
        () => close().then(() => callback(), callback),
        (err: Error) => void close().finally(() => callback(err)),
      )
    },
    destroy(error, callback) {
      close().finally(() => callback(error))
    },
  })

  /** Emits the first series' rows once read. */
  async function emitFirst(): Promise<void> {
    const rows = await (pending[0] as Promise<SeriesResult>)
    pending.shift()
    if (info.list.web) info.list.web.seriesRead++
    info.read.inFlight = pending.length
    for (const row of rows) stream.push(row)
  }
  return stream
}
