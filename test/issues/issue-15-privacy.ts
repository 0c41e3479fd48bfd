// Issue 15, "research exports without identities": keyed pseudonymisation that still joins.
// The real CLI over the samples and, where present, ../shared/corpus.
import t from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, parseCsv, runCli } from '../fixtures/cli.js'
import { duckdb } from '../fixtures/duckdb.js'

const SAMPLES = join(ROOT, 'samples')
const CORPUS = join(ROOT, '../shared/corpus')
const HAS_CORPUS = existsSync(join(CORPUS, 'oracle.jsonl'))
const INPUTS = HAS_CORPUS ? [SAMPLES, CORPUS] : [SAMPLES]

/** Profiled attributes (PS3.15 Table E.1-1) with the actions --pseudonymise gives them, and Modality (kept). */
const PROFILED = [
  'PatientID',
  'PatientName',
  'PatientBirthDate',
  'PatientAge',
  'AccessionNumber',
  'StudyDate',
  'SeriesDate',
  'ReferringPhysicianName',
  'InstitutionName',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SOPInstanceUID',
  'path',
]
const COLUMNS = [...PROFILED, 'Modality'].flatMap((k) => ['-k', k])

const duck = duckdb(t)

/** A value DuckDB reads as the CSV writes it: lists joined by backslashes, null empty. */
function asCsv(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) return value.map(asCsv).join('\\')
  return String(value)
}

function keys(dir: string): { a: string; b: string } {
  const a = join(dir, 'a.key')
  const b = join(dir, 'b.key')
  writeFileSync(a, 'a'.repeat(31) + 'key number one, 32 bytes and more\n')
  writeFileSync(b, 'b'.repeat(31) + 'key number two, 32 bytes and more\n')
  return { a, b }
}

const extract = (inputs: string[], key?: string, more: string[] = []) =>
  runCli([
    'extract',
    ...inputs,
    ...COLUMNS,
    '--threads',
    '0',
    '--max-failures',
    '100%',
    ...(key ? ['--pseudonymise', '--key-file', key] : []),
    ...more,
  ])

t.test('same input and key: byte-identical output; another key: every pseudonym different', async (t) => {
  const dir = t.testdir({})
  const { a, b } = keys(dir)
  const [one, two, other] = await Promise.all([extract(INPUTS, a), extract(INPUTS, a), extract(INPUTS, b)])
  t.equal(one.code, 0, one.stderr)
  t.equal(one.stdout, two.stdout, 'same key, same bytes')
  const rowsA = parseCsv(one.stdout)
  const rowsB = parseCsv(other.stdout)
  t.equal(rowsA.length, rowsB.length)
  t.match(rowsA[1][0], /^PID-[A-Z2-7]{16}$/, 'PatientID: a prefixed base32 token')
  t.match(rowsA[1][PROFILED.indexOf('StudyInstanceUID')], /^2\.25\.\d{1,39}$/, 'UIDs: 2.25.<decimal>')
  const keyed = ['PatientID', 'PatientName', 'AccessionNumber', 'StudyInstanceUID', 'SeriesInstanceUID', 'path']
  for (const name of keyed) {
    const i = PROFILED.indexOf(name)
    const fromA = new Set(rowsA.slice(1).map((r) => r[i]))
    const shared = rowsB.slice(1).filter((r) => r[i] !== '' && fromA.has(r[i]))
    t.same(shared, [], `${name}: no pseudonym of one key is one of the other's`)
  }
  t.equal(rowsA[0].join(','), [...PROFILED, 'Modality'].join(','), 'the header is as extracted')
  t.ok(
    rowsA.slice(1).every((r, i) => r[PROFILED.length] === rowsB[i + 1][PROFILED.length]),
    'Modality (not profiled) is kept',
  )
})

t.test(
  'joins on pseudonymised PatientID and StudyInstanceUID across runs give the pairs the originals give',
  async (t) => {
    const dir = t.testdir({})
    const { a } = keys(dir)
    const first = HAS_CORPUS ? [join(SAMPLES, 'PAT001/STUDY_20240312/SER001_LOCALIZER'), CORPUS] : [SAMPLES]
    const second = HAS_CORPUS
      ? [SAMPLES, join(CORPUS, 'dicomdir')]
      : [join(SAMPLES, 'PAT001/STUDY_20240312/SER003_CHEST')]
    const runs = await Promise.all([extract(first), extract(second), extract(first, a), extract(second, a)])
    for (const r of runs) t.equal(r.code === 0 || r.code === 65, true, r.stderr)
    const [plain1, plain2, keyed1, keyed2] = runs.map((r) => parseCsv(r.stdout).slice(1))
    const pid = PROFILED.indexOf('PatientID')
    const study = PROFILED.indexOf('StudyInstanceUID')
    const pairs = (left: string[][], right: string[][]) => {
      const out: string[] = []
      const index = new Map<string, number[]>()
      right.forEach((r, j) => {
        if (r[study] === '') return
        const k = `${r[pid]}|${r[study]}`
        index.set(k, [...(index.get(k) ?? []), j])
      })
      left.forEach((l, i) => {
        for (const j of index.get(`${l[pid]}|${l[study]}`) ?? []) out.push(`${i}-${j}`)
      })
      return out
    }
    const original = pairs(plain1, plain2)
    t.ok(original.length > 0, `the subsets share studies (${original.length} pairs)`)
    t.same(pairs(keyed1, keyed2), original)
  },
)

t.test('date shifts keep every interval within a patient, and move each patient by 1 to 180 days', async (t) => {
  const dir = t.testdir({})
  const { a } = keys(dir)
  const [plain, keyed] = (await Promise.all([extract(INPUTS), extract(INPUTS, a)])).map((r) =>
    parseCsv(r.stdout).slice(1),
  )
  const day = (text: string) => Date.UTC(+text.slice(0, 4), +text.slice(4, 6) - 1, +text.slice(6, 8)) / 86400000
  const shifts = new Map<string, Set<number>>()
  let dates = 0
  for (const [i, row] of plain.entries()) {
    for (const name of ['StudyDate', 'SeriesDate', 'PatientBirthDate']) {
      const c = PROFILED.indexOf(name)
      if (!/^\d{8}$/.test(row[c]) || !/^\d{8}$/.test(keyed[i][c])) continue
      const patient = keyed[i][PROFILED.indexOf('PatientID')]
      const set = shifts.get(patient) ?? new Set()
      set.add(day(keyed[i][c]) - day(row[c]))
      shifts.set(patient, set)
      dates++
    }
  }
  t.ok(dates > 0, `${dates} dates compared`)
  for (const [patient, set] of shifts) {
    t.equal(set.size, 1, `${patient}: one shift for all the patient's dates`)
    const [shift] = set
    t.ok(shift !== 0 && Math.abs(shift) <= 180, `${patient}: shift ${shift} days`)
  }
})

/**
 * The original values of the profiled columns over INPUTS (a run without privacy, its errors
 * file's paths, the corpus oracle's values), 6 characters and more: shorter ones (`CT`, `HEAD`,
 * a 3-digit ID) would match by chance inside tokens.
 */
async function originalValues(dir: string): Promise<string[]> {
  const plain = await runCli([
    'extract',
    ...INPUTS,
    ...COLUMNS,
    '--threads',
    '0',
    '--max-failures',
    '100%',
    '--errors',
    join(dir, 'plain-errors.csv'),
  ])
  const originals = new Set<string>()
  const rows = parseCsv(plain.stdout)
  for (const row of rows.slice(1)) {
    for (const [i, name] of PROFILED.entries()) {
      const cell = row[i]
      if (name === 'path') for (const part of cell.split('/')) originals.add(part)
      else if (name !== 'PatientAge') for (const value of cell.split('\\')) originals.add(value)
    }
  }
  for (const [path] of parseCsv(readFileSync(join(dir, 'plain-errors.csv'), 'utf8')).slice(1)) {
    for (const part of path.split('/')) originals.add(part)
  }
  if (HAS_CORPUS) {
    for (const line of readFileSync(join(CORPUS, 'oracle.jsonl'), 'utf8').split('\n')) {
      if (!line) continue
      const { values } = JSON.parse(line) as { values?: Record<string, string> }
      for (const name of PROFILED) if (values?.[name]) originals.add(values[name])
    }
  }
  return [...originals].filter((v) => v.length >= 6)
}

t.test('leak test: no original of a profiled attribute in the output, errors file, log or state', async (t) => {
  const dir = t.testdir({})
  const { a } = keys(dir)
  const searched = await originalValues(dir)
  t.ok(searched.length > 100, `${searched.length} original values searched for`)

  const out = join(dir, 'out.csv')
  const errors = join(dir, 'errors.csv')
  const state = join(dir, 'state')
  const args = ['-o', out, '--errors', errors, '--state', state, '-v']
  const first = await extract(INPUTS, a, args)
  t.ok(first.code === 0 || first.code === 65, first.stderr)
  const firstOut = readFileSync(out)
  // Incremental: rows of unchanged files come from the state, keyed as they were.
  const second = await extract(INPUTS, a, args)
  t.match(second.stderr, /unchanged, not read/)
  t.equal(readFileSync(out).toString(), firstOut.toString(), 'the incremental run writes the same bytes')
  const json = await extract(INPUTS, a, ['--log-format', 'json', '-v', '--format', 'jsonl'])
  const places: [string, Buffer][] = [
    ['output', firstOut],
    ['errors file', readFileSync(errors)],
    ['state file', readFileSync(state)],
    ['log', Buffer.from(first.stderr + second.stderr + json.stderr)],
    ['JSON Lines', Buffer.from(json.stdout)],
  ]
  t.ok(readFileSync(errors, 'utf8').split('\n').length > 2, 'the errors file has rows')
  for (const [place, bytes] of places) {
    const found = searched.filter((value) => bytes.includes(value))
    t.same(found, [], `${place}: no original value`)
  }
})

t.test('Parquet: the pseudonyms of the CSV with the same key; no original in its values or bytes', async (t) => {
  const dir = t.testdir({})
  const { a } = keys(dir)
  const parquet = join(dir, 'out.parquet')
  const [searched, csv, written] = await Promise.all([
    originalValues(dir),
    extract(INPUTS, a),
    extract(INPUTS, a, ['-o', parquet]),
  ])
  t.ok(csv.code === 0 || csv.code === 65, csv.stderr)
  t.equal(written.code, csv.code, written.stderr)
  const [header, ...rows] = parseCsv(csv.stdout)
  const read = await duck().runAndReadAll(`SELECT * FROM read_parquet('${parquet}')`)
  t.same(read.columnNames(), header, 'the same columns')
  const cells = read.getRowsJS().map((row) => row.map(asCsv))
  t.ok(cells.length > 0, `${cells.length} rows`)
  t.same(cells, rows, "DuckDB reads the CSV run's pseudonyms, UIDs, shifted dates, bands and keyed paths")
  t.match(cells[0][0], /^PID-[A-Z2-7]{16}$/)
  const values = cells.flat()
  t.same(
    searched.filter((v) => values.some((cell) => cell.includes(v))),
    [],
    'no original in the values DuckDB reads',
  )
  // The bytes: data pages (Snappy keeps literals as they are), dictionaries and the footer's
  // min/max statistics, which hold values uncompressed.
  const bytes = readFileSync(parquet)
  t.same(
    searched.filter((v) => bytes.includes(v)),
    [],
    "no original in the Parquet file's bytes",
  )
})

t.test('a key that is missing or too short: one line, exit 78', async (t) => {
  const dir = t.testdir({ short: 'x'.repeat(31) })
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      [],
      { ETL_PSEUDONYM_KEY: '' },
      /^etl: pseudonymising needs a key: --key-file FILE or the variable ETL_PSEUDONYM_KEY/,
    ],
    [['--key-file', join(dir, 'short')], {}, /^etl: the key file .*short holds 31 bytes: a key needs at least 32/],
    [[], { ETL_PSEUDONYM_KEY: 'y'.repeat(20) }, /^etl: the variable ETL_PSEUDONYM_KEY holds 20 bytes/],
    [['--key-file', join(dir, 'none')], {}, /^etl: cannot read the key file .*none: no such file/],
  ]
  for (const [args, env, message] of cases) {
    const r = await runCli(['extract', SAMPLES, '-k', 'PatientID', '--pseudonymise', ...args], { env })
    t.equal(r.code, 78, args.join(' '))
    t.equal(r.stdout, '')
    t.match(r.stderr, message)
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line')
  }
  const env = await runCli(['extract', SAMPLES, '-k', 'PatientID', '--pseudonymise', '-q'], {
    env: { ETL_PSEUDONYM_KEY: 'z'.repeat(32) },
  })
  t.equal(env.code, 0, 'a key of 32 bytes from the environment')
  t.match(env.stdout, /^PatientID\nPID-/)
})

t.test("fatal errors name inputs keyed, as the log's start event does; without privacy as typed", async (t) => {
  const dir = t.testdir({ Doe_John_PAT77: { empty: {} } })
  const { a } = keys(dir)
  const cases: [string, RegExp][] = [
    [join(dir, 'Smith_Jane_PAT9'), /^etl: input (\/[A-Z2-7]{13})+: no such file or directory\n$/],
    [join(dir, 'Doe_John_PAT77'), /^etl: no files found under (\/[A-Z2-7]{13})+\n$/],
    [
      'Nobody_PAT5/Smith*/IM*',
      /^etl: input [A-Z2-7]{13}(\/[A-Z2-7]{13}){2}: [A-Z2-7]{13} \(the folder it is matched in\): no such/,
    ],
  ]
  for (const [input, message] of cases) {
    const keyed = await runCli(['extract', input, '-k', 'PatientID', '--pseudonymise', '--key-file', a], { cwd: dir })
    t.equal(keyed.code, 66, input)
    t.match(keyed.stderr, message)
    for (const name of ['Smith_Jane', 'Doe_John', 'Nobody', 'PAT9', 'PAT77', 'PAT5'])
      t.notOk(keyed.stderr.includes(name), `no ${name}`)
    const plain = await runCli(['extract', input, '-k', 'PatientID'], { cwd: dir })
    t.equal(plain.code, 66)
    t.ok(plain.stderr.includes(input.split('/')[0] === '' ? input : 'Nobody_PAT5'), 'without privacy: as typed')
  }
  const json = await runCli([
    'extract',
    join(dir, 'Smith_Jane_PAT9'),
    '-k',
    'PatientID',
    '--pseudonymise',
    '--key-file',
    a,
    '--log-format',
    'json',
  ])
  const [start, error] = json.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { inputs?: string[]; message?: string })
  t.equal(error.message, `input ${start.inputs?.[0]}: no such file or directory`, "the start event's keyed input")
})

t.test('privacy: in a pipeline: every profiled column needs an action, at line:col, keep said', async (t) => {
  const dir = t.testdir({
    'bad.yaml': [
      `source: {paths: [${SAMPLES}]}`,
      'extract: [PatientID, StudyDate, path, CTDIvol]',
      'privacy:',
      '  columns:',
      '    StudyDate: uid',
      '    Nope: keep',
      '',
    ].join('\n'),
    'good.yaml': [
      `source: {paths: [${SAMPLES}]}`,
      'extract: [PatientID, StudyDate, PatientAge, path, CTDIvol]',
      'privacy:',
      '  columns: {PatientID: pseudonym, StudyDate: shift_date, PatientAge: keep, path: remove}',
      '  shift_days: 30',
      '',
    ].join('\n'),
  })
  const bad = await runCli(['validate', join(dir, 'bad.yaml')])
  t.equal(bad.code, 78)
  const lines = bad.stderr.split('\n')
  t.match(lines, [
    /bad\.yaml:2:11 PatientID is identifying \(PS3\.15 Table E\.1-1, basic profile: Z\): give it an action in privacy\.columns: one of pseudonym, remove, keep \(suggested: pseudonym\)/,
    /bad\.yaml:2:33 path holds folder and file names.*one of pseudonym, remove/,
    /bad\.yaml:5:16 privacy\.columns\.StudyDate: uid does not suit StudyDate: one of shift_date, year_only, remove, keep/,
    /bad\.yaml:6:11 privacy\.columns: "Nope" is not an extracted column/,
  ])
  const good = await runCli(['run', join(dir, 'good.yaml'), '-q'], { env: { ETL_PSEUDONYM_KEY: 'k'.repeat(40) } })
  t.equal(good.code, 0, good.stderr)
  const rows = parseCsv(good.stdout)
  t.same(rows[0], ['PatientID', 'StudyDate', 'PatientAge', 'path', 'CTDIvol'])
  t.match(rows[1].slice(0, 4), [/^PID-/, /^\d{8}$/, /^\d{3}Y$/, ''])
  const report = await runCli(['privacy-report', join(dir, 'good.yaml')])
  t.equal(report.code, 0, report.stderr)
  t.same(
    parseCsv(report.stdout).map((r) => r.slice(0, 4)),
    [
      ['column', 'attribute', 'profile', 'action'],
      ['PatientID', 'PatientID', 'Z', 'pseudonym'],
      ['StudyDate', 'StudyDate', 'Z', 'shift_date'],
      ['PatientAge', 'PatientAge', 'X', 'keep'],
      ['path', 'path', 'path', 'remove'],
      ['CTDIvol', 'CTDIvol', '', 'keep'],
    ],
  )
  t.match(report.stdout, /1 to 30, earlier or later/)
})
