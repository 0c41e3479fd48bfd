// Differential test against pydicom itself (issue 4, "DICOM fidelity"): the Debian package
// python3-pydicom installs pydicom's own test files; pydicom reads them through
// ../shared/tools/oracle.py, etl through readHeader + projectRow, and every top-level attribute
// that has a text form in both (fixtures/differential-keywords.py lists them) is compared value by
// value, number formats normalised as in test/corpus.ts. Every file's outcome (row, ignored,
// failed and the code) is asserted; the known disagreements, each with its reason, live in
// fixtures/differential-expectations.json, and any other difference, or a fixed one, fails.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readHeader } from '../src/dicom/read-header.js'
import { parseColumn } from '../src/pipeline/columns.js'
import type { ColumnSpec } from '../src/pipeline/spec.js'
import { columnPlan, projectRow } from '../src/transforms/project-keywords.js'
import { toSkip } from '../src/records.js'
import { ROOT } from './fixtures/cli.js'
import { sameValue, type Disagreement, type OracleLine } from './fixtures/same-value.js'

const PYTHON = '/usr/bin/python3'
const ORACLE = join(ROOT, '..', 'shared', 'tools', 'oracle.py')
const DATA = '/usr/lib/python3/dist-packages/pydicom/data'
const FOLDERS = ['test_files', 'charset_files']
const KEYWORDS_SCRIPT = join(ROOT, 'test/fixtures/differential-keywords.py')

/** oracle.py's default keywords: compared in every file, present or not. */
const DEFAULT_KEYWORDS = [
  'SOPClassUID SOPInstanceUID Modality PatientName PatientID StudyDate StudyTime SeriesInstanceUID',
  'SeriesNumber InstanceNumber SliceLocation SliceThickness ImagePositionPatient PixelSpacing ImageType CTDIvol',
  'KVP XRayTubeCurrent ExposureTime ConvolutionKernel Manufacturer SpecificCharacterSet Rows Columns BitsAllocated',
  'NumberOfFrames TransferSyntaxUID',
]
  .join(' ')
  .split(' ')

/**
 * Every top-level attribute pydicom finds in the files with a text form in both tools
 * (fixtures/differential-keywords.py: no sequences, no binary VRs), and the defaults.
 */
function keywords(): string[] {
  const found = spawnSync(PYTHON, [KEYWORDS_SCRIPT, ...FOLDERS.map((f) => join(DATA, f))], { encoding: 'utf8' })
  if (found.status !== 0) throw new Error(`differential-keywords.py exited ${found.status}: ${found.stderr}`)
  return [...new Set([...DEFAULT_KEYWORDS, ...found.stdout.trim().split(',')])]
}

const expectations = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/differential-expectations.json'), 'utf8')) as {
  outcomes: Record<string, [string, string]>
  outcomeReasons: Record<string, string>
  disagreements: Disagreement[]
}

/** Why the test cannot run here, or false. */
function skipReason(): string | false {
  if (!existsSync(PYTHON)) return `no ${PYTHON}`
  const probe = spawnSync(PYTHON, ['-c', 'import pydicom'], { encoding: 'utf8' })
  if (probe.status !== 0) return `${PYTHON} cannot import pydicom (apt-get install python3-pydicom)`
  if (!existsSync(ORACLE)) return `no ${ORACLE} (../shared is absent)`
  const missing = FOLDERS.filter((f) => !existsSync(join(DATA, f)))
  if (missing.length > 0) return `no ${missing.map((f) => join(DATA, f)).join(', ')}`
  return false
}

/** pydicom's reading of one folder: oracle.py's JSON lines, paths prefixed with the folder's name. */
function oracle(folder: string, keywords: string[]): Promise<OracleLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [ORACLE, join(DATA, folder), '-k', keywords.join(',')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`oracle.py ${folder} exited ${code}: ${stderr}`))
      resolve(
        stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as OracleLine)
          .map((entry) => ({ ...entry, path: `${folder}/${entry.path}` })),
      )
    })
  })
}

/** pydicom prints an AT value as "(3004, 000c)", etl as "(3004,000C)". */
const sameTags = (ours: string, theirs: string) =>
  ours !== '' &&
  ours ===
    theirs.replace(/\(([0-9a-fA-F]{4}), ([0-9a-fA-F]{4})\)/g, (_, g: string, e: string) => `(${g},${e})`.toUpperCase())

t.test('pydicom test files: etl against pydicom', { skip: skipReason() }, async (t) => {
  const version = spawnSync(PYTHON, ['-c', 'import pydicom; print(pydicom.__version__)'], { encoding: 'utf8' })
  const wanted = keywords()
  const lines = (await Promise.all(FOLDERS.map((folder) => oracle(folder, wanted)))).flat()
  const parsed = wanted.map((k) => ({ k, parsed: parseColumn(k) }))
  t.same(
    parsed.filter((p) => !p.parsed.ok).map((p) => p.k),
    [],
    'every keyword pydicom knows is in our dictionary',
  )
  const KEYWORDS = parsed.filter((p) => p.parsed.ok).map((p) => p.k)
  const columns: ColumnSpec[] = parsed.flatMap((p) => (p.parsed.ok ? [p.parsed.column] : []))
  const plan = columnPlan(columns)
  const found: Disagreement[] = []
  let compared = 0
  let agreed = 0
  let present = 0
  let presentAgreed = 0
  const outcomes: Record<string, [string, string]> = {}
  for (const entry of lines) {
    let row: string[] | undefined
    try {
      const header = await readHeader(join(DATA, entry.path), plan)
      row = projectRow({ path: entry.path, header }, columns)
    } catch (err) {
      const skip = toSkip(entry.path, err)
      outcomes[entry.path] = [skip.outcome, skip.code]
    }
    if (!row) continue
    KEYWORDS.forEach((keyword, i) => {
      const theirs = entry.values[keyword] ?? ''
      const same = sameValue(row[i], theirs) || sameTags(row[i], theirs)
      compared++
      if (same) agreed++
      if (row[i] !== '' || theirs !== '') {
        present++
        if (same) presentAgreed++
      }
      if (!same) found.push({ path: entry.path, keyword, ours: row[i], oracle: theirs, reason: '' })
    })
  }
  const pct = (a: number, b: number) => ((100 * a) / b).toFixed(2)
  t.comment(
    `pydicom ${version.stdout.trim()}: ${lines.length} files, ${lines.length - Object.keys(outcomes).length} rows, ` +
      `${KEYWORDS.length} keywords`,
  )
  t.comment(
    `agreement: ${agreed} of ${compared} values (${pct(agreed, compared)}%); ${presentAgreed} of ${present} ` +
      `values present in either (${pct(presentAgreed, present)}%); ${found.length} known disagreements`,
  )
  t.same(outcomes, expectations.outcomes, 'the files that are not rows: ignored or failed, by code')
  for (const path of Object.keys(expectations.outcomes)) {
    t.ok((expectations.outcomeReasons[path] ?? '').length > 20, `${path}: the outcome is explained`)
  }
  t.same(
    found.map(({ path, keyword, ours, oracle }) => ({ path, keyword, ours, oracle })),
    expectations.disagreements.map(({ path, keyword, ours, oracle }) => ({ path, keyword, ours, oracle })),
    'the disagreements are exactly the known ones',
  )
  for (const d of expectations.disagreements) t.ok(d.reason.length > 20, `${d.path} ${d.keyword}: a reason is given`)
})
