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

import {
  DICOM_FILES,
  DOSE_REPORT_SERIES,
  isLocalizer,
  sampleSeries,
  type SampleSeries as Series,
} from '../fixtures/samples.js'

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

/**
 * A copy of a shipped pipeline in a folder of its own, with `format: {precision: full}` or
 * without its `where:` (then every DICOM file of the samples makes a row: the localizer and the
 * dose report too).
 */
function shippedCopy(name: string, change: 'precision: full' | 'no where'): string {
  const folder = mkdtempSync(join(tmpdir(), 'etl-test-dose-'))
  const yaml = readFileSync(join(ROOT, 'pipelines', name), 'utf8').replace('../samples', join(ROOT, 'samples'))
  const changed = change === 'no where' ? yaml.replace(/^where:.*\n/m, '') : `${yaml}format:\n  precision: full\n`
  if (changed === yaml) throw new Error(`${name} has no one-line where: to drop`)
  writeFileSync(join(folder, name), changed)
  return folder
}

/** Runs a shipped pipeline, or its changed copy, removed after the test. */
async function runShipped(t: Test, name: string, change?: 'precision: full' | 'no where'): Promise<CliResult> {
  if (!change) return runCli(['run', join('pipelines', name)])
  const folder = shippedCopy(name, change)
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  return runCli(['run', join(folder, name)])
}

/** The series whose images the shipped dose pipelines keep (`where:`): no localizers, no report. */
const axialSeries = () => sampleSeries().filter((s) => !isLocalizer(s))

/** The summary's count of rows filtered out when the images of `kept` pass: the other headers. */
const filteredOut = (kept: Series[]) => DICOM_FILES.length - kept.reduce((n, s) => n + s.slices.length, 0)

for (const [variant, same, change] of [
  ['the default 4 significant digits', fourDigits, undefined],
  ['precision: full', near, 'precision: full'],
  ['without its where:', fourDigits, 'no where'],
] as const) {
  t.test(
    `etl run pipelines/dose.yaml (${variant}): one row per series, DLP as recomputed from the model`,
    async (t) => {
      const r = await runShipped(t, 'dose.yaml', change)
      checkDoseRows(t, r, same, change !== 'no where')
    },
  )
}

function checkDoseRows(
  t: Test,
  r: CliResult,
  near: (actual: string, expected: number) => boolean,
  filtered: boolean,
): void {
  t.equal(r.code, 0, r.stderr)
  const [header, ...rows] = parseCsv(r.stdout)
  const cell = (row: string[], name: string) => row[header.indexOf(name)]
  // The shipped where: keeps the axial images; without it the localizer and the report make rows.
  const series = filtered ? axialSeries() : [...sampleSeries(), DOSE_REPORT_SERIES]
  t.strictSame(
    rows.map((row) => cell(row, 'SeriesNumber')),
    series.map((s) => String(s.seriesNumber)),
    'a row per series, in group_by order (SeriesNumber before the UID)',
  )
  t.match(
    r.stderr,
    filtered
      ? `${rows.length} rows written from ${DICOM_FILES.length} headers (${filteredOut(series)} filtered out by where)`
      : `${rows.length} rows written from ${DICOM_FILES.length} headers, `,
    filtered ? 'every header read, the localizer and the report filtered out' : 'every header read',
  )
  for (const s of series) {
    const row = rows.find((r) => cell(r, 'SeriesInstanceUID') === s.seriesInstanceUid) as string[]
    t.equal(cell(row, 'SeriesDescription'), s.description)
    if (s.slices.every((slice) => slice.ctdiVol === null)) {
      const why = s === DOSE_REPORT_SERIES ? 'without position' : 'localizer'
      t.equal(cell(row, 'slices'), '0', `${s.description}: no slice counts`)
      t.equal(cell(row, 'excluded'), '1')
      t.equal(cell(row, 'dlp_mGycm'), '', `${s.description}: no DLP`)
      t.equal(cell(row, 'dose_notes'), `excluded: 1 ${why}; no axial slices: no DLP`)
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

for (const [variant, change] of [
  ['', undefined],
  [' (without its where:)', 'no where'],
] as const) {
  t.test(
    `etl run pipelines/dose-slices.yaml${variant}: each slice with its share, adding up to the series DLP`,
    async (t) => {
      const r = await runShipped(t, 'dose-slices.yaml', change)
      t.equal(r.code, 0, r.stderr)
      const [header, ...rows] = parseCsv(r.stdout)
      const cell = (row: string[], name: string) => row[header.indexOf(name)]
      t.strictSame(header.slice(-4), ['position_mm', 'interval_mm', 'dlp_mGycm', 'dose_note'])
      const kept = change ? [...sampleSeries(), DOSE_REPORT_SERIES] : axialSeries()
      t.equal(
        rows.length,
        kept.reduce((n, s) => n + s.slices.length, 0),
        change ? 'a row per DICOM file' : 'a row per axial image',
      )
      if (!change) t.match(r.stderr, `(${filteredOut(kept)} filtered out by where)`)
      for (const s of [...sampleSeries(), DOSE_REPORT_SERIES]) {
        const mine = rows.filter((row) => cell(row, 'SeriesInstanceUID') === s.seriesInstanceUid)
        if (!kept.some((k) => k.seriesInstanceUid === s.seriesInstanceUid)) {
          t.equal(mine.length, 0, `${s.description}: filtered out by where`)
          continue
        }
        t.equal(mine.length, s.slices.length, `${s.description}: a row per slice`)
        if (s.slices.every((slice) => slice.ctdiVol === null)) {
          t.strictSame(
            mine.map((row) => cell(row, 'dose_note')),
            [s === DOSE_REPORT_SERIES ? 'excluded: no position' : 'excluded: localizer'],
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
    },
  )
}

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
  // Every series of the samples: the images' and the dose report's.
  const series = [...sampleSeries(), DOSE_REPORT_SERIES]
  t.equal(summary.headers, DICOM_FILES.length, 'every header read, the dose report too')
  t.equal(summary.rows, series.length, 'issue 11: rows are what was written, one per series, as the CLI says')
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
    // Every series of the samples, the dose report's too (no CTDIvol: empty statistics).
    const series = [...sampleSeries(), DOSE_REPORT_SERIES]
    t.match(
      r.stderr,
      `etl: ${DICOM_FILES.length} files listed, ${series.length} rows written from ${DICOM_FILES.length} headers`,
    )
    const round = (x: number) => String(digits ? Number(x.toPrecision(digits)) : x)
    const expected = series.map((s) => {
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
