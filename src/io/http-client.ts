/**
 * The HTTP client of the DICOMweb source, over undici (Node's own HTTP engine): GETs of JSON
 * with connect and read timeouts, a bound on requests in flight, an optional requests-per-second
 * limit, and retries with exponential backoff and jitter on connection errors, timeouts, 429,
 * 5xx and bodies that are not whole JSON (a connection dropped mid-body), honouring Retry-After.
 * A clinical PACS is never flooded: every request, retries too, waits for a slot and its turn.
 */
import { readFileSync } from 'node:fs'
import pLimit from 'p-limit'
import type { Dispatcher } from 'undici'

/** Options of {@link createHttpClient}. */
export interface HttpOptions {
  /** The Authorization header, if any (`Basic ...`, `Bearer ...`). */
  authorization?: string
  /** A PEM file of extra certificate authorities for TLS. */
  caFile?: string
  /** Milliseconds to connect. Default 10,000. */
  connectTimeoutMs?: number
  /** Milliseconds of silence while waiting for the headers or the body. Default 60,000. */
  readTimeoutMs?: number
  /** Retries after the first attempt. Default 4. */
  retries?: number
  /** The first backoff in ms, doubled at each retry (with jitter). Default 500. */
  backoffMs?: number
  /** The longest wait before a retry, Retry-After included, in ms. Default 30,000. */
  maxBackoffMs?: number
  /** Requests in flight at most. Default 4. */
  concurrency?: number
  /** Requests started per second at most; none by default. */
  requestsPerSecond?: number
  /** Told of each retry: the URL, why, and the wait. */
  onRetry?: (url: string, reason: string, waitMs: number) => void
}

/** A request that failed for good: its URL, the reason, and the HTTP status if one came. */
export class HttpError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly status?: number,
    /** No answer at all (connection refused, DNS, timeouts): the server is unreachable. */
    readonly unreachable = false,
  ) {
    super(`${url}: ${reason}`)
    this.name = 'HttpError'
  }
}

/** A client: JSON GETs, closed at the end. */
export interface HttpClient {
  /** The JSON of a GET (undefined for 204 No Content). @throws HttpError after the retries. */
  getJson(url: string): Promise<unknown>
  /**
   * The bytes of a WADO-RS bulk data GET: the first part of a multipart/related answer, or the
   * whole body. @throws HttpError after the retries.
   */
  getBulk(url: string): Promise<Buffer>
  /** Counts: requests made (retries too), retries, the most in flight at once. */
  info: { requests: number; retries: number; inFlight: number; maxInFlight: number }
  close(): Promise<void>
}

/** Whether a failure is worth another attempt, and why it happened. */
interface Attempt {
  retry: boolean
  reason: string
  status?: number
  unreachable?: boolean
  retryAfterMs?: number
}

/** Creates a client; undici is loaded on first use (runs from files never parse it). */
export async function createHttpClient(options: HttpOptions = {}): Promise<HttpClient> {
  const { Agent } = await import('undici')
  const connectTimeout = options.connectTimeoutMs ?? 10_000
  const readTimeout = options.readTimeoutMs ?? 60_000
  const concurrency = options.concurrency ?? 4
  const agent: Dispatcher = new Agent({
    connect: { timeout: connectTimeout, ...(options.caFile && { ca: readFileSync(options.caFile) }) },
    headersTimeout: readTimeout,
    bodyTimeout: readTimeout,
    connections: concurrency,
    keepAliveTimeout: 4_000,
  })
  const limit = pLimit(concurrency)
  const retries = options.retries ?? 4
  const backoff = options.backoffMs ?? 500
  const maxBackoff = options.maxBackoffMs ?? 30_000
  const spacing = options.requestsPerSecond ? 1000 / options.requestsPerSecond : 0
  let nextStart = 0
  const info = { requests: 0, retries: 0, inFlight: 0, maxInFlight: 0 }
  const jsonHeaders: Record<string, string> = { accept: 'application/dicom+json, application/json' }
  const bulkHeaders: Record<string, string> = {
    accept: 'multipart/related; type="application/octet-stream", application/octet-stream',
  }
  if (options.authorization) jsonHeaders.authorization = bulkHeaders.authorization = options.authorization

  /** Waits for this request's turn under the requests-per-second limit. */
  async function turn(): Promise<void> {
    if (spacing === 0) return
    const now = Date.now()
    const at = Math.max(now, nextStart)
    nextStart = at + spacing
    if (at > now) await sleep(at - now)
  }

  /** How an answer's body becomes a value: JSON, or bulk data (undefined when it is not whole). */
  type Parse = (body: Buffer, type: string) => { value: unknown } | { problem: string }
  const parseJson: Parse = (body) => {
    try {
      return { value: body.length === 0 ? undefined : JSON.parse(body.toString('utf8')) }
    } catch {
      return { problem: `not JSON (${body.length} bytes, truncated?)` }
    }
  }
  const parseBulk: Parse = (body, type) => {
    const value = firstPart(body, type)
    return value ? { value } : { problem: 'multipart answer cut short' }
  }

  async function once(
    url: string,
    headers: Record<string, string>,
    parse: Parse,
  ): Promise<{ ok: true; value: unknown } | { ok: false; attempt: Attempt }> {
    await turn()
    info.requests++
    info.inFlight++
    info.maxInFlight = Math.max(info.maxInFlight, info.inFlight)
    try {
      const res = await agent.request({ origin: new URL(url).origin, path: pathOf(url), method: 'GET', headers })
      const status = res.statusCode
      let body: Buffer
      try {
        body = Buffer.from(await res.body.arrayBuffer())
      } catch (err) {
        return { ok: false, attempt: { retry: true, reason: `body cut short (${describe(err)})`, status } }
      }
      if (status === 204) return { ok: true, value: undefined }
      if (status < 200 || status >= 300) {
        const retry = status === 429 || status === 408 || (status >= 500 && status !== 501)
        const retryAfterMs = retryAfter(res.headers['retry-after'])
        return { ok: false, attempt: { retry, reason: `HTTP ${status}`, status, retryAfterMs } }
      }
      const type = res.headers['content-type']
      const parsed = parse(body, (Array.isArray(type) ? type[0] : type) ?? '')
      if ('problem' in parsed) return { ok: false, attempt: { retry: true, reason: parsed.problem, status } }
      return { ok: true, value: parsed.value }
    } catch (err) {
      return { ok: false, attempt: { retry: true, reason: describe(err), unreachable: true } }
    } finally {
      info.inFlight--
    }
  }

  async function get(url: string, headers: Record<string, string>, parse: Parse): Promise<unknown> {
    let last: Attempt | undefined
    for (let i = 0; i <= retries; i++) {
      const result = await limit(() => once(url, headers, parse))
      if (result.ok) return result.value
      last = result.attempt
      if (!last.retry || i === retries) break
      const exponential = Math.min(maxBackoff, backoff * 2 ** i)
      const jittered = exponential / 2 + Math.random() * (exponential / 2)
      const wait = Math.min(maxBackoff, Math.max(jittered, last.retryAfterMs ?? 0))
      info.retries++
      options.onRetry?.(url, last.reason, wait)
      await sleep(wait)
    }
    const a = last as Attempt
    const tries = retries > 0 && a.retry ? ` after ${retries + 1} attempts` : ''
    throw new HttpError(url, `${a.reason}${tries}`, a.status, a.unreachable ?? false)
  }

  let closed: Promise<void> | undefined
  // Once, whoever asks (the end of the run, or its teardown): requests still in flight fail.
  const close = () => (closed ??= agent.destroy().catch(() => {}))
  return {
    getJson: (url) => get(url, jsonHeaders, parseJson),
    getBulk: async (url) => (await get(url, bulkHeaders, parseBulk)) as Buffer,
    info,
    close,
  }
}

/**
 * The first part of a multipart/related body (PS3.18 8.6.1.2), or the body itself when it is
 * not multipart; undefined when the part does not end.
 */
export function firstPart(body: Buffer, type: string): Buffer | undefined {
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1]
  if (!/^multipart\//i.test(type) || !boundary) return body
  const start = body.indexOf(`--${boundary}`)
  if (start < 0) return undefined
  const headersEnd = body.indexOf('\r\n\r\n', start)
  if (headersEnd < 0) return undefined
  const end = body.indexOf(`\r\n--${boundary}`, headersEnd + 4)
  if (end < 0) return undefined
  return body.subarray(headersEnd + 4, end)
}

/** The path and query of a URL. */
function pathOf(url: string): string {
  const u = new URL(url)
  return u.pathname + u.search
}

/** Retry-After as milliseconds: seconds, or an HTTP date. */
function retryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/** A network error in a few words (`ECONNREFUSED`, `read timeout`). */
function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } }
  const code = e?.code ?? e?.cause?.code
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout'
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'read timeout'
    case 'UND_ERR_SOCKET':
      return 'connection closed'
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ECONNRESET':
      return 'connection reset'
    default:
      return code ? `${code}: ${e.message ?? ''}`.trim() : String(e?.message ?? err)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
