// Fuzzing the header reader (issue 4, "DICOM fidelity"): files of ../shared/corpus mutated a few
// thousand times (bit flips, byte runs, truncations, huge lengths in length fields, deep or endless
// sequences of undefined length, garbage after DICM, splices, and all of these inside the inflated
// data set of deflated files). Every input must end as a row or an EtlError with a file code and a
// reason: never another exception, never a scan without end; read from a file with a small
// maxBytes, never an allocation past it (but for zlib's, which read-budget.ts caps at 256 MiB).
// The cases run in a worker thread, watched: one that stops making progress is terminated and
// named. Deterministic: a failure prints its seed and case, saves the mutated bytes, and
// FUZZ_SEED=<seed> FUZZ_CASE=<case> npx tap test/fuzz.ts replays that case alone, in-process.
import t from 'tap'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { ROOT } from './fixtures/cli.js'
import {
  PLANS,
  fileParams,
  makeCase,
  runCase,
  runFileCase,
  type FuzzJob,
  type FuzzReport,
} from './fixtures/fuzz-worker.js'

const CORPUS = join(ROOT, '..', 'shared', 'corpus')
const present = existsSync(CORPUS)
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : 0x4f1d2026
/** Cases scanned in memory, then cases written to files and read with readHeaderSync. */
const CASES = 3000
const FILE_CASES = 300
/** A worker whose case counter stands still this long is taken as hung. */
const STALL_MS = 15_000

/** Every corpus file (sorted, so that case i always picks the same one), the corpus's own docs left out. */
function corpusFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (d !== dir || !['README.md', 'oracle.jsonl'].includes(name)) out.push(path)
    }
  }
  walk(dir)
  return out
}

const describe = (i: number, file: string, mutations: string[], plan: string) =>
  `seed ${SEED} case ${i}: ${file.slice(CORPUS.length + 1)} [plan: ${plan}]: ${mutations.join('; ')}`
const replay = (i: number) => `FUZZ_SEED=${SEED} FUZZ_CASE=${i} npx tap test/fuzz.ts`

t.test(
  'mutated corpus files end as a row or an EtlError',
  { skip: !present && 'no ../shared/corpus here' },
  async (t) => {
    const files = corpusFiles(CORPUS)
    t.comment(`seed ${SEED} (set FUZZ_SEED to change it); ${files.length} corpus files`)

    if (process.env.FUZZ_CASE !== undefined) {
      const i = Number(process.env.FUZZ_CASE)
      const c = makeCase(SEED, i, files)
      const saved = join(tmpdir(), `etl-fuzz-${SEED}-${i}.dcm`)
      writeFileSync(saved, c.bytes)
      const outcome =
        i >= CASES
          ? runFileCase(c, t.testdir({}), fileParams(SEED, i).maxBytes, fileParams(SEED, i).chunkSize)
          : runCase(c)
      t.comment(`${describe(i, c.file, c.mutations, PLANS[c.plan].name)}; the mutated bytes: ${saved}`)
      t.ok(outcome.ok, outcome.ok ? outcome.code : outcome.problem)
      return
    }

    const progress = new SharedArrayBuffer(8)
    const job: FuzzJob = {
      seed: SEED,
      files,
      first: 0,
      count: CASES,
      fileFirst: CASES,
      fileCount: FILE_CASES,
      dir: t.testdir({}),
      progress,
    }
    const worker = new Worker(new URL('./fixtures/fuzz-worker.ts', import.meta.url), { workerData: { fuzz: job } })
    const counter = new Int32Array(progress)
    const result = await new Promise<FuzzReport | { hung: number } | { error: Error }>((resolve) => {
      let last = -1
      let since = Date.now()
      const watch = setInterval(() => {
        const done = Atomics.load(counter, 1)
        if (done !== last) {
          last = done
          since = Date.now()
        } else if (Date.now() - since > STALL_MS) {
          clearInterval(watch)
          const hung = Atomics.load(counter, 0)
          void worker.terminate().then(() => resolve({ hung }))
        }
      }, 250)
      worker.once('message', (report: FuzzReport) => {
        clearInterval(watch)
        resolve(report)
      })
      worker.once('error', (error) => {
        clearInterval(watch)
        resolve({ error })
      })
    })
    await worker.terminate()

    if ('hung' in result) {
      const c = makeCase(SEED, result.hung, files)
      const saved = join(tmpdir(), `etl-fuzz-${SEED}-${result.hung}.dcm`)
      writeFileSync(saved, c.bytes)
      t.fail(`no progress for ${STALL_MS / 1000} s: ${describe(c.i, c.file, c.mutations, PLANS[c.plan].name)}`, {
        saved,
        replay: replay(c.i),
      })
      return
    }
    if ('error' in result) {
      t.fail(`the fuzz worker died: ${result.error.stack ?? result.error.message}`)
      return
    }
    const show = (counts: Record<string, number>) =>
      Object.entries(counts)
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    t.comment(`in memory (${CASES} cases): ${show(result.counts)}`)
    t.comment(`readHeaderSync on files (${FILE_CASES} cases, maxBytes 512 B to 1 MiB): ${show(result.fileCounts)}`)
    const inflate = result.largestInflate
    t.comment(`largest mutated input: ${result.largestInput} bytes`)
    t.comment(
      `largest inflater buffer inflating a deflated data set: ${inflate.bytes} bytes, from a file of ` +
        `${inflate.fileSize} bytes (maxBytes ${inflate.maxBytes}): the inflater works in a fixed 96 KiB`,
    )
    for (const f of result.failures.slice(0, 25)) {
      const saved = join(tmpdir(), `etl-fuzz-${SEED}-${f.i}.dcm`)
      writeFileSync(saved, makeCase(SEED, f.i, files).bytes)
      t.fail(`${describe(f.i, f.file, f.mutations, f.plan)}: ${f.problem}`, { saved, replay: replay(f.i) })
    }
    t.equal(result.failures.length, 0, 'every case ended as a row or an EtlError with a file code')
    // The mutations reach the reader's paths: rows, and the failures a damaged file should give.
    for (const outcome of ['row', 'E_CORRUPT', 'E_TRUNCATED', 'E_NOT_DICOM']) {
      t.ok((result.counts[outcome] ?? 0) > 0, `some cases end as ${outcome}`)
    }
    t.ok((result.fileCounts.E_UNSUPPORTED ?? 0) > 0, 'some file reads stop at maxBytes (E_UNSUPPORTED)')
    t.ok((result.fileCounts.row ?? 0) > 0, 'some file reads give rows')
  },
)
