// normalise: text values rewritten step by step, so that names written differently group
// together; values that are not text pass as they are.
import t from 'tap'
import { Readable } from 'node:stream'
import { normaliseColumns, normaliseText } from '../../src/transforms/normalise-columns.js'
import type { NormaliseStep } from '../../src/records.js'
import { DicomDate, type Row } from '../../src/values.js'

t.test('each step, and steps in order', async (t) => {
  const cases: [string, NormaliseStep[], string][] = [
    ['Thorax 3.0 B30f', ['lower'], 'thorax 3.0 b30f'],
    ['Thorax 3.0 B30f', ['upper'], 'THORAX 3.0 B30F'],
    ['  CT   Head \t 2 ', ['trim'], 'CT Head 2'],
    ['CT HEAD 2', ['no_digits'], 'CT HEAD '],
    ['Thorax 3.0 B30f', ['lower', 'no_digits', 'trim'], 'thorax . bf'],
    ['Thorax 3.0 B30f', ['lower', 'no_punctuation', 'no_digits', 'trim'], 'thorax bf'],
    ['C-Spine (trauma)', ['no_punctuation', 'lower'], 'cspine trauma'],
    ['Thorax ٣', ['no_digits', 'trim'], 'Thorax'],
  ]
  for (const [text, steps, expected] of cases)
    t.equal(normaliseText(text, steps), expected, `${text} ${steps.join(',')}`)
})

t.test('the stage rewrites the columns that ask, text values only', async (t) => {
  const columns = [
    { name: 'a', source: { kind: 'pseudo' as const, name: 'path' as const }, normalise: ['lower' as const] },
    { name: 'b', source: { kind: 'pseudo' as const, name: 'path' as const } },
  ]
  const stage = normaliseColumns(columns)
  if (!stage) throw new Error('a stage')
  const date = new DicomDate('DA', '20240312')
  const rows: Row[] = [
    ['CT Head', 'Keep Case'],
    [['ORIGINAL', 'PRIMARY'], 'x'],
    [42, 'x'],
    [date, 'x'],
    [null, 'x'],
  ]
  const out = (await Readable.from(rows).compose(stage).toArray()) as Row[]
  t.same(out, [
    ['ct head', 'Keep Case'],
    [['original', 'primary'], 'x'],
    [42, 'x'],
    [date, 'x'],
    [null, 'x'],
  ])
  t.equal(normaliseColumns([columns[1]]), undefined, 'no stage when no column asks')
})
