/**
 * Issue 13: the DICOMweb source against a real PACS. One Orthanc (test/fixtures/orthanc.ts),
 * loaded with samples/ and ../shared/corpus, serves every test of this file: the same rows as
 * from the files, the same DLP per series, and faults injected by a proxy in between.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseCsv, ROOT, runCli } from '../fixtures/cli.js'
import { startFaultProxy, type Fault } from '../fixtures/fault-proxy.js'
import { filesUnder, orthancMissing, startOrthanc, type Orthanc } from '../fixtures/orthanc.js'
import { instanceRows, studyAtOrAfter } from '../../src/sources/dicomweb.js'
import { Pseudonymiser } from '../../src/transforms/privacy.js'

const CORPUS = join(ROOT, '../shared/corpus')
const SAMPLES = join(ROOT, 'samples')
const missing = orthancMissing() ?? (existsSync(CORPUS) ? undefined : `no corpus at ${CORPUS}`)
const PYTHON = '/usr/bin/python3'
const noPydicom =
  spawnSync(PYTHON, ['-c', 'import pydicom']).status === 0 ? undefined : `${PYTHON} cannot import pydicom`
const SLICE = join(SAMPLES, 'PAT001/STUDY_20240312/SER003_CHEST/IM00010')

/** A copy of a DICOM file with some attributes changed (keyword: value), written by pydicom. */
function variant(file: string, changes: Record<string, string>): Buffer {
  const script = [
    'import io, json, sys, pydicom',
    'ds = pydicom.dcmread(sys.argv[1])',
    'for k, v in json.loads(sys.argv[2]).items(): setattr(ds, k, v)',
    'ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID',
    'out = io.BytesIO(); ds.save_as(out); sys.stdout.buffer.write(out.getvalue())',
  ].join('\n')
  const run = spawnSync(PYTHON, ['-c', script, file, JSON.stringify(changes)], { maxBuffer: 64 << 20 })
  if (run.status !== 0) throw new Error(`pydicom: ${String(run.stderr)}`)
  return run.stdout
}

const KEYWORDS = [
  'SOPInstanceUID',
  'SOPClassUID',
  'Modality',
  'PatientName',
  'PatientID',
  'StudyDate',
  'StudyTime',
  'SeriesInstanceUID',
  'SeriesNumber',
  'InstanceNumber',
  'SliceLocation',
  'SliceThickness',
  'ImagePositionPatient',
  'PixelSpacing',
  'ImageType',
  'CTDIvol',
  'KVP',
  'XRayTubeCurrent',
  'ExposureTime',
  'ConvolutionKernel',
  'Manufacturer',
  'SpecificCharacterSet',
  'Rows',
  'Columns',
  'BitsAllocated',
  'NumberOfFrames',
  'TransferSyntaxUID',
  'ReferencedImageSequence[0].ReferencedSOPInstanceUID',
  'sr:113811/113813',
  'PixelData',
]

interface Differences {
  columns: Record<string, string>
  cells: { sop: string; column: string; files: string; dicomweb: string; reason: string }[]
}
const differences = JSON.parse(
  readFileSync(new URL('../fixtures/dicomweb-differences.json', import.meta.url), 'utf8'),
) as Differences

if (missing) {
  t.test(`DICOMweb against Orthanc`, { skip: missing }, async () => {})
} else {
  let orthanc: Orthanc
  const tmp = mkdtempSync(join(tmpdir(), 'etl-dicomweb-'))
  t.before(async () => {
    orthanc = await startOrthanc([...filesUnder(SAMPLES), ...filesUnder(CORPUS)])
  })
  t.teardown(async () => {
    await orthanc?.stop()
    rmSync(tmp, { recursive: true, force: true })
  })
  const args = KEYWORDS.flatMap((k) => ['-k', k])

  /** Rows by SOPInstanceUID (the first column); a SOP in several files keeps each row. */
  const bySop = (rows: string[][]) => {
    const map = new Map<string, string[][]>()
    for (const row of rows.slice(1)) map.set(row[0], [...(map.get(row[0]) ?? []), row])
    return map
  }

  /** The cells a DICOMweb row differs in from a file row, less the differences the fixture explains. */
  const unexplained = (header: string[], file: string[], web: string[]) =>
    header.flatMap((column, i) => {
      if (file[i] === web[i]) return []
      if (differences.columns[column] !== undefined && web[i] === '') return []
      const known = differences.cells.find(
        (d) => d.sop === web[0] && d.column === column && d.files === file[i] && d.dicomweb === web[i],
      )
      return known ? [] : [{ column, files: file[i], dicomweb: web[i] }]
    })

  t.test('etl extract <orthanc>/dicom-web gives the rows of the files, matched by SOPInstanceUID', async (t) => {
    const files = await runCli(['extract', SAMPLES, CORPUS, ...args, '--binary', 'length'])
    const web = await runCli(['extract', orthanc.dicomweb, ...args, '--binary', 'length'])
    t.equal(web.code, 0, web.stderr)
    t.equal(web.stderr.match(/0 failed/)?.[0], '0 failed', web.stderr)
    t.match(
      web.stderr,
      /^etl: \d+ instances listed, \d+ rows written, 0 failed in [\d.]+ s \(\d+ instances\/s\)$/m,
      'the summary counts instances, not files (none is ever not DICOM)',
    )
    const fileRows = parseCsv(files.stdout)
    const webRows = parseCsv(web.stdout)
    t.strictSame(webRows[0], fileRows[0], 'same header')
    const fromFiles = bySop(fileRows)
    const fromWeb = bySop(webRows)
    // Every file Orthanc stored is read back: its SOP Instance UID has a row.
    const stored = orthanc.uploaded.filter((u) => u.stored).length
    t.equal(fromWeb.size, webRows.length - 1, 'one row per instance')
    t.ok(fromWeb.size >= 150 && fromWeb.size <= stored, `${fromWeb.size} instances of ${stored} files stored`)
    const used = new Set<string>()
    for (const [sop, [row]] of fromWeb) {
      const candidates = fromFiles.get(sop) ?? []
      t.ok(candidates.length > 0, `a file has SOP ${sop}`)
      const diffs = candidates.map((file) => unexplained(webRows[0], file, row))
      const best = diffs.reduce((a, b) => (b.length < a.length ? b : a), diffs[0] ?? [])
      if (best.length > 0) t.strictSame(best, [], `SOP ${sop}: every difference explained`)
      for (const d of differences.cells) if (d.sop === sop) used.add(`${d.sop} ${d.column}`)
    }
    t.equal(used.size, differences.cells.length, 'every listed difference is still seen')
    for (const [column, reason] of Object.entries(differences.columns)) {
      t.ok(webRows[0].includes(column) && reason.length > 0, `column ${column}: ${reason}`)
    }
  })

  t.test('etl run pipelines/dose.yaml -i <orthanc>/dicom-web: the DLP per series of the files', async (t) => {
    const dose = join(ROOT, 'pipelines/dose.yaml')
    const files = await runCli(['run', dose, '-i', SAMPLES, '-o', '-'])
    const web = await runCli(['run', dose, '-i', orthanc.dicomweb, '-o', '-'])
    t.equal(web.code, 0, web.stderr)
    const dlp = (text: string) => {
      const rows = parseCsv(text)
      const [series, value] = ['SeriesInstanceUID', 'dlp_mGycm'].map((c) => rows[0].indexOf(c))
      return new Map(rows.slice(1).map((r) => [r[series], r[value]]))
    }
    const fromFiles = dlp(files.stdout)
    const fromWeb = dlp(web.stdout)
    t.equal(fromFiles.size, 2, 'the two axial series: where: leaves out the localizer and the dose report')
    for (const [series, value] of fromFiles) t.equal(fromWeb.get(series), value, `DLP of ${series}`)
    t.ok([...fromFiles.values()].filter((v) => v !== '').length >= 2, 'DLPs to compare')
  })

  /** A pipeline through the proxy: short timeouts, few retries, errors to a file. */
  const pipeline = (name: string, url: string, extra: string[] = []) => {
    const file = join(tmp, `${name}.yaml`)
    writeFileSync(
      file,
      [
        'source:',
        '  type: dicomweb',
        `  url: ${url}/dicom-web`,
        ...['read_timeout_secs: 1', 'connect_timeout_secs: 2', 'retries: 3']
          .filter((line) => !extra.some((e) => e.split(':')[0] === line.split(':')[0]))
          .map((line) => `  ${line}`),
        ...extra.map((line) => `  ${line}`),
        'extract: [SOPInstanceUID, SeriesInstanceUID, PatientName, CTDIvol, SliceLocation]',
        `output: {path: ${join(tmp, `${name}.csv`)}, errors: ${join(tmp, `${name}-errors.csv`)}}`,
      ].join('\n'),
    )
    return file
  }
  const sorted = (text: string) => parseCsv(text).slice(1).map(String).sort()

  let reference: string[] = []
  t.test('faults: each ends with the full output, or the affected series reported', async (t) => {
    const direct = await runCli(['run', pipeline('direct', orthanc.url)])
    t.equal(direct.code, 0, direct.stderr)
    reference = sorted(readFileSync(join(tmp, 'direct.csv'), 'utf8'))
    t.ok(reference.length > 150)

    /** The first attempt of the first three series' metadata fails; their retries pass. */
    const once = (fault: Fault) => {
      const hit = new Set<string>()
      return (path: string): Fault => {
        if (!path.endsWith('/metadata') || hit.has(path) || hit.size >= 3) return { kind: 'pass' }
        hit.add(path)
        return fault
      }
    }
    const cases: [string, (path: string) => Fault][] = [
      ['dropped connection', once({ kind: 'drop' })],
      ['delay past the read timeout', once({ kind: 'delay', ms: 1500 })],
      ['500', once({ kind: 'status', status: 500 })],
      ['429 with Retry-After', once({ kind: 'status', status: 429, headers: { 'retry-after': '1' } })],
      ['truncated JSON', once({ kind: 'truncate' })],
      ['a server that ignores offset (pages larger than the results)', () => ({ kind: 'ignore-offset' })],
    ]
    for (const [name, fault] of cases) {
      const proxy = await startFaultProxy(orthanc.url, fault)
      const file = pipeline(name.replace(/\W+/g, '-'), proxy.url)
      const run = await runCli(['run', file])
      await proxy.close()
      t.equal(run.code, 0, `${name}: exit 0\n${run.stderr}`)
      const csv = readFileSync(file.replace(/\.yaml$/, '.csv'), 'utf8')
      t.strictSame(sorted(csv), reference, `${name}: the full, identical output`)
    }
  })

  t.test('faults: a series that keeps failing is reported with its URL, the run goes on', async (t) => {
    let victim: string | undefined
    const proxy = await startFaultProxy(orthanc.url, (path) => {
      if (path.endsWith('/metadata')) victim ??= path
      return path === victim ? { kind: 'status', status: 503 } : { kind: 'pass' }
    })
    const file = pipeline('keeps-failing', proxy.url, ['retries: 1'])
    const run = await runCli(['run', file])
    await proxy.close()
    t.equal(run.code, 65, run.stderr)
    const errors = parseCsv(readFileSync(join(tmp, 'keeps-failing-errors.csv'), 'utf8'))
    t.equal(errors.length, 2, 'one failure')
    t.equal(errors[1][0], `${proxy.url}${victim}`)
    t.strictSame(errors[1].slice(1), ['failed', 'E_HTTP', 'HTTP 503 after 2 attempts'])
    const rows = sorted(readFileSync(join(tmp, 'keeps-failing.csv'), 'utf8'))
    const series = /\/series\/([^/]+)\//.exec(victim ?? '')?.[1] ?? ''
    t.strictSame(
      rows,
      reference.filter((r) => !r.includes(decodeURIComponent(series))),
      'every other series',
    )
  })

  t.test('faults: an offset-ignoring server with full pages is reported, never silently cut', async (t) => {
    const proxy = await startFaultProxy(orthanc.url, () => ({ kind: 'ignore-offset' }))
    const file = pipeline('offset-ignored', proxy.url, ['page_size: 5'])
    const run = await runCli(['run', file])
    await proxy.close()
    t.equal(run.code, 65, run.stderr)
    const errors = readFileSync(join(tmp, 'offset-ignored-errors.csv'), 'utf8')
    t.match(errors, /the server ignores offset: only the first 5 results could be read/)
  })

  t.test('401 and an unreachable server: one line and exit 77 or 69', async (t) => {
    const proxy = await startFaultProxy(orthanc.url, () => ({ kind: 'status', status: 401 }))
    const denied = await runCli(['run', pipeline('denied', proxy.url)])
    await proxy.close()
    t.equal(denied.code, 77)
    t.match(denied.stderr, /^etl: DICOMweb server refused the credentials: .*HTTP 401\n$/)
    const gone = await runCli(['run', pipeline('gone', proxy.url, ['retries: 0'])])
    t.equal(gone.code, 69)
    t.match(gone.stderr, /^etl: DICOMweb server unavailable: .*connection refused\n$/)
  })

  t.test('a server that caps its results (limit lowered to 10): paged on, the full output', async (t) => {
    const proxy = await startFaultProxy(orthanc.url, () => ({ kind: 'cap', max: 10 }))
    const run = await runCli(['run', pipeline('capped', proxy.url)])
    await proxy.close()
    t.equal(run.code, 0, run.stderr)
    t.strictSame(sorted(readFileSync(join(tmp, 'capped.csv'), 'utf8')), reference)
    t.match(run.stderr, 'the server gives at most 10 results per QIDO-RS page (asked 100): paged by 10')
    t.ok(
      proxy.seen.some((p) => p.startsWith('/dicom-web/studies?') && p.includes('offset=10')),
      'the studies past the cap asked for',
    )
  })

  t.test('requests in flight never exceed source.concurrency', async (t) => {
    const proxy = await startFaultProxy(orthanc.url, (path) =>
      path.endsWith('/metadata') ? { kind: 'delay', ms: 20 } : { kind: 'pass' },
    )
    const run = await runCli(['run', pipeline('bounded', proxy.url, ['concurrency: 2'])])
    await proxy.close()
    t.equal(run.code, 0, run.stderr)
    t.ok(proxy.maxInFlight <= 2, `at most 2 in flight, saw ${proxy.maxInFlight}`)
    t.equal(proxy.maxInFlight, 2, 'both slots used')
  })

  t.test('--since asks for studies from that day on (a StudyDate range)', async (t) => {
    const proxy = await startFaultProxy(orthanc.url, () => ({ kind: 'pass' }))
    const run = await runCli(['extract', `${proxy.url}/dicom-web`, '-k', 'StudyDate', '--since', '2024-03-12'])
    await proxy.close()
    t.equal(run.code, 0, run.stderr)
    t.ok(proxy.seen[0].includes('StudyDate=20240312-'), proxy.seen[0])
    const dates = parseCsv(run.stdout).slice(1)
    t.ok(dates.length >= 89, `${dates.length} rows`)
    t.ok(
      dates.every(([d]) => d >= '20240312'),
      'no earlier study',
    )
  })

  t.test('bearer and basic auth, secrets from the environment or a file', async (t) => {
    const secretFile = join(tmp, 'password')
    writeFileSync(secretFile, 'pa55\n')
    const expected = [`Bearer s3cret`, `Basic ${Buffer.from('etl:pa55').toString('base64')}`]
    for (const [name, auth, header] of [
      ['bearer', 'auth: {type: bearer, token_env: ETL_TEST_TOKEN}', expected[0]],
      ['basic', `auth: {type: basic, username: etl, password_file: ${secretFile}}`, expected[1]],
    ]) {
      const proxy = await startFaultProxy(orthanc.url, (_path, req) =>
        req.headers.authorization === header ? { kind: 'pass' } : { kind: 'status', status: 401 },
      )
      const run = await runCli(['run', pipeline(`auth-${name}`, proxy.url, [auth])], {
        env: { ETL_TEST_TOKEN: 's3cret' },
      })
      await proxy.close()
      t.equal(run.code, 0, `${name}: ${run.stderr}`)
      t.strictSame(sorted(readFileSync(join(tmp, `auth-${name}.csv`), 'utf8')), reference, name)
    }
  })

  t.test('incremental runs: an unchanged series (by its instance count) is not fetched again', async (t) => {
    const state = join(tmp, 'web.state')
    const metadata = (seen: string[]) => seen.filter((p) => p.endsWith('/metadata')).length
    const runs: { csv: string[]; fetched: number }[] = []
    let bumped: string | undefined
    let change = false
    // One proxy for the three runs: the state knows series by their URLs.
    const proxy = await startFaultProxy(orthanc.url, (path) => {
      if (!change || !/\/studies\/[^/]+\/series\?/.test(path)) return { kind: 'pass' }
      // One series' instance count changes: only it is fetched again.
      return {
        kind: 'rewrite',
        body: (text) => {
          const series = JSON.parse(text) as Record<string, { Value?: unknown[] }>[]
          const first = series.find((s) => s['00201209'])
          if (first && (!bumped || bumped === String(first['0020000E']?.Value?.[0]))) {
            bumped = String(first['0020000E']?.Value?.[0])
            first['00201209'] = { ...first['00201209'], Value: [Number(first['00201209'].Value?.[0]) + 1] }
          }
          return JSON.stringify(series)
        },
      }
    })
    for (const changed of [false, false, true]) {
      change = changed
      const before = proxy.seen.length
      const run = await runCli(['run', pipeline('incremental', proxy.url), '--state', state])
      t.equal(run.code, 0, run.stderr)
      const csv = sorted(readFileSync(join(tmp, 'incremental.csv'), 'utf8'))
      runs.push({ csv, fetched: metadata(proxy.seen.slice(before)) })
    }
    await proxy.close()
    t.ok(runs[0].fetched >= 50, `first run: ${runs[0].fetched} series fetched`)
    t.equal(runs[1].fetched, 0, 'second run: none fetched')
    t.equal(runs[2].fetched, 1, `third run: the changed series ${bumped} only`)
    for (const run of runs) t.strictSame(run.csv, reference)
  })

  t.test('bulk data a column asks for is fetched; one that cannot be is an empty cell and a warning', async (t) => {
    const proxy = await startFaultProxy(orthanc.url, (path) =>
      path.includes('/bulk/') && path.includes('2.25.301358516928197466309740211009254558060')
        ? { kind: 'status', status: 404 }
        : { kind: 'pass' },
    )
    const run = await runCli([
      'extract',
      `${proxy.url}/dicom-web`,
      '-k',
      'SOPInstanceUID',
      '-k',
      'PixelData',
      '--binary',
      'length',
    ])
    await proxy.close()
    t.equal(run.code, 0, run.stderr)
    const rows = new Map(
      parseCsv(run.stdout)
        .slice(1)
        .map(([sop, pixels]) => [sop, pixels]),
    )
    t.equal(rows.get('2.25.301358516928197466309740211009254558060'), '', 'the failed one: empty')
    t.match(run.stderr, /\(7FE0,0010\): bulk data not read \(http.*\/bulk\/7fe00010: HTTP 404\)/)
    t.ok([...rows.values()].filter((v) => v !== '').length > 100, 'the others fetched')
    t.ok(proxy.seen.filter((p) => p.includes('/bulk/')).length > 100, 'bulk data asked for')
  })

  t.test('faults: a study whose series cannot be listed is reported, the run goes on', async (t) => {
    let victim: string | undefined
    const proxy = await startFaultProxy(orthanc.url, (path) => {
      const study = /^\/dicom-web\/studies\/([^/]+)\/series\?/.exec(path)?.[1]
      if (study) victim ??= study
      return study !== undefined && study === victim ? { kind: 'status', status: 500 } : { kind: 'pass' }
    })
    const run = await runCli(['run', pipeline('study-fails', proxy.url, ['retries: 0'])])
    await proxy.close()
    t.equal(run.code, 65, run.stderr)
    const errors = parseCsv(readFileSync(join(tmp, 'study-fails-errors.csv'), 'utf8'))
    t.equal(errors.length, 2, 'one failure')
    t.match(errors[1][0], `${proxy.url}/dicom-web/studies/${victim}/series`)
    t.strictSame(errors[1].slice(1), ['failed', 'E_HTTP', 'HTTP 500'])
    const rows = sorted(readFileSync(join(tmp, 'study-fails.csv'), 'utf8'))
    t.ok(rows.length > 0 && rows.length < reference.length, `${reference.length - rows.length} rows left out`)
  })

  t.test('source.query: QIDO-RS keys of studies and of series', async (t) => {
    const file = pipeline('query', orthanc.url, ["query: {PatientID: PAT001, Modality: CT, SeriesNumber: '3'}"])
    const run = await runCli(['run', file])
    t.equal(run.code, 0, run.stderr)
    const rows = parseCsv(readFileSync(join(tmp, 'query.csv'), 'utf8')).slice(1)
    t.equal(rows.length, 48, 'the 48 slices of series 3 of PAT001')
    t.equal(new Set(rows.map((r) => r[1])).size, 1, 'one series')
  })

  /** Stores a data set in Orthanc (POST /instances); returns a function that deletes it again. */
  const store = async (bytes: Buffer): Promise<() => Promise<void>> => {
    const res = await fetch(`${orthanc.url}/instances`, { method: 'POST', body: bytes })
    const { ID } = (await res.json()) as { ID: string }
    if (!res.ok) throw new Error(`Orthanc refused the instance: HTTP ${res.status}`)
    return async () => void (await fetch(`${orthanc.url}/instances/${ID}`, { method: 'DELETE' })).arrayBuffer()
  }
  /** The counts of the summary line: instances listed, unchanged (from the state), rows written. */
  const counts = (stderr: string) => {
    const m = /^etl: (\d+) instances listed(?: \((\d+) unchanged, not read\))?, (\d+) rows written/m.exec(stderr)
    return m ? { listed: Number(m[1]), unchanged: Number(m[2] ?? 0), rows: Number(m[3]) } : undefined
  }

  t.test(
    'incremental runs: a series with a new instance projects that instance only, the others from the state',
    { skip: noPydicom },
    async (t) => {
      const state = join(tmp, 'instances.state')
      const csv = join(tmp, 'instances.csv')
      // One proxy for every run (the state knows series by their URLs), to count the fetches.
      const proxy = await startFaultProxy(orthanc.url, () => ({ kind: 'pass' }))
      t.teardown(() => proxy.close())
      const file = pipeline('instances', proxy.url)
      const run = async (args: string[]) => {
        const seen = proxy.seen.length
        const result = await runCli(['run', file, ...args])
        t.equal(result.code, 0, result.stderr)
        const fetched = proxy.seen.slice(seen).filter((p) => p.endsWith('/metadata')).length
        return { ...counts(result.stderr), summary: result.stderr, fetched, csv: readFileSync(csv, 'utf8') }
      }
      const first = await run(['--state', state])
      t.equal(first.unchanged, 0, 'first run: every instance read')
      // One more slice in series 3 of PAT001: a new SOPInstanceUID, the same series.
      const remove = await store(variant(SLICE, { SOPInstanceUID: '2.25.1313', InstanceNumber: '99' }))
      t.teardown(remove)
      const second = await run(['--state', state])
      t.equal(second.listed, (first.listed ?? 0) + 1, 'one more instance listed')
      t.equal(second.unchanged, first.listed, 'exactly one instance projected, the others from the state')
      t.equal(second.fetched, 1, 'the changed series only fetched')
      t.match(second.summary, /^etl: \d+ instances listed \(\d+ unchanged, not read\), \d+ rows written, 0 failed in /m)
      t.match(second.csv, /2\.25\.1313/, 'the new instance has its row')
      const full = await run([])
      t.equal(second.csv, full.csv, 'the output of a full run, byte for byte')
      const third = await run(['--state', state])
      t.equal(third.unchanged, second.listed, 'then nothing is read')
      t.equal(third.fetched, 0, 'nor fetched')
      t.equal(third.csv, full.csv)
    },
  )

  t.test(
    '--since with a time: studies of that day before it left out, those after midnight kept',
    { skip: noPydicom },
    async (t) => {
      // Two studies besides the samples' (20240312 093015): later that day, and after midnight.
      const studies = [
        ['2.25.2024031221', '20240312', '213000'],
        ['2.25.2024031301', '20240313', '013000'],
      ]
      for (const [uid, date, time] of studies) {
        const bytes = variant(SLICE, {
          StudyInstanceUID: uid,
          SeriesInstanceUID: `${uid}.1`,
          SOPInstanceUID: `${uid}.1.1`,
          StudyDate: date,
          StudyTime: time,
        })
        t.teardown(await store(bytes))
      }
      const proxy = await startFaultProxy(orthanc.url, () => ({ kind: 'pass' }))
      t.teardown(() => proxy.close())
      const since = async (when: string) => {
        const seen = proxy.seen.length
        const run = await runCli(['extract', `${proxy.url}/dicom-web`, '-k', 'StudyInstanceUID', '--since', when])
        t.equal(run.code, 0, run.stderr)
        const asked = proxy.seen.slice(seen).find((p) => p.startsWith('/dicom-web/studies?')) ?? ''
        t.match(asked, 'StudyDate=20240312-', `${when}: the studies from that day on asked for`)
        t.notMatch(asked, 'StudyTime=', `${when}: no StudyTime range (the server would match it apart)`)
        return [
          ...new Set(
            parseCsv(run.stdout)
              .slice(1)
              .map(([uid]) => uid),
          ),
        ].sort()
      }
      t.strictSame(await since('2024-03-12T12:00'), [studies[0][0], studies[1][0]], 'the two after noon')
      t.strictSame(await since('2024-03-12T21:30'), [studies[0][0], studies[1][0]], 'at its time: kept')
      t.strictSame(await since('2024-03-12T21:30:01'), [studies[1][0]], 'a second later: left out')
      t.ok((await since('2024-03-12')).length >= 3, 'from midnight: the samples too')
    },
  )

  t.test(
    'issue 15: pseudonymised, the rows of the files with the same key; no original in output or log',
    async (t) => {
      const key = 'k'.repeat(32) + ' the DICOMweb test key'
      const keyFile = join(tmp, 'pseudonym.key')
      writeFileSync(keyFile, key)
      const keyed = new Pseudonymiser(Buffer.from(key))
      const columns = [
        'SOPInstanceUID',
        'StudyInstanceUID',
        'SeriesInstanceUID',
        'PatientID',
        'PatientName',
        'PatientBirthDate',
        'PatientAge',
        'AccessionNumber',
        'StudyDate',
        'SeriesDate',
        'ReferringPhysicianName',
        'InstitutionName',
        'Modality',
        'path',
      ]
      const privacy = ['--pseudonymise', '--key-file', keyFile, '-v', '--max-failures', '100%']
      const k = columns.flatMap((c) => ['-k', c])
      const [plain, files, web] = await Promise.all([
        runCli(['extract', orthanc.dicomweb, ...k]),
        runCli(['extract', SAMPLES, CORPUS, ...k, ...privacy]),
        runCli(['extract', orthanc.dicomweb, ...k, ...privacy]),
      ])
      t.equal(plain.code, 0, plain.stderr)
      t.equal(web.code, 0, web.stderr)
      const webRows = parseCsv(web.stdout)
      const fromFiles = bySop(parseCsv(files.stdout))
      t.ok(webRows.length > 150, `${webRows.length - 1} instances`)
      const path = columns.indexOf('path')
      // The one name Orthanc decodes otherwise (dicomweb-differences.json): its pseudonym differs too.
      const otherName = new Set(
        differences.cells.filter((d) => d.column === 'PatientName').map((d) => keyed.uid(d.sop)),
      )
      const host = keyed.component(new URL(orthanc.url).host)
      const root = keyed.component('dicom-web')
      let compared = 0
      for (const row of webRows.slice(1)) {
        const [sop, study, series] = row
        const expected = `http://${host}/${root}/studies/${study}/series/${series}/instances/${sop}`
        if (row[path] !== expected) t.equal(row[path], expected, 'the path: its names keyed, its UIDs as the columns')
        const candidates = fromFiles.get(sop) ?? []
        if (candidates.length === 0) t.fail(`no file has the keyed SOP ${sop}`)
        const differing = candidates.map((file) =>
          columns.filter((c, i) => c !== 'path' && file[i] !== row[i] && !(c === 'PatientName' && otherName.has(sop))),
        )
        const best = differing.reduce((a, b) => (b.length < a.length ? b : a), differing[0] ?? [])
        if (best.length > 0) t.strictSame(best, [], `SOP ${sop}: the same keyed row as from its file`)
        else compared++
      }
      t.equal(compared, webRows.length - 1, `${compared} rows the same as from the files`)
      t.match(webRows[1], [/^2\.25\.\d+$/, /^2\.25\.\d+$/, /^2\.25\.\d+$/, /^PID-[A-Z2-7]{16}$/])

      // Originals: the plain run's values of the keyed columns and the names in its paths.
      const originals = new Set<string>()
      for (const row of parseCsv(plain.stdout).slice(1)) {
        columns.forEach((c, i) => {
          if (c === 'Modality' || c === 'PatientAge') return
          const parts = c === 'path' ? row[i].replace(/^https?:\/\//, '').split('/') : row[i].split('\\')
          for (const part of parts) originals.add(part)
        })
      }
      const searched = [...originals].filter((v) => v.length >= 6 && !['studies', 'series', 'instances'].includes(v))
      t.ok(searched.length > 300, `${searched.length} original values searched for`)
      t.ok(searched.includes('PAT001') && searched.includes('dicom-web'), "IDs and the URL's names among them")
      for (const [place, text] of [
        ['output', web.stdout],
        ['log', web.stderr],
      ]) {
        t.same(
          searched.filter((v) => text.includes(v)),
          [],
          `DICOMweb ${place}: no original PatientID, name, date or UID`,
        )
      }
    },
  )
}

t.test('studyAtOrAfter: by StudyDate and StudyTime, an unknown one kept', async (t) => {
  const study = (date?: string, time?: string) => ({
    ...(date !== undefined && { '00080020': { vr: 'DA', Value: [date] } }),
    ...(time !== undefined && { '00080030': { vr: 'TM', Value: [time] } }),
  })
  const after = '20240312120000'
  t.equal(studyAtOrAfter(study('20240311', '230000'), after), false, 'the day before')
  t.equal(studyAtOrAfter(study('20240313', '010000'), after), true, 'the day after, earlier in the day')
  t.equal(studyAtOrAfter(study('20240312', '115959.999'), after), false, 'before, with a fraction')
  t.equal(studyAtOrAfter(study('20240312', '12'), after), true, 'HH: 120000')
  t.equal(studyAtOrAfter(study('20240312', '1159'), after), false, 'HHMM')
  t.equal(studyAtOrAfter(study('20240312', '13:04:38'), after), true, 'HH:MM:SS')
  t.equal(studyAtOrAfter(study('20240312'), after), true, 'no time: kept')
  t.equal(studyAtOrAfter(study('20240312', 'noon'), after), true, 'a time that cannot be read: kept')
  t.equal(studyAtOrAfter(study(), after), true, 'no date: kept')
})

t.test('instanceRows: the rows of each instance of a series record, by its index', async (t) => {
  const rows = [['a'], ['b1'], ['b2'], ['d']]
  const map = instanceRows({ sop: '1.2.1:1 1.2.2:2 1.2.3:0 :1', rows })
  t.strictSame(
    [...(map ?? [])],
    [
      ['1.2.1', [['a']]],
      ['1.2.2', [['b1'], ['b2']]],
      ['1.2.3', []],
    ],
  )
  t.equal(instanceRows({ sop: '', rows: [] }), undefined, 'no index (an earlier state)')
  t.equal(instanceRows({ sop: '1.2.1:1 1.2.2:2', rows }), undefined, 'one that does not add up')
  t.equal(instanceRows({ sop: '1.2.1:x', rows }), undefined, 'one that is not ours')
})
