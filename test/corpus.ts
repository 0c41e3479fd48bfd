// Every file of ../shared/corpus (the developers' corpus; skipped where it is absent, as in a
// user's own clone) is read without a crash, with its outcome asserted, and its values compared
// with oracle.jsonl (pydicom 2.3.1). Known disagreements live in fixtures/corpus-expectations.json
// with their reasons; any other difference, or a fixed one, fails the test.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { lookupKeyword } from '../src/dicom/keywords.js'
import { readHeader } from '../src/dicom/read-header.js'
import { planRead } from '../src/dicom/read-plan.js'
import { parseColumn } from '../src/pipeline/columns.js'
import type { ColumnSpec } from '../src/pipeline/spec.js'
import { projectRow } from '../src/transforms/project-keywords.js'
import { toSkip } from '../src/records.js'
import { ROOT } from './fixtures/cli.js'
import { sameValue, type Disagreement, type OracleLine } from './fixtures/same-value.js'

const CORPUS = join(ROOT, '..', 'shared', 'corpus')
const present = existsSync(join(CORPUS, 'oracle.jsonl'))

const expectations = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/corpus-expectations.json'), 'utf8')) as {
  outcomes: Record<string, [string, string]>
  disagreements: Disagreement[]
}

t.test('the corpus against the oracle', { skip: present ? false : 'no ../shared/corpus here' }, async (t) => {
  const oracle = readFileSync(join(CORPUS, 'oracle.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as OracleLine)
  const keywords = Object.keys(oracle[0].values)
  const columns: ColumnSpec[] = keywords.map((k) => {
    const parsed = parseColumn(k)
    if (!parsed.ok) throw new Error(parsed.message)
    return parsed.column
  })
  const plan = planRead(keywords.map((k) => lookupKeyword(k)!.tag))
  const found: Disagreement[] = []
  let compared = 0
  let agreed = 0
  for (const entry of oracle) {
    const expected = expectations.outcomes[entry.path] ?? ['row', '']
    let row: string[] | undefined
    let outcome: [string, string]
    try {
      const header = await readHeader(join(CORPUS, entry.path), plan)
      row = projectRow({ path: entry.path, header }, columns)
      outcome = ['row', '']
    } catch (err) {
      const skip = toSkip(entry.path, err)
      outcome = [skip.outcome, skip.code]
    }
    t.same(outcome, expected, `${entry.path}: ${expected.join(' ')}`)
    if (!row) continue
    keywords.forEach((keyword, i) => {
      const theirs = entry.values[keyword] ?? ''
      compared++
      if (sameValue(row[i], theirs)) agreed++
      else found.push({ path: entry.path, keyword, ours: row[i], oracle: theirs, reason: '' })
    })
  }
  const rate = ((100 * agreed) / compared).toFixed(2)
  t.comment(`oracle agreement: ${agreed} of ${compared} values (${rate}%); ${found.length} known disagreements`)
  t.same(
    found.map(({ path, keyword, ours, oracle }) => ({ path, keyword, ours, oracle })),
    expectations.disagreements.map(({ path, keyword, ours, oracle }) => ({ path, keyword, ours, oracle })),
    'the disagreements are exactly the known ones',
  )
  for (const d of expectations.disagreements) t.ok(d.reason.length > 20, `${d.path} ${d.keyword}: a reason is given`)
})

t.test(
  'header-only reads: a cut after the wanted tags is a row, a cut before them a failure',
  { skip: present ? false : 'no ../shared/corpus here' },
  async (t) => {
    const file = join(CORPUS, 'pydicom/rtplan_truncated.dcm')
    const early = await readHeader(file, planRead([lookupKeyword('PatientID')!.tag]))
    t.ok(early.elements.has(lookupKeyword('PatientID')!.tag), 'the patient module comes before the cut')
    await t.rejects(readHeader(file, planRead([lookupKeyword('PatientSetupSequence')!.tag])), { code: 'E_TRUNCATED' })
    const mr = await readHeader(join(CORPUS, 'pydicom/MR_truncated.dcm'), planRead([lookupKeyword('Rows')!.tag]))
    t.ok(mr.elements.has(lookupKeyword('Rows')!.tag), 'pixel data cut short does not matter to a header read')
  },
)
