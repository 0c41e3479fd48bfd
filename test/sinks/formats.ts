// The output formats through the real CLI: JSON Lines and Parquet (read back by DuckDB, an
// independent reader) hold the same table as the CSV of the same run, on the samples and on
// ../shared/corpus (the developers' corpus; skipped where it is absent), with typed values.
import t, { type Test } from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { duckdb } from '../fixtures/duckdb.js'
import { ROOT, parseCsv, runCli, runCommand } from '../fixtures/cli.js'

const CORPUS = join(ROOT, '..', 'shared', 'corpus')
const SAMPLES = join(ROOT, 'samples')

const duck = duckdb(t)

/** Columns of every kind: text, names, dates, numbers of each VR, multiple values, a sequence path, pseudo-columns. */
const COLUMNS = [
  'path',
  'size_bytes',
  'SOPClassUID',
  'Modality',
  'PatientName',
  'PatientID',
  'StudyDate',
  'StudyTime',
  'SeriesNumber',
  'InstanceNumber',
  'ImageType',
  'ImagePositionPatient',
  'PixelSpacing',
  'SliceThickness',
  'Rows',
  'Columns',
  'BitsAllocated',
  'WindowCenter',
  'RescaleSlope',
  'KVP',
  'CTDIvol',
  'SpecificCharacterSet',
  'ReferencedImageSequence[*].ReferencedSOPInstanceUID',
].flatMap((k) => ['-k', k])

/** A typed value as the CSV writes it: numbers as JS prints them, lists joined by backslashes, null empty. */
function asCsv(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) return value.map(asCsv).join('\\')
  return String(value)
}

/** The same cell, or the same number where a double cannot print the stored digits (a Decimal). */
function sameCell(csv: string, other: string): boolean {
  return csv === other || (csv !== '' && Number(csv) === Number(other))
}

async function runThree(t: Test, input: string): Promise<{ csv: string[][]; jsonl: string; parquet: string }> {
  const dir = t.testdir({})
  const out = (ext: string) => join(dir, `out.${ext}`)
  for (const ext of ['csv', 'jsonl', 'parquet']) {
    const r = await runCli(['extract', input, ...COLUMNS, '-o', out(ext), '--max-failures', '100%'])
    t.equal(r.code, 0, `${ext}: ${r.stderr.split('\n').at(-2)}`)
  }
  return { csv: parseCsv(readFileSync(out('csv'), 'utf8')), jsonl: out('jsonl'), parquet: out('parquet') }
}

for (const [name, input] of [
  ['the samples', SAMPLES],
  ['the corpus', CORPUS],
] as const) {
  const skip = existsSync(input) ? false : `no ${input} here`
  t.test(`issue 11: JSON Lines and Parquet hold the CSV's table, typed: ${name}`, { skip }, async (t) => {
    const { csv, jsonl, parquet } = await runThree(t, input)
    const [header, ...rows] = csv
    t.ok(rows.length > 0, `${rows.length} rows`)

    const objects = readFileSync(jsonl, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    t.same(Object.keys(objects[0]), header, 'JSON Lines: one key per column, in order')
    const fromJson = objects.map((o) => header.map((h) => asCsv(o[h])))
    t.same(fromJson, rows, 'JSON Lines: the same values as the CSV')
    const types = (key: string) => new Set(objects.map((o) => (Array.isArray(o[key]) ? 'array' : typeof o[key])))
    t.ok(!types('Rows').has('string'), 'numbers are numbers')
    t.ok(types('ImageType').has('array') || !types('ImageType').has('string'), 'multiple values are arrays')
    t.ok(
      objects.some((o) => Object.values(o).includes(null)),
      'an absent value is null',
    )

    const read = await duck().runAndReadAll(`SELECT * FROM read_parquet('${parquet}')`)
    t.same(read.columnNames(), header, 'Parquet: the same columns')
    const fromParquet = read.getRowsJS().map((row) => row.map(asCsv))
    let differ = 0
    fromParquet.forEach((row, r) =>
      row.forEach((cell, c) => {
        if (!sameCell(rows[r][c], cell)) {
          differ++
          t.fail(`${rows[r][0]} ${header[c]}: CSV ${rows[r][c]}, Parquet ${cell}`)
        }
      }),
    )
    t.equal(differ, 0, `Parquet: the same ${fromParquet.length} rows as the CSV`)
    const described = await duck().runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${parquet}')`)
    const typeOf = Object.fromEntries(described.getRowsJS().map((r) => [String(r[0]), String(r[1])]))
    t.same(
      [typeOf.Rows, typeOf.SliceThickness, typeOf.ImagePositionPatient, typeOf.ImageType, typeOf.PatientName],
      ['BIGINT', 'DOUBLE', 'DOUBLE[]', 'VARCHAR[]', 'VARCHAR'],
      'typed columns: US as BIGINT, DS as DOUBLE, lists of them, text',
    )
    t.equal(typeOf['ReferencedImageSequence[*].ReferencedSOPInstanceUID'], 'VARCHAR[]', 'a [*] path is a list')
  })
}

t.test('issue 11: the format from --format, from the file name, or from the YAML', async (t) => {
  const dir = t.testdir({})
  const piped = await runCli(['extract', SAMPLES, '-k', 'SeriesNumber', '-k', 'ImageType', '--format', 'jsonl'])
  t.equal(piped.code, 0, piped.stderr)
  t.same(JSON.parse(piped.stdout.split('\n')[0]), { SeriesNumber: 1, ImageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] })
  const parquet = await runCli(['extract', SAMPLES, '-k', 'SeriesNumber', '--format', 'parquet'])
  t.equal(parquet.code, 0, parquet.stderr)
  t.equal(parquet.stdout.slice(0, 4), 'PAR1', 'Parquet on a pipe')
  const yaml = join(dir, 'p.yaml')
  writeFileSync(
    yaml,
    `source: {paths: [${SAMPLES}]}\nextract: [SeriesNumber]\noutput: {path: out.data, format: jsonl}\n`,
  )
  t.equal((await runCli(['run', yaml])).code, 0)
  t.match(readFileSync(join(dir, 'out.data'), 'utf8'), /^\{"SeriesNumber":\d+\}\n/)
  const asked = await runCli(['run', yaml, '-o', join(dir, 'x.csv')])
  t.equal(asked.code, 0)
  t.match(readFileSync(join(dir, 'x.csv'), 'utf8'), /^SeriesNumber\n/, '-o x.csv: CSV, as its name says')
  writeFileSync(yaml, `source: {paths: [${SAMPLES}]}\nextract: [SeriesNumber]\noutput: {format: jsonn}\n`)
  const bad = await runCli(['validate', yaml])
  t.equal(bad.code, 78)
  t.match(bad.stderr, /p\.yaml:3:18 output\.format must be "csv" or "jsonl" or "parquet", got "jsonn"/)
})

t.test('issue 11: Parquet is never written to a terminal', async (t) => {
  // `script` (util-linux) runs the CLI with a pseudo-terminal as its stdout.
  const command = `${process.execPath} ${join(ROOT, 'dist/cli.js')} extract ${SAMPLES} -k SeriesNumber --format parquet`
  const r = await runCommand('script', ['-qec', command, '/dev/null'])
  t.equal(r.code, 64, 'a usage error')
  t.match(r.stdout, /parquet is binary, not for a terminal: write it to a file \(-o out\.parquet\) or pipe it/)
  t.notMatch(r.stdout, /PAR1/, 'no Parquet bytes on the terminal')
})
