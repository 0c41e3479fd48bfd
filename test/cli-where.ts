// `--where` and `where:` end to end: the CLI spawned, exit code, stdout and stderr apart.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROOT, parseCsv, runCli } from './fixtures/cli.js'
import { DICOM_FILES, NOT_DICOM, SAMPLE_FILES } from './fixtures/samples.js'

// Every sample file is listed; those that are not DICOM are ignored, the others read and tested.
const SUMMARY = new RegExp(
  `^etl: ${SAMPLE_FILES.length} files listed, (\\d+) rows written \\((\\d+) filtered out by where\\), ${NOT_DICOM.length} ignored`,
  'm',
)
/** The summary's rows written and filtered out, when `rows` of the sample's DICOM files pass. */
const passing = (rows: number) => [String(rows), String(DICOM_FILES.length - rows)]

t.test('extract --where: the rows that pass, columns read for it left out', async (t) => {
  const localizer = await runCli([
    'extract',
    'samples',
    '-k',
    'SeriesNumber',
    '-k',
    'SeriesDescription',
    '--where',
    'ImageType contains LOCALIZER',
  ])
  t.equal(localizer.code, 0)
  t.equal(localizer.stdout, 'SeriesNumber,SeriesDescription\n1,Topogram 0.6 T20f\n')
  t.match(localizer.stderr, SUMMARY)
  t.strictSame(SUMMARY.exec(localizer.stderr)?.slice(1), passing(1), 'the others filtered out: images and report')

  // Two filters: both must hold; Modality and ImageType are read, not written.
  const thorax = await runCli([
    'extract',
    'samples',
    '-k',
    'SliceLocation',
    '--where',
    'Modality = CT and not ImageType contains LOCALIZER and SeriesDescription ~ /^thorax/i',
    '--where',
    'SliceLocation >= -300',
    '--sort',
    'SliceLocation',
  ])
  t.equal(thorax.code, 0)
  const rows = parseCsv(thorax.stdout)
  t.strictSame(rows[0], ['SliceLocation'])
  t.strictSame(
    rows.slice(1).map(([z]) => Number(z)),
    Array.from({ length: 21 }, (_, i) => -300 + 2.5 * i),
  )
  t.strictSame(SUMMARY.exec(thorax.stderr)?.slice(1), passing(21))
})

t.test('extract --where with a row per frame or threads gives what the rows say', async (t) => {
  const all = await runCli([
    'extract',
    'samples',
    '-k',
    'path',
    '-k',
    'SeriesNumber',
    '-k',
    'StudyDate',
    '--threads',
    '0',
  ])
  const expected = parseCsv(all.stdout)
    .slice(1)
    .filter(([, series]) => Number(series) >= 2)
  for (const threads of ['0', '1']) {
    const some = await runCli([
      'extract',
      'samples',
      '-k',
      'path',
      '-k',
      'SeriesNumber',
      '-k',
      'StudyDate',
      '--where',
      'SeriesNumber >= 2 and StudyDate = 2024-03-12',
      '--threads',
      threads,
    ])
    t.equal(some.code, 0)
    t.strictSame(parseCsv(some.stdout).slice(1), expected, `--threads ${threads}`)
  }
})

t.test('--where problems: a usage error at the place in the expression, nothing on stdout', async (t) => {
  const cases: [string, string][] = [
    ['Modalty = CT', 'etl: --where "Modalty = CT" at 1: unknown keyword "Modalty" (did you mean "Modality"?)\n'],
    ['CTDIvol > high', 'etl: --where "CTDIvol > high" at 11: CTDIvol is a number, got "high"\n'],
    [
      'Modality = CT MR',
      'etl: --where "Modality = CT MR" at 15: expected "and", "or" or the end, got "MR" (quote a value that holds spaces)\n',
    ],
  ]
  for (const [where, first] of cases) {
    const result = await runCli(['extract', 'samples', '-k', 'SeriesNumber', '--where', where])
    t.equal(result.code, 64, where)
    t.equal(result.stdout, '', where)
    t.equal(result.stderr, `${first}etl: run 'etl --help' for usage\n`, where)
  }
})

t.test('run: where: in the pipeline, --where narrows it; problems at file:line:col', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etl-where-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pipeline = join(dir, 'series.yaml')
  const lines = [
    'source:',
    `  paths: [${JSON.stringify(join(ROOT, 'samples'))}]`,
    'extract: [SeriesNumber, {keyword: CTDIvol, as: CTDIvol_mGy}]',
    'where: CTDIvol_mGy > 9 and not ImageType contains LOCALIZER',
    'group_by: SeriesNumber',
    'aggregate: [{column: CTDIvol_mGy, op: count, as: slices}]',
  ]
  writeFileSync(pipeline, lines.join('\n') + '\n')
  const yaml = await runCli(['run', pipeline])
  t.equal(yaml.code, 0)
  t.equal(yaml.stdout, 'SeriesNumber,slices\n2,40\n3,12\n')
  const narrowed = await runCli(['run', pipeline, '--where', 'SeriesNumber = 3'])
  t.equal(narrowed.code, 0)
  t.equal(narrowed.stdout, 'SeriesNumber,slices\n3,12\n')
  // The 12 thorax slices over 9 mGy pass; every other header read (the report's too) is filtered out.
  t.match(
    narrowed.stderr,
    `1 rows written from ${DICOM_FILES.length} headers (${DICOM_FILES.length - 12} filtered out by where)`,
  )
  const valid = await runCli(['validate', pipeline])
  t.equal(valid.code, 0)
  t.match(
    valid.stderr,
    /ok: 2 columns, rows where CTDIvol_mGy > 9 and not ImageType contains LOCALIZER \(1 more read for it\)/,
  )

  // Problems at their place inside the expression: a plain scalar, then a quoted one on a later line.
  const bad = join(dir, 'bad.yaml')
  writeFileSync(
    bad,
    [...lines.slice(0, 3), 'where: CTDIvol_mGy > 9 and Modalty = CT', 'group_by: SeriesNumber'].join('\n') + '\n',
  )
  const invalid = await runCli(['validate', bad])
  t.equal(invalid.code, 78)
  t.equal(invalid.stdout, '')
  t.equal(
    invalid.stderr,
    `${bad}:4:28 where: unknown keyword "Modalty" (did you mean "Modality"?)\netl: ${bad}: 1 problem\n`,
  )
  writeFileSync(bad, [...lines.slice(0, 3), 'where:', "  'StudyDate >= yesterday'"].join('\n') + '\n')
  const quoted = await runCli(['run', bad])
  t.equal(quoted.code, 78)
  t.match(quoted.stderr, `${bad}:5:17 where: StudyDate is a date (DA), got "yesterday"`)
  const usage = await runCli(['run', pipeline, '--where', 'SeriesNumber = x'])
  t.equal(usage.code, 64)
  t.equal(usage.stdout, '')
  t.match(usage.stderr, /^etl: --where "SeriesNumber = x" at 16: SeriesNumber is a number, got "x"\n/)
})

t.test('--where before the paths takes one value: the paths stay paths', async (t) => {
  const result = await runCli(['extract', '--where', 'SeriesNumber = 1', 'samples', '-k', 'SeriesNumber', '-q'])
  t.equal(result.code, 0)
  t.equal(result.stdout, 'SeriesNumber\n1\n')
  t.equal(result.stderr, '')
})

t.test('--log-format json: the summary event counts the rows filtered out', async (t) => {
  const result = await runCli([
    'extract',
    'samples',
    '-k',
    'SeriesNumber',
    '--where',
    'SeriesNumber = 1',
    '--log-format',
    'json',
  ])
  t.equal(result.code, 0)
  t.equal(result.stdout, 'SeriesNumber\n1\n')
  const summary = result.stderr
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; rows?: number; filtered?: number })
    .find((e) => e.event === 'summary')
  t.match(summary, { rows: 1, filtered: DICOM_FILES.length - 1 })
})

t.test('--help shows --where and an example', async (t) => {
  const extract = await runCli(['extract', '--help'])
  t.match(extract.stdout, /--where/)
  t.match(extract.stdout, /--where 'Modality = CT and CTDIvol > 50'/)
  const run = await runCli(['run', '--help'])
  t.match(run.stdout, /--where 'StudyDate >=/)
})

const corpus = join(ROOT, '../shared/corpus')
t.test(
  'the shared corpus: --where keeps exactly the rows whose values pass',
  { skip: !existsSync(corpus) && 'no ../shared/corpus' },
  async (t) => {
    const args = ['extract', corpus, '-k', 'path', '-k', 'Modality', '-k', 'SeriesDescription', '-q']
    const all = parseCsv((await runCli(args)).stdout).slice(1)
    const filtered = await runCli([...args, '--where', 'Modality in [CT, MR] and SeriesDescription is not empty'])
    t.equal(filtered.code === 0 || filtered.code === 65, true)
    const expected = all.filter(([, modality, description]) => ['CT', 'MR'].includes(modality) && description !== '')
    t.ok(expected.length > 0, 'the corpus has some')
    t.strictSame(parseCsv(filtered.stdout).slice(1), expected)
  },
)

t.test('a state file keeps the filter as its hash: a filter that names a patient leaves no trace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etl-where-state-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const state = join(dir, 'run.state')
  const args = ['extract', 'samples', '-k', 'SliceLocation', '--where', "PatientName = 'Phantom^Anthropomorphic'"]
  const first = await runCli([...args, '--state', state, '-o', join(dir, 'out.csv')])
  t.equal(first.code, 0, first.stderr)
  const bytes = readFileSync(state, 'latin1')
  t.notOk(bytes.includes('Phantom'), 'the name in the filter is not in the state')
  const again = await runCli([...args, '--state', state, '-o', join(dir, 'again.csv')])
  t.match(again.stderr, /unchanged, not read/, 'and the state is still used by the same filter')
  t.equal(readFileSync(join(dir, 'again.csv'), 'utf8'), readFileSync(join(dir, 'out.csv'), 'utf8'))
})

t.test('a filter on the path alone leaves files out before they are opened', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etl-where-path-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // The samples' head series, and a file cut short in another folder.
  const head = join(ROOT, 'samples', 'PAT001', 'STUDY_20240312', 'SER002_HEAD')
  mkdirSync(join(dir, 'broken'))
  writeFileSync(join(dir, 'broken', 'cut.dcm'), readFileSync(join(head, 'IM00001.dcm')).subarray(0, 300))
  const inputs = [head, join(dir, 'broken')]
  const byPath = await runCli(['extract', ...inputs, '-k', 'InstanceNumber', '--where', 'path ~ /SER002/'])
  t.equal(byPath.code, 0, 'the cut file is never opened: no failure')
  t.match(
    byPath.stderr,
    /41 files listed, 40 rows written \(1 filtered out by where\), 0 ignored \(not DICOM\), 0 failed/,
  )
  const read = await runCli([
    'extract',
    ...inputs,
    '-k',
    'InstanceNumber',
    '--where',
    'path ~ /SER002/ and InstanceNumber > 0',
  ])
  t.equal(read.code, 65, 'a filter that reads the header opens every file: the cut one fails')
  t.equal(read.stdout, byPath.stdout, 'the same rows either way')
})
