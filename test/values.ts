// Typed values (src/values.ts): their text, JSON, order and round trip, with the cases a review
// found (each named after what it broke).
import t from 'tap'
import { Readable } from 'node:stream'
import { decodeValue } from '../src/dicom/format-value.js'
import { typeOfVr, columnType } from '../src/pipeline/column-types.js'
import { parseColumn } from '../src/pipeline/columns.js'
import { formatCsv } from '../src/sinks/csv.js'
import { groupRows } from '../src/transforms/group-rows.js'
import {
  Binary,
  Decimal,
  DicomDate,
  PersonName,
  compareValues,
  parseRow,
  stringifyRow,
  valueJson,
  valueText,
  type Value,
} from '../src/values.js'

const ds = (text: string): Value =>
  decodeValue({ tag: 0x00180050, vr: 'DS', value: Buffer.from(text, 'latin1') }, { littleEndian: true, charsets: [] })

t.test('text and JSON of each kind', async (t) => {
  const name = new PersonName('Yamada^Tarou=山田^太郎=やまだ^たろう')
  const cases: [Value, string, string][] = [
    [null, '', 'null'],
    ['CT', 'CT', '"CT"'],
    [-2.5, '-2.5', '-2.5'],
    [new Decimal('12345678901234567890'), '12345678901234567890', '12345678901234567890'],
    [name, 'Yamada^Tarou=山田^太郎=やまだ^たろう', '"Yamada^Tarou=山田^太郎=やまだ^たろう"'],
    [new DicomDate('DA', '20240312'), '20240312', '"20240312"'],
    [new Binary(Uint8Array.from([1, 2, 3])), 'AQID', '"AQID"'],
    [['ORIGINAL', 'PRIMARY'], 'ORIGINAL\\PRIMARY', '["ORIGINAL","PRIMARY"]'],
    [[1, null, 3], '1\\\\3', '[1,null,3]'],
  ]
  for (const [value, text, json] of cases) {
    t.equal(valueText(value), text, `text of ${json}`)
    t.equal(valueJson(value), json, `JSON of ${json}`)
  }
  t.equal(valueText(name, { names: 'ideographic' }), '山田^太郎')
  t.equal(valueText(new DicomDate('TM', '092815.672'), { dates: 'iso' }), '09:28:15.672')
  t.equal(valueJson(new Binary(new Uint8Array(7)), { binary: 'length' }), '7')
})

t.test('review: a decimal beyond a double with a bare trailing point is valid JSON', async (t) => {
  for (const [stored, digits] of [
    ['123456789012345678.', '123456789012345678'],
    ['-12345678901234567890.', '-12345678901234567890'],
    ['12345678901234567890.E2', '12345678901234567890E2'],
  ]) {
    const value = ds(stored)
    t.ok(value instanceof Decimal, `${stored}: kept as its digits`)
    t.equal(valueJson(value), digits)
    t.doesNotThrow(() => JSON.parse(`[${valueJson(value)}]`), `${stored}: parses`)
  }
})

t.test('review: rows round-trip with their types, NaN and infinities too (sort runs, state)', async (t) => {
  const row: Value[] = [
    null,
    'text {"$pn":"not a name"}',
    1.5,
    Infinity,
    -Infinity,
    NaN,
    [1, Infinity, null],
    new Decimal('-9007199254740993'),
    new PersonName('Doe^Jane'),
    new DicomDate('DT', '20240312092815'),
    new Binary(Uint8Array.from([0, 255])),
  ]
  const back = parseRow(stringifyRow(row))
  t.same(
    back.map((v) => valueText(v)),
    row.map((v) => valueText(v)),
    'the same cells',
  )
  t.ok(Number.isNaN(back[5]), 'NaN stays NaN')
  t.equal(back[3], Infinity)
  t.equal(typeof back[1], 'string', 'text that looks like a typed object stays text')
  t.ok(back[8] instanceof PersonName && back[9] instanceof DicomDate && back[10] instanceof Binary)
})

t.test('order: dates chronologically, whatever their form; names and bytes as the cells show them', async (t) => {
  const old = new DicomDate('DA', '1997.04.24')
  const now = new DicomDate('DA', '20240312')
  t.ok(compareValues(old, now) < 0, '1997.04.24 before 20240312')
  t.ok(compareValues(new DicomDate('TM', '14:04:38'), new DicomDate('TM', '090000')) > 0, '14:04:38 after 090000')
  const a = new PersonName('Wang^XiaoDong=王^小東')
  const b = new PersonName('Wang^XiaoDong=王^小东')
  t.not(compareValues(a, b), 0, 'whole names differ')
  t.equal(compareValues(a, b, { names: 'alphabetic' }), 0, 'the same alphabetic name')
  const long = new Binary(new Uint8Array(10))
  const short = new Binary(Uint8Array.from([255, 255]))
  t.ok(compareValues(short, long, { binary: 'length' }) < 0, 'by length with binary: length')
  t.ok(compareValues(-Infinity, 1) < 0 && compareValues(NaN, 1) > 0 && compareValues(1, NaN) < 0)
})

t.test('review: grouping by a name with names: alphabetic makes one group per name shown', async (t) => {
  const rows = [
    [new PersonName('Wang^XiaoDong=王^小東'), 1],
    [new PersonName('Wang^XiaoDong=王^小东'), 2],
  ]
  const out = await Readable.from(rows)
    .compose(groupRows({ keys: [0], aggregates: [{ index: 1, op: 'count' }], format: { names: 'alphabetic' } }))
    .toArray()
  t.equal(out.length, 1)
})

t.test('review: -Infinity is marked for a spreadsheet like any formula-like text', async (t) => {
  const csv = await Readable.from([[-Infinity, -1.5, 'x']])
    .compose(formatCsv(['a', 'b', 'c'], { spreadsheet: true }))
    .toArray()
  t.equal(Buffer.concat(csv.map((c: Buffer | string) => Buffer.from(c))).toString(), "\uFEFFa,b,c\n'-Infinity,-1.5,x\n")
})

t.test('review: column types of the VRs the dictionary writes as codes (xs, ox, lt)', async (t) => {
  const type = (keyword: string) => {
    const parsed = parseColumn(keyword)
    if (!parsed.ok) throw new Error(parsed.message)
    return columnType(parsed.column)
  }
  t.same(type('PixelPaddingValue'), { kind: 'integer', list: false }, 'US or SS')
  t.same(type('PixelData'), { kind: 'bytes', list: false }, 'OB or OW')
  t.same(typeOfVr('DS', '3'), { kind: 'number', list: true })
  t.same(typeOfVr(undefined), { kind: 'text', list: false })
})
