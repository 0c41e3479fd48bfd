/**
 * A filter resolved against a pipeline's columns: output names, extract expressions, hidden
 * columns; values checked against the columns' types, problems at offsets in the text.
 */
import t from 'tap'
import { parseColumn } from '../../src/pipeline/columns.js'
import type { ColumnSpec } from '../../src/pipeline/spec.js'
import { whereColumns } from '../../src/pipeline/where.js'
import { resolveWhere } from '../../src/pipeline/where-columns.js'

const column = (text: string, as?: string): ColumnSpec => {
  const parsed = parseColumn(text, as)
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.column
}

const columns = [column('PatientID'), column('CTDIvol', 'CTDIvol_mGy'), column('StudyDate'), column('ImageType')]

/** Each column of the filter as `text -> index (list)`, and the hidden columns' names. */
function resolved(text: string, options = {}) {
  const result = resolveWhere(text, columns, options)
  if (!result.filter) return { problems: result.problems }
  return {
    columns: whereColumns(result.filter.expr).map((c) => `${c.text} -> ${c.index}${c.list ? ' (list)' : ''}`),
    hidden: result.filter.hidden.map((c) => c.name),
  }
}

t.test('columns: output names, what the extracted columns read, else hidden', async (t) => {
  const cases: [string, ReturnType<typeof resolved>][] = [
    ['PatientID = 1', { columns: ['PatientID -> 0'], hidden: [] }],
    ['CTDIvol_mGy > 5', { columns: ['CTDIvol_mGy -> 1'], hidden: [] }],
    // The keyword of a renamed column reads the same attribute: no second read.
    ['CTDIvol > 5', { columns: ['CTDIvol -> 1'], hidden: [] }],
    ['0018,9345 > 5', { columns: ['0018,9345 -> 1'], hidden: [] }],
    ['ImageType contains LOCALIZER', { columns: ['ImageType -> 3 (list)'], hidden: [] }],
    ['Modality = CT', { columns: ['Modality -> 4'], hidden: ['Modality'] }],
    [
      'Modality = CT and (0008,0060) != MR and SeriesDescription ~ /x/',
      {
        columns: ['Modality -> 4', '(0008,0060) -> 4', 'SeriesDescription -> 5'],
        hidden: ['Modality', 'SeriesDescription'],
      },
    ],
    [
      'ExposureDoseSequence[*].CTDIvol contains 5',
      { columns: ['ExposureDoseSequence[*].CTDIvol -> 4 (list)'], hidden: ['ExposureDoseSequence[*].CTDIvol'] },
    ],
    ['sr:113811/113813 > 100', { columns: ['sr:113811/113813 -> 4'], hidden: ['sr:113811/113813'] }],
    ['path ~ /ser1/', { columns: ['path -> 4'], hidden: ['path'] }],
  ]
  for (const [text, expected] of cases) t.strictSame(resolved(text), expected, text)
})

t.test('a hidden column keeps what extract makes of it', async (t) => {
  const result = resolveWhere('ExposureDoseSequence[0].CTDIvol > 1', columns)
  t.strictSame(result.filter?.hidden, [{ ...column('ExposureDoseSequence[0].CTDIvol') }])
})

t.test('problems: unknown columns with a suggestion, values of the wrong type', async (t) => {
  const cases: [string, { at: number; message: string }[]][] = [
    ['Modalty = CT', [{ at: 0, message: 'unknown keyword "Modalty" (did you mean "Modality"?)' }]],
    ['ctdivol_mgy > 5', [{ at: 0, message: 'unknown column "ctdivol_mgy" (did you mean "CTDIvol_mGy"?)' }]],
    ['CTDIvol_mGy > high', [{ at: 14, message: 'CTDIvol_mGy is a number, got "high"' }]],
    ["CTDIvol in [1, 'x', 3]", [{ at: 15, message: "CTDIvol is a number, got 'x'" }]],
    ['CTDIvol contains 5', [{ at: 17, message: 'CTDIvol is a number, not a list or text: compare it with =' }]],
    ['SliceLocation = -5.5e1', []],
    [
      'StudyDate >= yesterday',
      [{ at: 13, message: 'StudyDate is a date (DA), got "yesterday": write it 20260101 or 2026-01-01' }],
    ],
    [
      'StudyDate >= 2026-13',
      [{ at: 13, message: 'StudyDate is a date (DA), got "2026-13": write it 20260101 or 2026-01-01' }],
    ],
    ['StudyTime < 25h', [{ at: 12, message: 'StudyTime is a time (TM), got "25h": write it 093000 or 09:30:00' }]],
    [
      'AcquisitionDateTime > noon',
      [
        {
          at: 22,
          message:
            'AcquisitionDateTime is a date and time (DT), got "noon": write it 20260101093000 or 2026-01-01T09:30:00',
        },
      ],
    ],
    ['StudyDate >= 20260101 and StudyDate < 2026-02-01 and StudyTime >= 09:30', []],
    [
      'SeriesDescription > 5',
      [
        {
          at: 20,
          message:
            "SeriesDescription is text, which > compares as text (IM2 < IM10): quote the value ('5') if that is meant",
        },
      ],
    ],
    ["SeriesDescription > '5'", []],
    // Equality with text holding digits is text equality: nothing to flag.
    ['AccessionNumber = 00123', []],
    // sr: values are typed per file: checked only where the concept is a number for sure (a dose).
    ['sr:113819[0]/113820 > abc', []],
    ['sr:113811/113813 > abc', [{ at: 19, message: 'sr:113811/113813 is a number, got "abc"' }]],
    [
      'Modalty = CT or CTDIvol > x',
      [
        { at: 0, message: 'unknown keyword "Modalty" (did you mean "Modality"?)' },
        { at: 26, message: 'CTDIvol is a number, got "x"' },
      ],
    ],
    [
      'Modality = CT MR',
      [{ at: 14, message: 'expected "and", "or" or the end, got "MR" (quote a value that holds spaces)' }],
    ],
  ]
  for (const [text, expected] of cases) {
    const result = resolveWhere(text, columns)
    t.strictSame(result.problems, expected, text)
  }
})

t.test('names of extract entries that failed are let through: their problem is reported already', async (t) => {
  t.strictSame(resolveWhere('Broken_name = 1', columns, { unresolved: new Set(['Broken_name']) }).problems, [])
  t.equal(resolveWhere('Broken_name = 1', columns).problems.length, 1)
})

t.test('and: a second filter joins the first, sharing its hidden columns', async (t) => {
  const first = resolveWhere('Modality = CT', columns).filter
  t.ok(first)
  const both = resolveWhere('Modality != MR and BodyPartExamined = HEAD', columns, { and: first })
  t.equal(both.filter?.text, '(Modality = CT) and (Modality != MR and BodyPartExamined = HEAD)')
  t.strictSame(
    both.filter?.hidden.map((c) => c.name),
    ['Modality', 'BodyPartExamined'],
  )
  t.strictSame(both.filter && whereColumns(both.filter.expr).map((c) => c.index), [4, 4, 5])
  t.strictSame(
    first?.hidden.map((c) => c.name),
    ['Modality'],
    'the first filter is left as it was',
  )
})
