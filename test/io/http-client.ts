/**
 * The DICOMweb source's HTTP client against a local server whose answers each case scripts:
 * what is retried and what is not, Retry-After, the bound on requests in flight, multipart bulk
 * data. Invariants and counts, no timings.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import t from 'tap'
import { createHttpClient, firstPart, HttpError } from '../../src/io/http-client.js'

/** A server answering with `answer` (told how many requests came before), and its counts. */
async function server(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  let n = 0
  let inFlight = 0
  const counts = { requests: 0, maxInFlight: 0, url: '' }
  const s = createServer((req, res) => {
    counts.requests++
    inFlight++
    counts.maxInFlight = Math.max(counts.maxInFlight, inFlight)
    res.once('close', () => inFlight--)
    answer(n++, req, res)
  })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  counts.url = `http://127.0.0.1:${(s.address() as { port: number }).port}`
  t.teardown(() => {
    s.closeAllConnections()
    s.close()
  })
  return counts
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/dicom+json', ...headers })
  res.end(JSON.stringify(body))
}

t.test('retried: 503, 429, truncated JSON, a dropped connection; then the answer', async (t) => {
  const cases: [string, (res: ServerResponse, req: IncomingMessage) => void][] = [
    ['503', (res) => json(res, 503, {})],
    ['429 with Retry-After: 0', (res) => json(res, 429, {}, { 'retry-after': '0' })],
    ['truncated JSON', (res) => (res.writeHead(200), res.end('[{"0020000D":'))],
    ['dropped connection', (_res, req) => req.socket.destroy()],
  ]
  for (const [name, fault] of cases) {
    const s = await server((n, req, res) => (n === 0 ? fault(res, req) : json(res, 200, [{ ok: n }])))
    const client = await createHttpClient({ retries: 2, backoffMs: 1 })
    t.strictSame(await client.getJson(`${s.url}/x`), [{ ok: 1 }], name)
    t.equal(s.requests, 2, `${name}: one retry`)
    await client.close()
  }
})

t.test('not retried: 404 and 401; retries exhausted: the last reason and the attempts', async (t) => {
  for (const status of [404, 401]) {
    const s = await server((_n, _req, res) => json(res, status, {}))
    const client = await createHttpClient({ retries: 3, backoffMs: 1 })
    const err = (await client.getJson(`${s.url}/x`).catch((e: unknown) => e)) as HttpError
    t.ok(err instanceof HttpError)
    t.equal(err.status, status)
    t.equal(err.reason, `HTTP ${status}`)
    t.equal(s.requests, 1, `${status}: asked once`)
    await client.close()
  }
  const s = await server((_n, _req, res) => json(res, 500, {}))
  const client = await createHttpClient({ retries: 2, backoffMs: 1 })
  const err = (await client.getJson(`${s.url}/x`).catch((e: unknown) => e)) as HttpError
  t.equal(err.reason, 'HTTP 500 after 3 attempts')
  t.equal(s.requests, 3)
  await client.close()
  const refused = await createHttpClient({ retries: 0 })
  const gone = (await refused.getJson('http://127.0.0.1:1/x').catch((e: unknown) => e)) as HttpError
  t.equal(gone.unreachable, true)
  t.equal(gone.reason, 'connection refused')
  await refused.close()
})

t.test('requests in flight never exceed concurrency', async (t) => {
  const s = await server((_n, _req, res) => setTimeout(() => json(res, 200, []), 5))
  const client = await createHttpClient({ concurrency: 3 })
  await Promise.all(Array.from({ length: 20 }, (_, i) => client.getJson(`${s.url}/${i}`)))
  t.equal(s.requests, 20)
  t.equal(s.maxInFlight, 3, 'at most 3, and 3 used')
  t.equal(client.info.maxInFlight, 3)
  await client.close()
})

t.test('the Authorization header goes with every request', async (t) => {
  const seen: (string | undefined)[] = []
  const s = await server((_n, req, res) => (seen.push(req.headers.authorization), json(res, 200, [])))
  const client = await createHttpClient({ authorization: 'Bearer abc' })
  await client.getJson(`${s.url}/a`)
  await client.getBulk(`${s.url}/b`)
  t.strictSame(seen, ['Bearer abc', 'Bearer abc'])
  await client.close()
})

t.test('bulk data: the first part of a multipart/related answer, or the whole body', async (t) => {
  const type = 'multipart/related; type="application/octet-stream"; boundary=b0undary'
  const body = Buffer.from(
    '--b0undary\r\nContent-Type: application/octet-stream\r\n\r\n\x01\x02\x03\r\n--b0undary--\r\n',
    'latin1',
  )
  t.strictSame([...(firstPart(body, type) ?? [])], [1, 2, 3])
  t.strictSame([...(firstPart(Buffer.from([9, 8]), 'application/octet-stream') ?? [])], [9, 8])
  t.equal(firstPart(body.subarray(0, 60), type), undefined, 'cut short')
  const s = await server((n, _req, res) => {
    res.writeHead(200, { 'content-type': type })
    res.end(n === 0 ? body.subarray(0, 60) : body)
  })
  const client = await createHttpClient({ retries: 1, backoffMs: 1 })
  t.strictSame([...(await client.getBulk(`${s.url}/bulk`))], [1, 2, 3], 'a part cut short is asked again')
  t.equal(s.requests, 2)
  await client.close()
})
