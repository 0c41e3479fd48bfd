// Pipelines with grouping and dose on the committed samples, end to end through the CLI, checked
// against the sample model (scripts/sample-model.mjs): the DLP of each series is recomputed
// here from the model's slice positions and CTDIvol values, independently of src/.
import t from 'tap'
import { PassThrough } from 'node:stream'
import { join } from 'node:path'
import { parsePipeline } from '../../src/pipeline/load.js'
import { runPipeline } from '../../src/pipeline/run.js'
import { ROOT, parseCsv, runCli } from '../fixtures/cli.js'

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

const near = (actual: string, expected: number) => Math.abs(Number(actual) - expected) <= 1e-12 * Math.abs(expected)

t.test('etl run pipelines/dose.yaml: one row per series, DLP as recomputed from the model', async (t) => {
  const r = await runCli(['run', 'pipelines/dose.yaml'])
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
})

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
    const sum = mine.reduce((total, row) => total + Number(cell(row, 'dlp_mGycm')), 0)
    t.ok(Math.abs(sum - expectedDose(s).dlp) < 1e-9, `${s.description}: the shares add up to the DLP`)
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
