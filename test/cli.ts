// The CLI spawned end to end: stdout (CSV only), stderr (messages) and the exit code, apart.
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, ROOT, parseCsv, runCli } from './fixtures/cli.js'
import { DICOM_FILES, DOSE_REPORT, NOT_DICOM, SAMPLE_FILES, isLocalizer, sampleSeries } from './fixtures/samples.js'

const SAMPLE = 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm'

t.test('etl run pipelines/dose-slices.yaml: the samples, sorted, as CSV on stdout', async (t) => {
  const r = await runCli(['run', 'pipelines/dose-slices.yaml'])
  t.equal(r.code, 0, r.stderr)
  const [header, ...rows] = parseCsv(r.stdout)
  t.same(header.slice(0, 5), ['PatientID', 'StudyDate', 'StudyInstanceUID', 'SeriesNumber', 'SeriesInstanceUID'])
  const col = (name: string) => header.indexOf(name)
  // The pipeline's where: keeps the CT images that are not localizers: the localizer and the
  // dose report are read and filtered out.
  const series = sampleSeries()
  const slices = series
    .filter((s) => !isLocalizer(s))
    .flatMap((s) => s.slices.map((slice) => ({ ...slice, series: s.seriesInstanceUid, number: s.seriesNumber })))
  t.equal(rows.length, slices.length, 'one row per image, localizers left out')
  const paths = new Set(rows.map((r) => r[col('path')].slice(ROOT.length)))
  const localizers = series.filter(isLocalizer).flatMap((s) => s.slices.map((slice) => join('samples', slice.path)))
  t.ok(localizers.length > 0, 'the samples have a localizer')
  t.same(
    [...localizers, join('samples', DOSE_REPORT.path)].filter((path) => paths.has(path)),
    [],
    'no row of the localizer or the dose report',
  )
  // Issue 14: series in SeriesNumber order (one study), not in UID order (which puts series 3
  // first); positions by value.
  const expected = [...slices].sort(
    (a, b) => a.number - b.number || (a.sliceLocation ?? Infinity) - (b.sliceLocation ?? Infinity),
  )
  t.same([...new Set(rows.map((r) => r[col('SeriesNumber')]))], ['2', '3'], 'series 2, 3 (their UIDs sort 3, 2)')
  t.same(
    rows.map((r) => [
      r[col('SeriesInstanceUID')],
      r[col('SliceLocation')],
      r[col('CTDIvol_mGy')],
      r[col('path')].slice(ROOT.length),
    ]),
    expected.map((s) => [
      s.series,
      s.sliceLocation === null ? '' : String(s.sliceLocation),
      s.ctdiVol === null ? '' : String(s.ctdiVol),
      join('samples', s.path),
    ]),
    'series, position, CTDIvol and path of every slice, in series then position order',
  )
  // Only DICOM files are listed (the pipeline ignores *.txt and *.md); all of them are read.
  t.match(
    r.stderr,
    new RegExp(
      `^etl: ${DICOM_FILES.length} files listed, ${slices.length} rows written ` +
        `\\(${DICOM_FILES.length - slices.length} filtered out by where\\), 0 ignored \\(not DICOM\\), 0 failed in [\\d.]+ s`,
      'm',
    ),
  )
})

t.test('etl extract: flags, output file, errors file', async (t) => {
  const dir = t.testdir({})
  const out = join(dir, 'out.csv')
  const errors = join(dir, 'errors.csv')
  const r = await runCli([
    'extract',
    'samples',
    '-k',
    'SOPInstanceUID',
    '-k',
    '0018,9345',
    '-k',
    'path',
    '--sort',
    'CTDIvol:desc',
    '-o',
    out,
    '--errors',
    errors,
  ])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '', 'nothing on stdout when writing a file')
  const [header, ...rows] = parseCsv(readFileSync(out, 'utf8'))
  t.same(header, ['SOPInstanceUID', 'CTDIvol', 'path'], 'a tag column is named by its keyword')
  t.equal(rows.length, DICOM_FILES.length, 'a row per DICOM file: the images and the dose report')
  const doses = rows.map((r) => r[1]).filter((d) => d !== '')
  t.same(
    doses,
    [...doses].sort((a, b) => Number(b) - Number(a)),
    'descending by CTDIvol',
  )
  const localizer = sampleSeries().find(isLocalizer)!.slices[0]
  t.same(
    rows
      .slice(doses.length)
      .map((r) => [r[0], r[1]])
      .sort(),
    [
      [localizer.sopInstanceUid, ''],
      [DOSE_REPORT.sopInstanceUid, ''],
    ].sort(),
    'the localizer and the dose report (no CTDIvol) sort last',
  )
  const [errorsHeader, ...skipped] = parseCsv(readFileSync(errors, 'utf8'))
  t.same(errorsHeader, ['path', 'outcome', 'code', 'reason'])
  t.same(skipped.map((r) => r.slice(0, 3)).sort(), [
    ['samples/PAT001/STUDY_20240312/EXPORT_NOTE.txt', 'ignored', 'E_NOT_DICOM'],
    ['samples/README.md', 'ignored', 'E_NOT_DICOM'],
  ])
  t.same(readdirSync(dir).sort(), ['errors.csv', 'out.csv'], 'no temporary files left')
})

t.test('a failed file: the others still give rows, exit 65, the failure named on stderr', async (t) => {
  const dir = t.testdir({})
  copyFileSync(join(ROOT, SAMPLE), join(dir, 'good.dcm'))
  const bytes = readFileSync(join(ROOT, SAMPLE))
  writeFileSync(join(dir, 'cut.dcm'), bytes.subarray(0, bytes.indexOf(Buffer.from('HEAD')) + 2))
  writeFileSync(join(dir, 'notes.txt'), 'not DICOM')
  const r = await runCli(['extract', dir, '-k', 'BodyPartExamined', '-k', 'SliceLocation'])
  t.equal(r.code, 65)
  t.same(parseCsv(r.stdout), [
    ['BodyPartExamined', 'SliceLocation'],
    ['HEAD', '60'],
  ])
  t.match(r.stderr, `etl: failed: ${join(dir, 'cut.dcm')}: file ends inside element (0018,0015)`)
  t.match(r.stderr, /1 ignored \(not DICOM\), 1 failed/)
  t.notMatch(r.stderr, /notes\.txt/, 'ignored files are only counted unless --verbose')
  const verbose = await runCli(['extract', dir, '-k', 'SliceLocation', '--verbose'])
  t.match(verbose.stderr, `ignored: ${join(dir, 'notes.txt')}: not DICOM`)
})

t.test('bad input, flags and outputs: one message, no stack trace, its own exit code', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'source:\n  paths: [x]\n  concurency: 3\nextract:\n  - CTDIVol\n', ro: {} })
  chmodSync(join(dir, 'ro'), 0o555)
  const cases: [string, string[], number, RegExp][] = [
    [
      'a keyword typo',
      ['extract', 'samples', '-k', 'CTDIVol'],
      64,
      /unknown keyword "CTDIVol" \(did you mean "CTDIvol"\?\)/,
    ],
    ['no -k', ['extract', 'samples'], 64, /name at least one column with -k/],
    ['an unknown flag', ['extract', 'samples', '-k', 'Modality', '--frobnicate'], 64, /Unknown argument: frobnicate/],
    [
      'a sort column not extracted',
      ['extract', 'samples', '-k', 'Modality', '--sort', 'Rows'],
      64,
      /"Rows" is not an extracted column/,
    ],
    [
      'bad concurrency',
      ['extract', 'samples', '-k', 'Modality', '-j', '0'],
      64,
      /--concurrency must be an integer from 1 to 1024, got 0/,
    ],
    ['no command', [], 64, /name a command/],
    [
      'a missing input',
      ['extract', '/no/such/folder', '-k', 'Modality'],
      66,
      /input \/no\/such\/folder: no such file or directory/,
    ],
    ['a missing pipeline file', ['run', '/no/such.yaml'], 66, /\/no\/such\.yaml: no such file or directory/],
    [
      'an invalid pipeline',
      ['run', join(dir, 'bad.yaml')],
      78,
      /bad\.yaml:3:3 unknown key "concurency".*\n.*bad\.yaml:5:5 unknown keyword "CTDIVol"/,
    ],
    [
      'an unwritable output',
      ['extract', 'samples', '-k', 'Modality', '-o', join(dir, 'no', 'out.csv')],
      74,
      /cannot write .*no\/out\.csv: no such file or directory/,
    ],
  ]
  if (process.getuid?.() !== 0) {
    cases.push([
      'a read-only output folder',
      ['extract', 'samples', '-k', 'Modality', '-o', join(dir, 'ro', 'out.csv')],
      74,
      /cannot write .*permission denied/,
    ])
  }
  for (const [name, args, code, message] of cases) {
    const r = await runCli(args)
    t.equal(r.code, code, `${name}: exit ${code}`)
    t.match(r.stderr, message, `${name}: message`)
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`)
    t.equal(r.stdout, '', `${name}: nothing on stdout`)
  }
})

t.test("review finding: --errors - is a usage error, not a file named '-'", async (t) => {
  // Before: both commands wrote the errors CSV to a file literally named `-` in the cwd.
  const dir = t.testdir({ 'p.yaml': `source:\n  paths: [${join(ROOT, SAMPLE)}]\nextract: [PatientID]\n` })
  for (const args of [
    ['extract', join(ROOT, SAMPLE), '-k', 'PatientID', '--errors', '-'],
    ['run', 'p.yaml', '--errors', '-'],
  ]) {
    const r = await runCli([...args, '--threads', '0'], { cwd: dir })
    t.equal(r.code, 64, `${args[0]}: exit 64`)
    t.equal(r.stdout, '', `${args[0]}: nothing on stdout`)
    t.equal(r.stderr, "etl: --errors names a file; '-' (stdout) is for the CSV\netl: run 'etl --help' for usage\n")
    t.same(readdirSync(dir), ['p.yaml'], `${args[0]}: no file named '-'`)
  }
})

t.test('etl validate: ok, or every problem at file:line:col', async (t) => {
  const ok = await runCli(['validate', 'pipelines/dose.yaml'])
  t.equal(ok.code, 0)
  t.match(
    ok.stderr,
    /pipelines\/dose\.yaml: ok: 13 columns, rows where Modality = CT and not ImageType contains LOCALIZER \(1 more read for it\), one row per PatientID, .*SeriesInstanceUID with dose, to stdout/,
  )
})

t.test('a closed stdout (etl ... | head) ends the run quietly', async (t) => {
  const child = spawn(process.execPath, [CLI, 'extract', 'samples', '-k', 'path', '-j', '1'], { cwd: ROOT })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.equal(code, 0)
  t.notMatch(stderr, /EPIPE|Error|at /)
})

t.test('--help teaches: commands, examples, exit codes', async (t) => {
  const top = await runCli(['--help'])
  t.equal(top.code, 0)
  t.match(top.stdout, /etl run <pipeline>/)
  t.match(top.stdout, /65\s+some DICOM files could not be read/)
  const extract = await runCli(['extract', '--help'])
  t.match(extract.stdout, /-k, --keyword/)
  t.match(extract.stdout, /Examples:/)
  const version = await runCli(['--version'])
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
})

t.test(
  'the progress line: on a terminal, off in a pipe or with --quiet',
  { skip: !existsSync('/usr/bin/script') && 'no script(1)' },
  async (t) => {
    // script(1) runs the command on a pseudo-terminal, as a user at a shell would.
    const onTerminal = (args: string) =>
      execFileSync('script', ['-qec', `${process.execPath} ${CLI} ${args}`, '/dev/null'], {
        cwd: ROOT,
        encoding: 'utf8',
      })
    const shown = onTerminal('extract samples -k path -o /dev/null')
    t.match(shown, /\retl: \d+ of \d+[^\r]*files\/s[^\r]*\x1b\[K/, 'a progress line on a terminal')
    t.match(
      shown,
      `\r\x1b[Ketl: ${SAMPLE_FILES.length} files listed, ${DICOM_FILES.length} rows written, ${NOT_DICOM.length} ignored`,
      'erased before the summary',
    )
    const forced = await runCli(['extract', 'samples', '-k', 'path', '-o', '/dev/null', '--progress'])
    t.match(forced.stderr, /\retl: \d+ of/, '--progress forces it into a pipe')
    const piped = await runCli(['extract', 'samples', '-k', 'path', '-o', '/dev/null'])
    t.notMatch(piped.stderr, /\r/, 'no carriage returns when stderr is not a terminal')
    t.notMatch(onTerminal('extract samples -k path -o /dev/null -q'), /etl:/, '--quiet: nothing at all')
  },
)

t.test('format flags change cells, not rows', async (t) => {
  const r = await runCli([
    'extract',
    'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm',
    '-k',
    'StudyDate',
    '-k',
    'StudyTime',
    '-k',
    'ImageType',
    '-k',
    'PixelData',
    '--dates',
    'iso',
    '--separator',
    '|',
    '--binary',
    'length',
  ])
  t.equal(r.code, 0, r.stderr)
  t.same(parseCsv(r.stdout)[1], ['2024-03-12', '09:30:15', 'ORIGINAL|PRIMARY|AXIAL', '512'])
  const bad = await runCli(['extract', 'samples', '-k', 'StudyDate', '--dates', 'us'])
  t.equal(bad.code, 64)
  t.match(bad.stderr, /Invalid values:[\s\S]*dates/)
})
