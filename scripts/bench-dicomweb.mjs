// Instances/s from a PACS over DICOMweb against files, in the same run: a generated corpus of
// 2,000 CT instances (64x64 pixels: ../shared/bench/gen_corpus.py --series 4 --slices 500 --rows 64
// --cols 64) uploaded to an Orthanc on loopback (Debian's orthanc and orthanc-dicomweb, its own
// configuration and storage in a temporary folder, SeriesMetadata Full), then `etl extract` of a
// few columns from the files and from Orthanc, interleaved, median of RUNS.
// Usage: npm run build && node scripts/bench-dicomweb.mjs   (env: RUNS=5, CONCURRENCY=4,8)
/* global fetch, setTimeout */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('../', import.meta.url).pathname
const cli = join(root, 'dist/cli.js')
const runs = Number(process.env.RUNS ?? 5)
const concurrencies = (process.env.CONCURRENCY ?? '4,8').split(',').map(Number)
const dir = mkdtempSync(join(tmpdir(), 'etl-bench-dicomweb-'))
const corpus = join(dir, 'ct2k-64')

const files = (d) =>
  readdirSync(d).flatMap((name) => {
    const path = join(d, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address()
    server.close(() => resolve(port))
  })
})
const config = {
  StorageDirectory: join(dir, 'storage'),
  IndexDirectory: join(dir, 'index'),
  HttpPort: port,
  RemoteAccessAllowed: false,
  AuthenticationEnabled: false,
  DicomServerEnabled: false,
  Plugins: ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'],
  DicomWeb: { Enable: true, Root: '/dicom-web/', StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
}
writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config))
let orthanc
try {
  console.error('generating 2,000 instances (64x64)...')
  execFileSync('/usr/bin/python3', [
    join(root, '../shared/bench/gen_corpus.py'),
    ...['--series', '4', '--slices', '500', '--rows', '64', '--cols', '64', '--out', corpus],
  ])
  orthanc = spawn('/usr/sbin/Orthanc', [join(dir, 'orthanc.json')], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/system`)).ok) break
    } catch {
      if (i > 200) throw new Error('Orthanc did not start')
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const all = files(corpus)
  let stored = 0
  for (const file of all) {
    const res = await fetch(`${url}/instances`, { method: 'POST', body: readFileSync(file) })
    await res.arrayBuffer()
    if (res.ok) stored++
  }
  console.error(`${stored} of ${all.length} files stored by Orthanc`)
  const keys = ['SeriesInstanceUID', 'SliceLocation', 'CTDIvol', 'PatientID', 'StudyDate', 'ImageType']
  const k = keys.flatMap((key) => ['-k', key])
  const time = (args) => {
    const start = process.hrtime.bigint()
    const out = execFileSync(process.execPath, [cli, 'extract', ...args, ...k, '-q'], { maxBuffer: 1 << 28 })
    return { s: Number(process.hrtime.bigint() - start) / 1e9, rows: out.toString().split('\n').length - 2 }
  }
  const cases = [
    ['files', [corpus]],
    ...concurrencies.map((c) => [`dicomweb, --concurrency ${c}`, [`${url}/dicom-web`, '--concurrency', String(c)]]),
  ]
  const times = new Map(cases.map(([name]) => [name, []]))
  const rows = new Map()
  for (let r = 0; r < runs; r++) {
    for (const [name, args] of cases) {
      const { s, rows: n } = time(args)
      times.get(name).push(s)
      rows.set(name, n)
    }
  }
  // The server's share: the same metadata fetched alone (all series at once), not converted.
  const series = await (await fetch(`${url}/dicom-web/series?limit=1000`)).json()
  const fetchAll = async () => {
    const start = process.hrtime.bigint()
    await Promise.all(
      series.map(async (s) => {
        const [study, uid] = [s['0020000D'].Value[0], s['0020000E'].Value[0]]
        await (await fetch(`${url}/dicom-web/studies/${study}/series/${uid}/metadata`)).text()
      }),
    )
    return Number(process.hrtime.bigint() - start) / 1e9
  }
  const alone = []
  for (let r = 0; r < runs; r++) alone.push(await fetchAll())
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  console.log(`| source | rows | median s (of ${runs}) | instances/s |`)
  console.log('| --- | --- | --- | --- |')
  for (const [name] of cases) {
    const s = median(times.get(name))
    console.log(`| ${name} | ${rows.get(name)} | ${s.toFixed(2)} | ${Math.round(rows.get(name) / s)} |`)
  }
  const s = median(alone)
  console.log(
    `| Orthanc alone: the ${series.length} series' metadata, fetched at once | ${stored} | ${s.toFixed(2)} | ${Math.round(stored / s)} |`,
  )
} finally {
  orthanc?.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 500))
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true })
}
