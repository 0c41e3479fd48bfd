/**
 * The `where:` grammar: expressions -> trees (shown as S-expressions by `showWhere`), or the
 * first problem at its offset in the text.
 */
import t from 'tap'
import { parseWhere, showWhere, whereColumns, type WhereExpr } from '../../src/pipeline/where.js'

const shown = (text: string) => {
  const result = parseWhere(text)
  return result.ok ? showWhere(result.expr) : result.problem
}

t.test('expressions -> trees', async (t) => {
  const cases: [string, string][] = [
    ['Modality = CT', '(= Modality CT)'],
    ['Modality=CT', '(= Modality CT)'],
    ['CTDIvol != 5', '(!= CTDIvol 5)'],
    ['CTDIvol < 5', '(< CTDIvol 5)'],
    ['CTDIvol <= 5.5', '(<= CTDIvol 5.5)'],
    ['CTDIvol > -1e3', '(> CTDIvol -1e3)'],
    ['StudyDate >= 20260101', '(>= StudyDate 20260101)'],
    ['StudyDate >= 2026-01-01', '(>= StudyDate 2026-01-01)'],
    ["SeriesDescription = 'Thorax 3.0 B30f'", "(= SeriesDescription 'Thorax 3.0 B30f')"],
    ['SeriesDescription = "it\'s"', "(= SeriesDescription 'it's')"],
    ["SeriesDescription = 'it''s'", "(= SeriesDescription 'it's')"],
    ["ImageType = 'ORIGINAL\\PRIMARY\\AXIAL'", "(= ImageType 'ORIGINAL\\PRIMARY\\AXIAL')"],
    ['ImageType = ORIGINAL\\PRIMARY', '(= ImageType ORIGINAL\\PRIMARY)'],
    [
      'SOPClassUID in [1.2.840.10008.5.1.4.1.1.2, 1.2.840.10008.5.1.4.1.1.2.1]',
      '(in SOPClassUID [1.2.840.10008.5.1.4.1.1.2 1.2.840.10008.5.1.4.1.1.2.1])',
    ],
    ["Modality in [CT,MR, 'P T']", "(in Modality [CT MR 'P T'])"],
    ['ImageType contains LOCALIZER', '(contains ImageType LOCALIZER)'],
    ['SeriesDescription ~ /thorax/i', '(~ SeriesDescription /thorax/i)'],
    ['SeriesDescription ~ /a\\/b c/', '(~ SeriesDescription /a\\/b c/)'],
    ['CTDIvol is empty', '(empty CTDIvol)'],
    ['CTDIvol is not empty', '(not (empty CTDIvol))'],
    ['CTDIvol IS NOT EMPTY', '(not (empty CTDIvol))'],
    ['not Modality = CT', '(not (= Modality CT))'],
    ['not not Modality = CT', '(not (not (= Modality CT)))'],
    ['not(Modality = CT)', '(not (= Modality CT))'],
    ['a = 1 and b = 2 and c = 3', '(and (= a 1) (= b 2) (= c 3))'],
    ['a = 1 or b = 2 and c = 3', '(or (= a 1) (and (= b 2) (= c 3)))'],
    ['(a = 1 or b = 2) and c = 3', '(and (or (= a 1) (= b 2)) (= c 3))'],
    ['a = 1 AND b = 2 Or c = 3', '(or (and (= a 1) (= b 2)) (= c 3))'],
    ['not a = 1 and b = 2', '(and (not (= a 1)) (= b 2))'],
    ['((a = 1))', '(= a 1)'],
    // Columns: anything extract takes, with its brackets, commas and parentheses.
    ['0018,9345 > 5', '(> 0018,9345 5)'],
    ['(0018,9345) > 5', '(> (0018,9345) 5)'],
    ['((0018,9345) > 5)', '(> (0018,9345) 5)'],
    ['ExposureDoseSequence[0].CTDIvol >= 50', '(>= ExposureDoseSequence[0].CTDIvol 50)'],
    [
      'PerFrameFunctionalGroupsSequence[*].CTExposureSequence[0].CTDIvol > 1',
      '(> PerFrameFunctionalGroupsSequence[*].CTExposureSequence[0].CTDIvol 1)',
    ],
    ['ContentSequence[code=113811].X = 1', '(= ContentSequence[code=113811].X 1)'],
    ['sr:113811/113813@mGy.cm > 500', '(> sr:113811/113813@mGy.cm 500)'],
    ['sr:113819[*]/113829/113830 is not empty', '(not (empty sr:113819[*]/113829/113830))'],
    ['0019,xx23@GEMS_ACQU_01 = 1', '(= 0019,xx23@GEMS_ACQU_01 1)'],
    ['"0029,xx10@SIEMENS CSA HEADER" is empty', '(empty 0029,xx10@SIEMENS CSA HEADER)'],
    ['size_bytes > 1000', '(> size_bytes 1000)'],
    ['CTDIvol_mGy > 50', '(> CTDIvol_mGy 50)'],
  ]
  for (const [text, tree] of cases) t.equal(shown(text), tree, text)
})

t.test('a tree keeps the offsets of its columns, values and tests', async (t) => {
  const result = parseWhere("not Modality = CT or ImageType in [A, 'B C']")
  const expected: WhereExpr = {
    kind: 'or',
    at: 0,
    items: [
      {
        kind: 'not',
        at: 0,
        item: {
          kind: 'compare',
          op: '=',
          column: { text: 'Modality', at: 4 },
          value: { text: 'CT', quoted: false, at: 15 },
          at: 4,
        },
      },
      {
        kind: 'in',
        column: { text: 'ImageType', at: 21 },
        values: [
          { text: 'A', quoted: false, at: 35 },
          { text: 'B C', quoted: true, at: 38 },
        ],
        at: 21,
      },
    ],
  }
  t.strictSame(result, { ok: true, expr: expected })
  const regex = parseWhere('SeriesDescription ~ /thorax/im')
  t.strictSame(regex, {
    ok: true,
    expr: { kind: 'match', column: { text: 'SeriesDescription', at: 0 }, pattern: 'thorax', flags: 'im', at: 0 },
  })
})

t.test('problems: the first, at its offset', async (t) => {
  const cases: [string, number, string | RegExp][] = [
    ['', 0, 'an empty filter: write a test like Modality = CT'],
    ['   ', 0, 'an empty filter'],
    ['Modality', 8, 'expected =, !=, <, <=, >, >=, in, contains, ~ or "is empty" after "Modality", got the end'],
    ['Modality CT', 9, 'expected =, !=, <, <=, >, >=, in, contains, ~ or "is empty" after "Modality", got "CT"'],
    ['Modality =', 10, 'expected a value after "=", got the end'],
    ['Modality == CT', 10, 'expected a value after "=", got "=" (equality is a single "=")'],
    ['Modality = CT MR', 14, 'expected "and", "or" or the end, got "MR" (quote a value that holds spaces)'],
    ['a = 1 && b = 2', 6, 'expected "and", "or" or the end, got "&&" (write "and")'],
    ['a = 1 || b = 2', 6, 'expected "and", "or" or the end, got "||" (write "or")'],
    ['a = 1)', 5, 'expected "and", "or" or the end, got ")" (a ")" without its "(")'],
    ['(a = 1', 0, 'unclosed "(": add a ")"'],
    ['(a = 1 b', 7, 'expected "and", "or" or ")", got "b"'],
    ['a = 1 and', 9, 'expected a column, got the end'],
    ['and a = 1', 0, 'expected a column, got "and"'],
    ['not', 3, 'expected a column, got the end'],
    ['a = 1 or or b = 1', 9, 'expected a column, got "or"'],
    ["a = 'CT", 4, "unclosed quote: add a ' at the end of the value"],
    ['a = "CT', 4, 'unclosed quote: add a " at the end of the value'],
    ['a in CT', 5, 'expected a list like [CT, MR] after "in", got "CT"'],
    ['a in []', 6, 'an empty list: name at least one value'],
    ['a in [CT,]', 9, 'expected a value after ",", got "]"'],
    ['a in [CT MR]', 9, 'expected "," or "]" in the list, got "MR"'],
    ['a in [CT, MR', 5, 'unclosed "[": add a "]"'],
    ['a contains', 10, 'expected a value after "contains", got the end'],
    ['a ~ thorax', 4, 'expected a regular expression like /thorax/i after "~", got "thorax"'],
    ['a ~ /thorax', 4, 'unclosed regular expression: end it with /'],
    ['a ~ /thorax/g', 12, 'regular expression flag "g" is not one of i, m, s, u'],
    ['a ~ /thorax/ii', 13, 'regular expression flag "i" is not one of i, m, s, u'],
    ['a ~ /(/', 4, /^invalid regular expression \/\(\/: /],
    [
      'a = /x/',
      4,
      'expected a value after "=", got /x/ (a regular expression goes with "~"; quote a value that starts with /)',
    ],
    ['a is', 4, 'expected "empty" after "is", got the end'],
    ['a is not null', 9, 'expected "empty" after "is not", got "null"'],
  ]
  for (const [text, at, message] of cases) {
    const result = parseWhere(text)
    t.equal(result.ok, false, text)
    if (result.ok) continue
    t.equal(result.problem.at, at, `${text}: offset`)
    if (typeof message === 'string') t.equal(result.problem.message.slice(0, message.length), message, text)
    else t.match(result.problem.message, message, text)
  }
})

t.test('whereColumns lists the columns in order', async (t) => {
  const result = parseWhere('(a = 1 or not b is empty) and c ~ /x/')
  t.ok(result.ok)
  if (result.ok)
    t.strictSame(
      whereColumns(result.expr).map((c) => c.text),
      ['a', 'b', 'c'],
    )
})

t.test('any text: a tree or a problem inside it, never a throw', async (t) => {
  const pieces = [
    'Modality',
    ' ',
    '=',
    '!',
    '<',
    '>',
    '~',
    '(',
    ')',
    '[',
    ']',
    ',',
    "'",
    '"',
    '/',
    'i',
    'and',
    'or',
    'not',
    'in',
    'contains',
    'is',
    'empty',
    'CT',
    '5',
    '\\',
    '0018,9345',
    'Seq[0].X',
    '*',
    '@',
    ':',
  ]
  let seed = 14
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  let trees = 0
  for (let n = 0; n < 3000; n++) {
    let text = ''
    for (let i = Math.floor(random() * 12); i >= 0; i--) text += pieces[Math.floor(random() * pieces.length)]
    const result = parseWhere(text)
    if (result.ok) trees++
    else if (!(result.problem.at >= 0 && result.problem.at <= text.length)) t.fail(`offset out of the text: ${text}`)
  }
  t.ok(trees > 0, `${trees} of 3000 parse`)
})
