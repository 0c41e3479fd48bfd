// Issue 11: the README's library example compiles with `tsc --strict` against the built
// package (imported by its name, 'dicom-etl') and runs, printing what it says it prints.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, parseCsv } from './fixtures/cli.js'
import { DICOM_FILES, isLocalizer, sampleSeries } from './fixtures/samples.js'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const example = /<!-- library-example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1]

t.test('the README has the library example', async (t) => {
  t.ok(example, 'a ts block after <!-- library-example -->')
})

t.test('it compiles with tsc --strict and runs', { skip: example ? false : 'no example' }, async (t) => {
  // 'dicom-etl' is this clone, as a project that installed it would have it in node_modules.
  const dir = t.testdir({ 'example.ts': example ?? '', node_modules: {} })
  symlinkSync(ROOT, join(dir, 'node_modules/dicom-etl'))
  const tsc = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '--ignoreConfig',
      '--strict',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--types',
      'node',
      '--rootDir',
      dir,
      '--outDir',
      join(dir, 'out'),
      join(dir, 'example.ts'),
    ],
    { encoding: 'utf8' },
  )
  t.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`)
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}')
  const run = spawnSync(process.execPath, [join(dir, 'out/example.js')], { cwd: ROOT, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  // dose.yaml's where: keeps the CT images that are not localizers: a row per series of them.
  const series = sampleSeries().filter((s) => !isLocalizer(s))
  const [dose, rest] = run.stdout.split(new RegExp(`^(?=${series.length} rows written)`, 'm'))
  const [header, ...rows] = parseCsv(dose)
  t.match(header, ['PatientID', 'StudyDate'], 'the dose CSV of pipelines/dose.yaml')
  t.same(
    rows.map((row) => row[header.indexOf('SeriesNumber')]),
    series.map((s) => String(s.seriesNumber)),
    'a row per series of axial images',
  )
  t.match(
    rest,
    new RegExp(`^${series.length} rows written from ${DICOM_FILES.length} headers, 0 failed\\n`),
    'the summary counts as the CLI says them: every header read, the dose report too',
  )
  const slices = parseCsv(rest.split('\n').slice(1).join('\n'))
  t.same(slices[0], ['SeriesNumber', 'SliceLocation', 'CTDIvol'])
  const head = sampleSeries().find((s) => s.bodyPart === 'HEAD')!
  t.equal(slices.length, 1 + head.slices.length, 'then the slices of the head series')
  const positions = slices.slice(1).map((r) => Number(r[1]))
  t.same(
    positions,
    [...positions].sort((a, b) => a - b),
    'sorted by slice position',
  )
})
