// Incremental runs over big archives: time and peak RSS of `etl extract --state` when every file
// is unchanged, at 1M and 5M files (N hard links to copies of one CT slice, 1,000 to a folder; the state is
// written here, as a first run would write it, so that no header is read). A benchmark, not a test.
//
// Run: node scripts/bench-state.mjs [N ...]      (default 1000000 5000000)
// Env: BENCH_DATA=DIR   where the link trees and states go (default $TMPDIR/dicom-etl-bench)
//      BASE=DIR         also time another build of etl (a checkout with dist/) on the same state
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DATA = resolve(process.env.BENCH_DATA ?? join(tmpdir(), 'dicom-etl-bench'))
const SAMPLE = join(REPO, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm')
const COLUMNS = ['-k', 'SOPInstanceUID', '-k', 'SliceLocation', '-k', 'PatientID']
const SIZES = process.argv.slice(2).map(Number)

/** The row etl makes of the sample, and its facts. */
async function makeTree(n) {
  const root = join(DATA, `links${n}`)
  if (existsSync(join(root, 'done'))) return root
  rmSync(root, { recursive: true, force: true })
  const sources = `${root}-sources`
  mkdirSync(sources, { recursive: true })
  const { mtime } = statSync(SAMPLE)
  let source = ''
  for (let i = 0; i < n; i++) {
    // ext4 allows 65,000 links to a file: a copy of the sample (same size and mtime) every 50,000.
    if (i % 50_000 === 0) {
      source = join(sources, `s${i / 50_000}.dcm`)
      copyFileSync(SAMPLE, source)
      utimesSync(source, mtime, mtime)
    }
    const folder = join(root, `d${Math.floor(i / 1000)}`)
    if (i % 1000 === 0) mkdirSync(folder, { recursive: true })
    linkSync(source, join(folder, `IM${i % 1000}.dcm`))
  }
  mkdirSync(join(root, 'done'))
  return root
}

/**
 * The state a first run of `cli` would write: one record per link, in listing order (any order
 * will do), each the record that build writes for the sample (its own format and version) with
 * the link's path and inode.
 */
async function writeState(root, n, cli, path) {
  const probe = join(DATA, 'probe.state')
  rmSync(probe, { force: true })
  spawnSync(process.execPath, [cli, 'extract', SAMPLE, ...COLUMNS, '-q', '--state', probe])
  const [header, line] = readFileSync(probe, 'utf8').split('\n')
  const record = JSON.parse(line)
  const inodes = readdirSync(`${root}-sources`)
    .sort((a, b) => Number(a.slice(1, -4)) - Number(b.slice(1, -4)))
    .map((name) => statSync(join(`${root}-sources`, name)).ino)
  const out = createWriteStream(path)
  let chunk = `${header}\n`
  for (let i = 0; i < n; i++) {
    record[0] = join(root, `d${Math.floor(i / 1000)}`, `IM${i % 1000}.dcm`)
    record[5] = inodes[Math.floor(i / 50_000)]
    chunk += `${JSON.stringify(record)}\n`
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r))
      chunk = ''
    }
  }
  out.end(chunk)
  await new Promise((r) => out.once('finish', r))
}

function timed(label, cli, root, state) {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%e %M', process.execPath, cli, 'extract', root, ...COLUMNS, '--state', state, '-o', '/dev/null'],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  )
  const [wall, rss] = r.stderr.trim().split('\n').pop().split(' ')
  const summary = r.stderr.split('\n').find((l) => l.includes('files listed')) ?? r.stderr.slice(0, 300)
  console.log(`| ${label} | ${wall} s | ${Math.round(Number(rss) / 1024)} MB | exit ${r.status}: ${summary.trim()} |`)
}

mkdirSync(DATA, { recursive: true })
console.log('| run | wall | peak RSS | summary |')
console.log('| --- | --- | --- | --- |')
for (const n of SIZES.length ? SIZES : [1_000_000, 5_000_000]) {
  const root = await makeTree(n)
  const state = join(DATA, `links${n}.state`)
  await writeState(root, n, join(REPO, 'dist/cli.js'), state)
  const mb = Math.round(statSync(state).size / 2 ** 20)
  timed(`${n.toLocaleString('en')} files, state ${mb} MB, this build`, join(REPO, 'dist/cli.js'), root, state)
  if (process.env.BASE) {
    await writeState(root, n, join(resolve(process.env.BASE), 'dist/cli.js'), state)
    timed(
      `${n.toLocaleString('en')} files, ${process.env.BASE}`,
      join(resolve(process.env.BASE), 'dist/cli.js'),
      root,
      state,
    )
  }
}
