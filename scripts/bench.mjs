// Benchmark of `etl extract` against the peer extractors of ../shared/bench (pydicom+pandas seed,
// pydicom done well, gdcmscanner, dcmtk, naive dcmjs), on synthetic CT corpora. Prints, and writes
// to $BENCH_DATA/results.md:
//   1. the machine and the command;
//   2. throughput: ../shared/bench/run.sh's table and check on ct2k and ct20k, with our CLI as `etl`,
//      then the bytes each peer reads per file (one extra run under strace, on ct2k) and a summary table;
//   3. memory scaling: peak RSS of `etl extract` at 2k, 20k, 100k and 200k files, and of the sorter
//      (scripts/bench-sort.mjs) at 10k, 100k and 1M rows;
//   4. start-up: median of 10 runs of `etl --version` and of an extract over 10 files.
// Installs what is missing first (apt packages, dcmjs for the peer, our dist/), and generates the
// corpora it needs that are not there yet (ct20k is ~10 GB and takes a while; ct2k is always
// needed, for the start-up files). run.sh's CSVs, logs and times go to $BENCH_DATA/results/<corpus>/.
//
// Run: npm run bench          (as root on Debian; a benchmark, not a test)
// Env: BENCH_SIZES=2k,20k,100k  steps to run: 2k = ct2k, sort 10k; 20k = ct20k, ct20k-64, sort 100k;
//                               100k = 100k- and 200k-file hard-link trees, sort 1M (default: all)
//      BENCH_DATA=DIR           corpora and results (default: $TMPDIR/dicom-etl-bench; not in the repo)
//      RUNS=5                   timed runs per peer in run.sh (after one warm-up run)
//      SEED_RUNS=1              timed runs of the slow pydicom+pandas seed (in a batch of its own)
//      PEERS="gdcmscanner etl"  only these rows (run.sh's names; our CLI is etl)
//      COLD=1                   drop the page cache before every timed run.sh run
import { spawnSync } from 'node:child_process'
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BENCH = resolve(REPO, '..', 'shared', 'bench')
const CLI = join(REPO, 'dist', 'cli.js')
const DATA = resolve(process.env.BENCH_DATA ?? join(tmpdir(), 'dicom-etl-bench'))
const REPORT = join(DATA, 'results.md')
const PY = '/usr/bin/python3'
const TIME = '/usr/bin/time'

const ALL_SIZES = ['2k', '20k', '100k']
const SIZES = (process.env.BENCH_SIZES ?? ALL_SIZES.join(',')).split(',').map((s) => s.trim())
const RUNS = process.env.RUNS ?? '5'
const SEED_RUNS = process.env.SEED_RUNS ?? '1'

const KEYWORDS = ['SeriesInstanceUID', 'SliceLocation', 'CTDIvol', 'PatientID', 'StudyDate', 'Modality', 'ImageType']
const EXTRACT_ARGS = ['-k', 'path', ...KEYWORDS.flatMap((k) => ['-k', k]), '-q']
const APT_PACKAGES = ['dcmtk', 'libgdcm-tools', 'python3-pydicom', 'python3-pandas', 'python3-numpy', 'time', 'strace']

// Corpora: gen_corpus.py arguments, or the 100k tree of hard links to ct20k-64.
const CORPORA = {
  ct2k: ['--series', '4', '--slices', '500'],
  ct20k: ['--series', '40', '--slices', '500'],
  'ct20k-64': ['--series', '40', '--slices', '500', '--rows', '64', '--cols', '64'],
}
/** Hard-linked copies of ct20k-64 in the link trees: 100k and 200k files. */
const LINK_COPIES = { ct100k: 5, ct200k: 10 }
const THROUGHPUT = { '2k': 'ct2k', '20k': 'ct20k' } // corpora of the throughput step, by size
const STRACE_ARGS = ['-f', '-qq', '-y', '-s', '0', '-e', 'trace=read,pread64,readv,preadv,preadv2']

// The peers as run.sh names and runs them (its names/cmds arrays, kept in step by hand), plus ours.
const shq = (s) => `'${s.replace(/'/g, `'\\''`)}'`
const SEED = 'seed_pydicom_pandas'
const DCMJS = 'node_dcmjs_naive'
const PEER_CMDS = {
  [SEED]: `${PY} ${shq(`${BENCH}/peers/seed_pydicom_pandas.py`)} {dir}`,
  pydicom_fast: `${PY} ${shq(`${BENCH}/peers/pydicom_fast.py`)} {dir}`,
  pydicom_fast_j2: `${PY} ${shq(`${BENCH}/peers/pydicom_fast.py`)} -j 2 {dir}`,
  gdcmscanner: `${shq(`${BENCH}/peers/gdcmscanner.sh`)} {dir}`,
  dcmtk: `${shq(`${BENCH}/peers/dcmtk.sh`)} {dir}`,
  node_dcmjs_naive: `node ${shq(`${BENCH}/peers/node_dcmjs_naive.mjs`)} {dir}`,
  etl: `node ${shq(CLI)} extract {dir} ${EXTRACT_ARGS.join(' ')}`,
}
const PEERS = process.env.PEERS ? process.env.PEERS.split(/\s+/).filter(Boolean) : Object.keys(PEER_CMDS)

class BenchError extends Error {}

// ---- output: stdout and results.md get the report; progress goes to stderr --------------------

function say(text = '') {
  console.log(text)
  appendFileSync(REPORT, text + '\n')
}

function progress(text) {
  process.stderr.write(`bench: ${text}\n`)
}

function mdTable(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n')
}

// ---- processes ---------------------------------------------------------------------------------

// Runs a command to completion; its output goes to stderr unless `stdout: 'pipe'` (then returned).
function run(cmd, args, { stdout = 2, stderr = 'inherit', env = process.env, cwd = REPO, allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', stdout, stderr], encoding: 'utf8' })
  if (r.error) throw new BenchError(`cannot run ${cmd}: ${r.error.message}`)
  if (r.status !== 0 && !allowFail) throw new BenchError(`${cmd} ${args.join(' ')} failed (exit ${r.status})`)
  return r
}

// First line of a command's output without RCS keywords ($Date$), or '?' when it cannot run.
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return r.error
    ? '?'
    : `${r.stdout}${r.stderr}`
        .trim()
        .split('\n')[0]
        .replace(/\$Date\$|\$/g, '')
        .trim()
}

// Runs a command under GNU time: { wall, peakMb, exit }.
function timed(cmd, args) {
  const out = join(DATA, 'time.txt')
  run(TIME, ['-f', '%e %M %x', '-o', out, cmd, ...args], { stdout: 'ignore', allowFail: true })
  const last = readFileSync(out, 'utf8').trim().split('\n').at(-1) // "Command exited ..." lines come first
  unlinkSync(out)
  const [wall, kb, exit] = last.split(' ').map(Number)
  return { wall, peakMb: kb / 1024, exit }
}

// ---- set-up ------------------------------------------------------------------------------------

function checkPlace() {
  if (!existsSync(join(BENCH, 'run.sh'))) {
    throw new BenchError(`the shared benchmark is missing: expected ${BENCH}/run.sh (../shared/bench beside the repo)`)
  }
  const rel = relative(REPO, DATA)
  if (!rel.startsWith('..') && !isAbsolute(rel)) throw new BenchError(`BENCH_DATA must be outside the repo: ${DATA}`)
  const bad = SIZES.filter((s) => !ALL_SIZES.includes(s))
  if (bad.length) throw new BenchError(`BENCH_SIZES: unknown ${bad.join(', ')} (expected some of ${ALL_SIZES})`)
  const unknown = PEERS.filter((p) => !(p in PEER_CMDS))
  if (unknown.length)
    throw new BenchError(`PEERS: unknown ${unknown.join(', ')} (expected some of ${Object.keys(PEER_CMDS).join(' ')})`)
}

function installMissing() {
  const onPath = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0
  const pythonOk = spawnSync(PY, ['-c', 'import pydicom, pandas, numpy'], { stdio: 'ignore' }).status === 0
  if (!['gdcmscanner', 'dcmdump', 'strace', TIME].every(onPath) || !pythonOk) {
    progress(`installing ${APT_PACKAGES.join(' ')}`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    run('apt-get', ['update'], { env })
    run('apt-get', ['install', '-y', ...APT_PACKAGES], { env })
  }
  if (!existsSync(join(BENCH, 'node_modules'))) {
    progress('installing dcmjs for the node_dcmjs_naive peer')
    run('npm', ['--prefix', BENCH, 'ci'])
  }
  if (!existsSync(CLI) || !existsSync(join(REPO, 'dist', 'index.js'))) {
    progress('building dist/')
    run('npm', ['run', 'build'])
  }
}

// Generates a corpus unless it is there already (gen_corpus.py writes the manifest last).
function ensureCorpus(name) {
  const dir = join(DATA, name)
  if (name in LINK_COPIES) return ensureLinkTree(dir, LINK_COPIES[name])
  if (existsSync(`${dir}.manifest.csv`)) return dir
  progress(`generating ${dir}`)
  run(PY, [join(BENCH, 'gen_corpus.py'), ...CORPORA[name], '--out', dir])
  return dir
}

// 100k or 200k files: copies of ct20k-64 made of hard links, so no disk is used.
function ensureLinkTree(dir, copies) {
  if (existsSync(dir)) return dir
  const source = ensureCorpus('ct20k-64')
  const partial = `${dir}.partial`
  progress(`linking ${dir}`)
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial)
  for (let i = 1; i <= copies; i++) run('cp', ['-al', source, join(partial, `copy${i}`)])
  renameSync(partial, dir)
  return dir
}

function* walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield* walk(p)
    else if (e.isFile()) yield p
  }
}

const countFiles = (dir) => [...walk(dir)].length

// ---- 1. header ---------------------------------------------------------------------------------

function commandLine() {
  const vars = ['BENCH_SIZES', 'BENCH_DATA', 'RUNS', 'SEED_RUNS', 'PEERS', 'COLD']
  const env = vars.filter((v) => process.env[v] !== undefined).map((v) => `${v}=${shq(process.env[v])}`)
  const cmd = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : 'node scripts/bench.mjs'
  return [...env, cmd].join(' ')
}

function printHeader() {
  const git = (...args) => (spawnSync('git', ['-C', REPO, ...args], { encoding: 'utf8' }).stdout ?? '').trim()
  const dirty = git('status', '--porcelain', '--', 'src', 'package.json')
    ? ' + uncommitted changes in src/ or package.json'
    : ''
  const pydicom = firstLine(PY, ['-c', 'import pydicom, pandas; print(pydicom.__version__, pandas.__version__)'])
  say('# dicom-etl benchmark')
  say()
  say(`- date: ${new Date().toISOString()}`)
  say(`- command: \`${commandLine()}\` (in ${REPO})`)
  say(
    `- machine: ${availableParallelism()} cores (${cpus()[0].model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${release()}`,
  )
  say(
    `- node ${process.version}; ${firstLine('gdcmscanner', ['--version'])}; ${firstLine('dcmdump', ['--version'])}; pydicom, pandas ${pydicom}`,
  )
  say(
    `- etl: commit ${git('rev-parse', '--short', 'HEAD')}${dirty}; dist/cli.js built ${statSync(CLI).mtime.toISOString()}`,
  )
  say(
    `- sizes: ${SIZES.join(', ')}; RUNS=${RUNS}, SEED_RUNS=${SEED_RUNS}; ${process.env.COLD ? 'cold' : 'warm'} page cache; data in ${DATA}`,
  )
}

// ---- 2. throughput -----------------------------------------------------------------------------

// run.sh on a corpus for some peers; its stdout is returned, its progress goes to stderr.
function runSh(dir, results, vars) {
  const env = { ...process.env, PROJECT_CMD: PEER_CMDS.etl, PROJECT_NAME: 'etl', RESULTS: results, ...vars }
  if (!vars.TABLE_ONLY) delete env.TABLE_ONLY
  const r = run(join(BENCH, 'run.sh'), [dir], { env, stdout: 'pipe', allowFail: true })
  if (r.status > 1) throw new BenchError(`${BENCH}/run.sh ${dir} failed (exit ${r.status}; 1 is a failed check)`)
  return r
}

// Median wall, max peak RSS and the first failing exit code of one peer's runs (run.sh's times file).
function peerTimes(results, peer) {
  const file = join(results, `${peer}.times`)
  if (!existsSync(file)) throw new BenchError(`run.sh left no times for ${peer}: ${file}`)
  const runs = readFileSync(file, 'utf8').trim().split('\n')
  const rows = runs.map((line) => line.split(' ').map(Number))
  const walls = rows.map((r) => r[0]).sort((a, b) => a - b)
  const mid = walls.length >> 1
  const wall = walls.length % 2 ? walls[mid] : (walls[mid - 1] + walls[mid]) / 2
  return {
    wall,
    peakMb: Math.max(...rows.map((r) => r[1])) / 1024,
    exit: rows.map((r) => r[2]).find((x) => x !== 0) ?? 0,
  }
}

// Bytes the whole process tree reads from files under `dir`: strace -f -y names the file behind
// every fd, so reads of libraries, scripts and pipes are left out. Calls split across two lines
// ("<unfinished ...>" then "<... resumed>", when threads or processes interleave) are joined by pid.
function bytesRead(cmd, dir, trace) {
  const args = [...STRACE_ARGS, '-o', trace, 'sh', '-c', cmd.replaceAll('{dir}', shq(dir))]
  run('strace', args, { stdout: 'ignore', stderr: 'ignore', allowFail: true }) // the timed runs logged stderr
  const root = realpathSync(dir) + '/'
  const pending = new Map()
  const files = new Set()
  let bytes = 0
  let calls = 0
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const start = line.match(/^(\d+)\s+\w+\(\d+<([^>]*)>.*<unfinished \.\.\.>$/)
    if (start) {
      pending.set(start[1], start[2])
      continue
    }
    const whole = line.match(/^(\d+)\s+\w+\(\d+<([^>]*)>.* = (\d+)$/)
    const resumed = line.match(/^(\d+)\s+<\.\.\. \w+ resumed>.* = (\d+)$/)
    const file = whole ? whole[2] : resumed ? pending.get(resumed[1]) : undefined
    if (!file?.startsWith(root)) continue
    bytes += Number(whole ? whole[3] : resumed[2])
    calls += 1
    files.add(file)
  }
  unlinkSync(trace)
  return { bytes, calls, files: files.size }
}

function throughput(name) {
  const dir = ensureCorpus(name)
  const results = join(DATA, 'results', name)
  const files = countFiles(dir)
  // The readers of whole files run in batches of their own: the seed because it is slow, and
  // both because streaming the whole corpus pushes the others' header pages out of this
  // machine's page cache (etl right after dcmjs: 0.91 s; after itself or gdcmscanner: 0.62-0.67 s).
  const alone = [SEED, DCMJS].filter((p) => PEERS.includes(p))
  const others = PEERS.filter((p) => !alone.includes(p))
  say()
  say(`## Throughput: ${name} (${files} files)`)
  say()
  for (const peer of alone) {
    const runs = peer === SEED ? SEED_RUNS : RUNS
    progress(`${name}: run.sh, ${peer} (RUNS=${runs})`)
    runSh(dir, results, { PEERS: peer, RUNS: runs })
  }
  if (alone.length) {
    say(
      `${alone.join(' and ')}: in batches of their own (${SEED}: ${SEED_RUNS} timed run(s)), each after a warm-up;` +
        ` the others: RUNS=${RUNS}, interleaved, after their warm-ups.`,
    )
  }
  if (others.length) {
    progress(`${name}: run.sh, ${others.join(' ')} (RUNS=${RUNS})`)
    runSh(dir, results, { PEERS: others.join(' '), RUNS })
  }
  const table = runSh(dir, results, { PEERS: PEERS.join(' '), TABLE_ONLY: '1' })
  say("run.sh's table and check (`TABLE_ONLY=1` over both batches):")
  say()
  say('```')
  say(table.stdout.trimEnd())
  say('```')
  const checkOk = table.status === 0
  if (!checkOk) say(`\n**check FAILED** (run.sh exit ${table.status}): see ${results}/verify.txt`)

  const traced = readsPerFile()
  const rows = PEERS.map((peer) => ({
    peer,
    files,
    ...peerTimes(results, peer),
    kbPerFile: traced.reads[peer].bytes / traced.files / 1024,
  }))
  return { rows, checkOk }
}

// Bytes read per file depend on the headers, not on the number of files, so they are counted
// once, on ct2k (the generator's headers are the same in every corpus), whatever sizes are run:
// under strace, the readers of whole files (the seed) run an order of magnitude slower, which on
// ct20k took more than ten minutes for the one figure.
let traced
function readsPerFile() {
  if (traced) return traced
  const dir = ensureCorpus('ct2k')
  const results = join(DATA, 'results', 'ct2k')
  mkdirSync(results, { recursive: true })
  traced = { files: countFiles(dir), reads: {} }
  for (const peer of PEERS) {
    progress(`ct2k: bytes read by ${peer} (strace)`)
    traced.reads[peer] = bytesRead(PEER_CMDS[peer], dir, join(results, `${peer}.strace`))
    // Every peer reads every file: none seen means the trace was not understood, not a fast peer.
    if (traced.reads[peer].files === 0) throw new BenchError(`strace: no read of a file under ${dir} by ${peer}`)
  }
  const { reads, files } = traced
  say()
  say(`Bytes read from the corpus files, on ct2k (${files} files; the same headers as every corpus here): one`)
  say('extra, untimed run of each peer under `strace -f -y -e trace=read,pread64,readv,preadv,preadv2`, summing the')
  say('return values of the calls whose fd is a file under the corpus (all processes and threads: Python workers,')
  say('pipelines); reads of libraries, scripts and pipes are left out. Bytes the kernel handed over, cached or not;')
  say('a byte read twice counts twice (gdcmscanner opens each file twice and seeks back before refilling its 8 KB')
  say('buffer).')
  say()
  say(
    mdTable(
      ['peer', 'files read', 'read calls', 'MB read', 'KB read/file'],
      PEERS.map((p) => [
        p,
        reads[p].files,
        reads[p].calls,
        (reads[p].bytes / 2 ** 20).toFixed(1),
        (reads[p].bytes / files / 1024).toFixed(1),
      ]),
    ),
  )
  return traced
}

function summaryTable(rows) {
  const ratio = (row, peer) => {
    const ref = rows.find((r) => r.peer === peer && r.files === row.files && r.exit === 0)
    return ref && row.exit === 0 ? (row.wall / ref.wall).toFixed(2) : '-'
  }
  say()
  say('## Summary')
  say()
  say(
    mdTable(
      ['peer', 'files', 'median wall s', 'files/s', 'peak RSS MB', 'KB read/file', 'x gdcm', 'x seed'],
      rows.map((r) => [
        r.exit === 0 ? r.peer : `${r.peer} (FAILED, exit ${r.exit})`,
        r.files,
        r.wall.toFixed(2),
        r.exit === 0 && r.wall > 0 ? Math.round(r.files / r.wall) : '-',
        r.peakMb.toFixed(1),
        r.kbPerFile.toFixed(1),
        ratio(r, 'gdcmscanner'),
        ratio(r, SEED),
      ]),
    ),
  )
  say()
  say(
    'x gdcm, x seed: median wall ÷ that of gdcmscanner, of the pydicom+pandas seed, on the same corpus (lower is faster).',
  )
  say(
    "Peak RSS: GNU time's %M as run.sh takes it, the largest single process (not the sum of -j 2 workers or a pipeline).",
  )
}

// ---- 3. memory scaling -------------------------------------------------------------------------

function memoryScaling() {
  // 200k goes beyond the issue's sizes, to show that the peak stays where it is.
  const extracts = { '2k': ['ct2k'], '20k': ['ct20k-64'], '100k': ['ct100k', 'ct200k'] }
  const sorts = { '2k': 10_000, '20k': 100_000, '100k': 1_000_000 }
  const rows = []
  for (const dir of SIZES.flatMap((size) => extracts[size]).map(ensureCorpus)) {
    progress(`memory: etl extract ${dir}`)
    const t = timed('node', [CLI, 'extract', dir, ...EXTRACT_ARGS])
    rows.push([
      `etl extract, CSV to /dev/null${t.exit ? ` (exit ${t.exit})` : ''}`,
      countFiles(dir),
      t.peakMb.toFixed(1),
      t.wall.toFixed(2),
    ])
  }
  for (const size of SIZES) {
    progress(`memory: bench-sort.mjs ${sorts[size]}`)
    const t = timed('node', [join(REPO, 'scripts', 'bench-sort.mjs'), String(sorts[size])])
    if (t.exit) throw new BenchError(`scripts/bench-sort.mjs ${sorts[size]} failed (exit ${t.exit})`)
    rows.push([
      'sortRows by SliceLocation, 8-column rows (scripts/bench-sort.mjs)',
      sorts[size],
      t.peakMb.toFixed(1),
      t.wall.toFixed(2),
    ])
  }
  say()
  say('## Memory scaling')
  say()
  say(`Peak RSS by GNU \`${TIME} -f %M\`, one run each; extract: same 8 columns as above, CSV on stdout to /dev/null;`)
  say(
    `corpora ct2k, ct20k-64 (64x64 pixels), and ${LINK_COPIES.ct100k} or ${LINK_COPIES.ct200k} hard-linked copies of ct20k-64.`,
  )
  say()
  say(mdTable(['what', 'N', 'peak RSS MB', 'wall s'], rows))
}

// ---- 4. start-up -------------------------------------------------------------------------------

function startUp() {
  const dir = join(DATA, 'startup10')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir)
  const source = ensureCorpus('ct2k')
  const picked = [...walk(source)]
    .filter((f) => f.endsWith('.dcm'))
    .sort()
    .slice(0, 10)
  picked.forEach((f, i) => copyFileSync(f, join(dir, `IM${i + 1}.dcm`)))
  const median = (args) => {
    run('node', args, { stdout: 'ignore' }) // warm-up
    const ms = []
    for (let i = 0; i < 10; i++) {
      const start = performance.now()
      run('node', args, { stdout: 'ignore' })
      ms.push(performance.now() - start)
    }
    ms.sort((a, b) => a - b)
    return ((ms[4] + ms[5]) / 2).toFixed(0)
  }
  progress('start-up')
  const rows = [
    ['etl --version', median([CLI, '--version'])],
    ['etl extract, 10 files, 8 columns', median([CLI, 'extract', dir, ...EXTRACT_ARGS])],
  ]
  say()
  say('## Start-up')
  say()
  say('Median of 10 runs (after one warm-up) of the whole process, spawned from Node.')
  say()
  say(mdTable(['what', 'median ms'], rows))
}

// Incremental runs: a first run that writes a state, then a run over the unchanged archive,
// which reads no header (the issue's target: well under a second per 10,000 files).
function incremental() {
  const corpus = ensureCorpus(SIZES.includes('20k') ? 'ct20k' : 'ct2k')
  const state = join(DATA, 'incremental.state.jsonl')
  rmSync(state, { force: true })
  progress(`incremental runs on ${corpus}`)
  const args = [CLI, 'extract', corpus, ...EXTRACT_ARGS, '--state', state]
  const first = timed('node', args)
  const unchanged = timed('node', args)
  const files = [...walk(corpus)].length
  say()
  say('## Incremental runs')
  say()
  say(`\`etl extract\` with \`--state\` on ${corpus} (${files} files), one run each.`)
  say()
  say(
    mdTable(
      ['run', 'wall s', 'peak MB', 's per 10,000 files'],
      [
        [
          'first (reads every header, writes the state)',
          first.wall.toFixed(2),
          first.peakMb.toFixed(0),
          ((first.wall * 1e4) / files).toFixed(2),
        ],
        [
          'unchanged archive (reads no header)',
          unchanged.wall.toFixed(2),
          unchanged.peakMb.toFixed(0),
          ((unchanged.wall * 1e4) / files).toFixed(2),
        ],
      ],
    ),
  )
}

// ---- main --------------------------------------------------------------------------------------

function main() {
  checkPlace()
  installMissing()
  mkdirSync(DATA, { recursive: true })
  writeFileSync(REPORT, '')
  printHeader()
  const rows = []
  let checksOk = true
  for (const size of SIZES.filter((s) => THROUGHPUT[s])) {
    const result = throughput(THROUGHPUT[size])
    rows.push(...result.rows)
    checksOk &&= result.checkOk
  }
  if (rows.length) summaryTable(rows)
  memoryScaling()
  incremental()
  startUp()
  say()
  say(`(written to ${REPORT})`)
  if (!checksOk) process.exitCode = 1
}

try {
  main()
} catch (e) {
  if (!(e instanceof BenchError)) throw e
  console.error(`bench: ${e.message}`)
  process.exitCode = 1
}
