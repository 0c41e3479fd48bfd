// Memory of the sorter: pushes N synthetic rows through sortRows (by SliceLocation) into a sink
// that drops them, then prints N, the sorter's memory budget, the runs it wrote, the peak RSS and
// the wall time. The rows look like those of `etl extract -k path -k SeriesInstanceUID
// -k SliceLocation -k CTDIvol -k PatientID -k StudyDate -k Modality -k ImageType`: 500-slice CT
// series, slice positions in shuffled order. `pass` instead of a budget sends the same rows
// through a stage that holds nothing: the RSS that is not the sorter's.
// Usage: node scripts/bench-sort.mjs N [MEMORY_MB | pass]     (default 64; needs dist/: npm run
// build; scripts/bench.mjs runs it for 10k, 100k and 1M rows)
import { PassThrough, Readable, Writable } from 'node:stream'
import { performance } from 'node:perf_hooks'
import { pipeline } from 'node:stream/promises'
import { sortRows, tuneHeapForStreaming } from '../dist/index.js'

// The heap settings of the CLI, which runs the sorter in `etl extract --sort` and `etl run`.
tuneHeapForStreaming()

const SLICES = 500
const SERIES_PER_STUDY = 4

const n = Number(process.argv[2])
const pass = process.argv[3] === 'pass'
const memoryMb = pass ? 0 : Number(process.argv[3] ?? 64)
if (!Number.isInteger(n) || n <= 0 || !(pass || (Number.isInteger(memoryMb) && memoryMb > 0))) {
  console.error('usage: node scripts/bench-sort.mjs N [MEMORY_MB | pass]   (N: rows; MEMORY_MB: default 64)')
  process.exit(64)
}

// A small deterministic generator (LCG), so every run sorts the same rows.
let seed = 12345
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648

// Each cell is decoded from bytes, as the DICOM reader's are, so it is a flat string of its own
// (a template literal would give V8 rope strings sharing their pieces, and understate memory).
const cell = (text) => Buffer.from(text, 'latin1').toString('latin1')

function* rows(count) {
  let uid = ''
  for (let i = 0; i < count; i++) {
    const series = Math.floor(i / SLICES)
    const study = Math.floor(series / SERIES_PER_STUDY)
    if (i % SLICES === 0) uid = `1.2.826.0.1.3680043.8.498.${Math.floor(random() * 1e15)}${Math.floor(random() * 1e15)}`
    const patient = `PAT${String(study).padStart(6, '0')}`
    const date = `2023${String((study % 12) + 1).padStart(2, '0')}${String((study % 28) + 1).padStart(2, '0')}`
    const slice = Math.floor(random() * SLICES)
    yield [
      cell(
        `/data/ct/${patient}/${date}_A${7000000 + study}/${String(series % 1000).padStart(3, '0')}_CAP/IM${String((i % SLICES) + 1).padStart(6, '0')}.dcm`,
      ),
      cell(uid),
      cell(String(-slice * 0.625 - 20)),
      cell(String(5 + 10 * random())),
      cell(patient),
      cell(date),
      cell('CT'),
      cell('ORIGINAL\\PRIMARY\\AXIAL'),
    ]
  }
}

const drop = new Writable({ objectMode: true, write: (_row, _encoding, callback) => callback() })
const info = { runs: 0, intermediateMerges: 0 }
const stage = pass
  ? new PassThrough({ objectMode: true })
  : sortRows([{ index: 2, descending: false }], { memoryBytes: memoryMb * 1024 * 1024, info })
const start = performance.now()
await pipeline(Readable.from(rows(n)), stage, drop)
const seconds = (performance.now() - start) / 1000
const peakMb = process.resourceUsage().maxRSS / 1024
const what = pass ? 'pass-through (no sort)' : `memory ${memoryMb} MiB, ${info.runs} runs`
console.log(`sortRows: ${n} rows, ${what}, peak RSS ${peakMb.toFixed(1)} MB, ${seconds.toFixed(2)} s`)
