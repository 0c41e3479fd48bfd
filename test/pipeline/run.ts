// Pipelines with grouping and dose on the committed samples, end to end through the CLI, checked
// against the sample model (scripts/sample-model.mjs): the DLP of each series is recomputed
// here from the model's slice positions and CTDIvol values, independently of src/.
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { PassThrough } from 'node:stream'
import { join } from 'node:path'
import { parsePipeline } from '../../src/pipeline/load.js'
import { runPipeline } from '../../src/pipeline/run.js'
import { ROOT, parseCsv, runCli, type CliResult } from '../fixtures/cli.js'

interface Slice {
  path: string
  sliceLocation: number | null
  ctdiVol: number | null
}
interface Series {
  seriesNumber: number
  seriesInstanceUid: string
  description: string
  bodyPart?: string
  sliceThickness?: number
  slices: Slice[]
}
const { sampleSeries } = (await import(new URL('../../scripts/sample-model.mjs', import.meta.url).href)) as {
  sampleSeries(): Series[]
}

/** AAPM Report 96, Table 3, adult k-factors (mSv per mGy·cm), for the sample's body parts. */
const K = { HEAD: 0.0021, CHEST: 0.014 } as Record<string, number>

/**
 * DLP by the midpoint rule: each slice stands for half the distance to each neighbour, the end
 * slices for the distance to their one neighbour; DLP = sum of CTDIvol x L / 10 (mm to cm).
 */
function expectedDose(series: Series) {
  const slices = [...series.slices].sort((a, b) => (a.sliceLocation as number) - (b.sliceLocation as number))
  const z = slices.map((s) => s.sliceLocation as number)
  const n = z.length
  const lengths = z.map((_, i) =>
    i === 0 ? z[1] - z[0] : i === n - 1 ? z[n - 1] - z[n - 2] : (z[i + 1] - z[i - 1]) / 2,
  )
  const ctdi = slices.map((s) => s.ctdiVol as number)
  const dlp = ctdi.reduce((sum, c, i) => sum + (c * lengths[i]) / 10, 0)
  const length = lengths.reduce((a, b) => a + b, 0)
  return {
    slices: n,
    scanRange: z[n - 1] - z[0] + (lengths[0] + lengths[n - 1]) / 2,
    interval: length / n,
    ctdiMean: ctdi.reduce((a, b) => a + b, 0) / n,
    ctdiMax: Math.max(...ctdi),
    dlp,
    e: K[series.bodyPart as string] * dlp,
  }
}

/** Every digit: the computed value is the model's to 12 digits (`format.precision: full`). */
const near = (actual: string, expected: number) => Math.abs(Number(actual) - expected) <= 1e-12 * Math.abs(expected)
/** The default precision: the cell is the model's value to 4 significant digits, as written. */
const fourDigits = (actual: string, expected: number) => actual === String(Number(expected.toPrecision(4)))

/** pipelines/dose.yaml with `format: {precision: full}`, in a folder of its own. */
function fullPrecisionDose(): string {
  const folder = mkdtempSync(join(tmpdir(), 'etl-test-dose-'))
  const yaml = readFileSync(join(ROOT, 'pipelines/dose.yaml'), 'utf8').replace('../samples', join(ROOT, 'samples'))
  writeFileSync(join(folder, 'dose.yaml'), `${yaml}format:\n  precision: full\n`)
  return folder
}

for (const [precision, same] of [
  ['the default 4 significant digits', fourDigits],
  ['precision: full', near],
] as const) {
  t.test(
    `etl run pipelines/dose.yaml (${precision}): one row per series, DLP as recomputed from the model`,
    async (t) => {
      const folder = precision === 'precision: full' ? fullPrecisionDose() : undefined
      if (folder) t.teardown(() => rmSync(folder, { recursive: true, force: true }))
      const r = await runCli(['run', folder ? join(folder, 'dose.yaml') : 'pipelines/dose.yaml'])
      checkDoseRows(t, r, same)
    },
  )
}

function checkDoseRows(t: Test, r: CliResult, near: (actual: string, expected: number) => boolean): void {
  t.equal(r.code, 0, r.stderr)
  const [header, ...rows] = parseCsv(r.stdout)
  const cell = (row: string[], name: string) => row[header.indexOf(name)]
  const series = sampleSeries()
  t.strictSame(
    rows.map((row) => cell(row, 'SeriesNumber')),
    ['1', '2', '3'],
    'a row per series, in group_by order (SeriesNumber before the UID)',
  )
  for (const s of series) {
    const row = rows.find((r) => cell(r, 'SeriesInstanceUID') === s.seriesInstanceUid) as string[]
    t.equal(cell(row, 'SeriesDescription'), s.description)
    if (s.slices.every((slice) => slice.ctdiVol === null)) {
      t.equal(cell(row, 'slices'), '0', `${s.description}: no slice counts`)
      t.equal(cell(row, 'excluded'), '1')
      t.equal(cell(row, 'dlp_mGycm'), '', `${s.description}: no DLP`)
      t.equal(cell(row, 'dose_notes'), 'excluded: 1 localizer; no axial slices: no DLP')
      continue
    }
    const expected = expectedDose(s)
    t.comment(`${s.description}: DLP ${expected.dlp} mGy·cm, E ${expected.e} mSv`)
    t.equal(cell(row, 'slices'), String(expected.slices), `${s.description}: slices`)
    t.ok(
      near(cell(row, 'dlp_mGycm'), expected.dlp),
      `${s.description}: DLP ${cell(row, 'dlp_mGycm')} = ${expected.dlp}`,
    )
    t.ok(near(cell(row, 'effective_dose_estimate_mSv'), expected.e), `${s.description}: E = ${expected.e}`)
    t.ok(near(cell(row, 'scan_range_mm'), expected.scanRange), `${s.description}: scan range`)
    t.ok(near(cell(row, 'interval_mm'), expected.interval), `${s.description}: interval`)
    t.ok(near(cell(row, 'ctdivol_mean_mGy'), expected.ctdiMean), `${s.description}: mean CTDIvol`)
    t.ok(near(cell(row, 'ctdivol_max_mGy'), expected.ctdiMax), `${s.description}: max CTDIvol`)
    t.equal(cell(row, 'region'), s.bodyPart)
    const overlapping = (s.sliceThickness as number) > expected.interval
    t.equal(
      cell(row, 'dose_notes'),
      overlapping
        ? `overlapping reconstruction: interval ${expected.interval} mm < thickness ${s.sliceThickness} mm`
        : '',
      `${s.description}: notes`,
    )
  }
}

t.test('etl run pipelines/dose-slices.yaml: each slice with its share, adding up to the series DLP', async (t) => {
  const r = await runCli(['run', 'pipelines/dose-slices.yaml'])
  t.equal(r.code, 0, r.stderr)
  const [header, ...rows] = parseCsv(r.stdout)
  const cell = (row: string[], name: string) => row[header.indexOf(name)]
  t.strictSame(header.slice(-4), ['position_mm', 'interval_mm', 'dlp_mGycm', 'dose_note'])
  for (const s of sampleSeries()) {
    const mine = rows.filter((row) => cell(row, 'SeriesInstanceUID') === s.seriesInstanceUid)
    t.equal(mine.length, s.slices.length, `${s.description}: a row per slice`)
    if (s.slices.every((slice) => slice.ctdiVol === null)) {
      t.strictSame(
        mine.map((row) => cell(row, 'dose_note')),
        ['excluded: localizer'],
      )
      continue
    }
    const positions = mine.map((row) => Number(cell(row, 'position_mm')))
    t.strictSame(
      positions,
      s.slices.map((slice) => slice.sliceLocation as number).sort((a, b) => a - b),
      `${s.description}: slices along z`,
    )
    // Each share is written to 4 significant digits: their sum is the DLP within that rounding.
    const sum = mine.reduce((total, row) => total + Number(cell(row, 'dlp_mGycm')), 0)
    const dlp = expectedDose(s).dlp
    t.ok(Math.abs(sum - dlp) <= 5e-4 * dlp, `${s.description}: the shares add up to the DLP (${sum}, ${dlp})`)
  }
})

t.test('group_by without dose: aggregates over the samples', async (t) => {
  const text = [
    'source: {paths: [../samples], ignore: ["**/*.txt", "**/*.md"]}',
    'extract: [SeriesNumber, SeriesDescription, InstanceNumber, {keyword: CTDIvol, as: CTDIvol_mGy}]',
    'group_by: SeriesNumber',
    'aggregate:',
    '  - {column: SeriesDescription, op: first}',
    '  - {column: InstanceNumber, op: count, as: images}',
    '  - {column: InstanceNumber, op: max}',
    '  - {column: CTDIvol_mGy, op: max}',
    'sort: {by: [InstanceNumber], memory_mb: 1}',
  ].join('\n')
  const { spec, problems } = parsePipeline(text, join(ROOT, 'pipelines'))
  t.strictSame(problems, [])
  const stdout = new PassThrough()
  let csv = ''
  stdout.on('data', (d) => (csv += String(d)))
  const summary = await runPipeline(spec!, { stdout, stderr: new PassThrough(), quiet: true })
  t.equal(summary.headers, 89, 'every header read')
  t.equal(summary.rows, 3, 'issue 11: rows are what was written, one per series, as the CLI says')
  const series = sampleSeries()
  const maxCtdi = (s: Series) => Math.max(...s.slices.map((slice) => slice.ctdiVol ?? -Infinity))
  t.strictSame(parseCsv(csv), [
    ['SeriesNumber', 'first_SeriesDescription', 'images', 'max_InstanceNumber', 'max_CTDIvol_mGy'],
    ...series.map((s) => [
      String(s.seriesNumber),
      s.description,
      String(s.slices.length),
      String(s.slices.length),
      Number.isFinite(maxCtdi(s)) ? String(maxCtdi(s)) : '',
    ]),
  ])
})

/** The percentile by its definition (numpy's linear method), of numbers in any order. */
function percentile(numbers: readonly number[], p: number): number {
  const x = [...numbers].sort((a, b) => a - b)
  const h = ((x.length - 1) * p) / 100
  const low = Math.floor(h)
  return x[low] + (h - low) * (x[Math.min(low + 1, x.length - 1)] - x[low])
}

t.test('issue 14: etl run with median, pNN, stddev and count_distinct per series of the samples', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'etl-test-stats-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const yaml = [
    `source: {paths: [${JSON.stringify(join(ROOT, 'samples'))}], ignore: ["**/*.txt", "**/*.md"]}`,
    'extract: [SeriesNumber, SOPInstanceUID, {keyword: CTDIvol, as: ctdi}]',
    'group_by: SeriesNumber',
    'aggregate:',
    '  - {column: ctdi, op: median}',
    '  - {column: ctdi, op: p25}',
    '  - {column: ctdi, op: p95}',
    '  - {column: ctdi, op: stddev}',
    '  - {column: SOPInstanceUID, op: count_distinct, as: images}',
    'sort: {memory_mb: 1}',
  ]
  for (const [precision, digits] of [
    [undefined, 4],
    ['full', undefined],
  ] as const) {
    const file = join(folder, `stats-${precision ?? 'default'}.yaml`)
    writeFileSync(file, [...yaml, ...(precision ? [`format: {precision: ${precision}}`] : [])].join('\n'))
    const r = await runCli(['run', file])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, /^etl: 89 files listed, 3 rows written from 89 headers/m)
    const round = (x: number) => String(digits ? Number(x.toPrecision(digits)) : x)
    const expected = sampleSeries().map((s) => {
      const ctdi = s.slices.flatMap((slice) => (slice.ctdiVol === null ? [] : [slice.ctdiVol]))
      if (ctdi.length === 0) return [String(s.seriesNumber), '', '', '', '', String(s.slices.length)]
      const mean = ctdi.reduce((a, b) => a + b, 0) / ctdi.length
      const sd = Math.sqrt(ctdi.reduce((a, b) => a + (b - mean) ** 2, 0) / (ctdi.length - 1))
      return [
        String(s.seriesNumber),
        ...[50, 25, 95].map((p) => round(percentile(ctdi, p))),
        digits ? round(sd) : String(sd),
        String(s.slices.length),
      ]
    })
    const [header, ...rows] = parseCsv(r.stdout)
    t.strictSame(header, ['SeriesNumber', 'median_ctdi', 'p25_ctdi', 'p95_ctdi', 'stddev_ctdi', 'images'])
    if (digits) t.strictSame(rows, expected, 'to 4 significant digits')
    else {
      // Every digit: the same numbers, the standard deviation within the rounding of its sums.
      t.strictSame(
        rows.map((row) => row.filter((_, i) => i !== 4)),
        expected.map((row) => row.filter((_, i) => i !== 4)),
      )
      for (const [i, row] of rows.entries()) {
        const want = Number(expected[i][4])
        t.ok(row[4] === expected[i][4] || Math.abs(Number(row[4]) - want) <= 1e-12 * want, `stddev ${row[4]}`)
      }
    }
  }
})
