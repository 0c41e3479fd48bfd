/**
 * The filter on typed values: numbers as numbers, dates as dates, text as text, lists by their
 * elements; an empty value passes no test but `is empty`.
 */
import { Readable } from 'node:stream'
import t from 'tap'
import { parseColumn } from '../../src/pipeline/columns.js'
import type { ColumnSpec } from '../../src/pipeline/spec.js'
import { resolveWhere } from '../../src/pipeline/where-columns.js'
import { compileWhere, filterRows, keepRows, literalDate } from '../../src/transforms/filter-rows.js'
import { Binary, Decimal, DicomDate, PersonName, type Row, type Value } from '../../src/values.js'

const column = (text: string): ColumnSpec => {
  const parsed = parseColumn(text)
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.column
}

/** One column of each kind, in this order. */
const columns = [
  'Modality',
  'CTDIvol',
  'StudyDate',
  'ImageType',
  'SeriesDescription',
  'PatientName',
  'StudyTime',
  'AcquisitionDateTime',
  'SeriesNumber',
  'ImagePositionPatient',
  'AccessionNumber',
].map(column)

const filter = (text: string) => {
  const result = resolveWhere(text, columns)
  if (!result.filter) throw new Error(`${text}: ${JSON.stringify(result.problems)}`)
  return result.filter
}

const test = (text: string) => compileWhere(filter(text).expr)

/** A row with these values, empty elsewhere. */
const row = (values: Partial<Record<string, Value>>): Row =>
  columns.map((c) => (values[c.name] === undefined ? null : (values[c.name] as Value)))

const ct: Row = row({
  Modality: 'CT',
  CTDIvol: 12.5,
  StudyDate: new DicomDate('DA', '20260312'),
  ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
  SeriesDescription: 'Thorax 3.0 B30f',
  PatientName: new PersonName('Yamada^Tarou=山田^太郎'),
  StudyTime: new DicomDate('TM', '092815.672'),
  AcquisitionDateTime: new DicomDate('DT', '20260312092815'),
  SeriesNumber: 3,
  ImagePositionPatient: [-250, -250, -272.5],
  AccessionNumber: '00123',
})
const empty: Row = row({})

t.test('tests on a CT row', async (t) => {
  const cases: [string, boolean][] = [
    ['Modality = CT', true],
    ['Modality = ct', false],
    ['Modality != MR', true],
    ['Modality != CT', false],
    ['Modality in [MR, CT]', true],
    ['Modality in [MR, PT]', false],
    ['Modality < MR', true],
    // Numbers by value, whatever the text.
    ['CTDIvol = 12.5', true],
    ['CTDIvol = 12.50', true],
    ['CTDIvol = 1.25e1', true],
    ['CTDIvol > 12', true],
    ['CTDIvol >= 12.5', true],
    ['CTDIvol < 12.5', false],
    ['CTDIvol <= 12.5', true],
    ['CTDIvol > 9', true],
    ['CTDIvol in [1, 12.5]', true],
    ['SeriesNumber = 3', true],
    ['SeriesNumber < 10', true],
    // Dates by date: as stored or ISO 8601.
    ['StudyDate = 20260312', true],
    ['StudyDate = 2026-03-12', true],
    ['StudyDate >= 20260101', true],
    ['StudyDate >= 2026-03-13', false],
    ['StudyDate < 20270101', true],
    ['StudyDate in [20260311, 20260312]', true],
    ['StudyTime >= 09:00', true],
    ['StudyTime < 092816', true],
    ['StudyTime > 10', false],
    ['AcquisitionDateTime >= 20260312', true],
    ['AcquisitionDateTime < 2026-03-12T10:00', true],
    // Lists: = takes the whole value, contains an element.
    ['ImageType contains LOCALIZER', false],
    ['ImageType contains AXIAL', true],
    ['ImageType contains AXI', false],
    ['ImageType = AXIAL', false],
    ["ImageType = 'ORIGINAL\\PRIMARY\\AXIAL'", true],
    ['ImageType ~ /primary/i', true],
    ['ImagePositionPatient contains -272.5', true],
    ['ImagePositionPatient contains 272.5', false],
    ["ImagePositionPatient = '-250\\-250\\-272.5'", true],
    // Text: contains a part, ~ a pattern.
    ['SeriesDescription contains Thorax', true],
    ['SeriesDescription contains thorax', false],
    ['SeriesDescription ~ /thorax/', false],
    ['SeriesDescription ~ /thorax/i', true],
    ['SeriesDescription ~ /^Thorax \\d\\.\\d/', true],
    ["SeriesDescription = 'Thorax 3.0 B30f'", true],
    ["SeriesDescription > 'IM10'", true],
    // Text holding digits is text.
    ['AccessionNumber = 00123', true],
    ['AccessionNumber = 123', false],
    // Names: whole, or the alphabetic group.
    ['PatientName = Yamada^Tarou', true],
    ["PatientName = 'Yamada^Tarou=山田^太郎'", true],
    ['PatientName ~ /^yamada/i', true],
    ['CTDIvol is empty', false],
    ['CTDIvol is not empty', true],
    // Logic.
    ['Modality = CT and not ImageType contains LOCALIZER', true],
    ['Modality = MR or CTDIvol > 10', true],
    ['Modality = MR or CTDIvol > 20', false],
    ['not (Modality = MR or CTDIvol > 20)', true],
    ['(Modality = MR or CTDIvol > 10) and StudyDate >= 20260101', true],
  ]
  for (const [text, expected] of cases) t.equal(test(text)(ct), expected, text)
})

t.test('an empty value passes no test but is empty (not: the opposite)', async (t) => {
  const cases: [string, boolean][] = [
    ['Modality = CT', false],
    ['Modality != CT', false],
    ['Modality < CT', false],
    ['Modality > CT', false],
    ['Modality in [CT]', false],
    ['Modality contains C', false],
    ['Modality ~ /.*/', false],
    ['CTDIvol >= 0', false],
    ['CTDIvol <= 0', false],
    ['StudyDate < 99991231', false],
    ['Modality is empty', true],
    ['Modality is not empty', false],
    ['not Modality = CT', true],
    ['not Modality != CT', true],
  ]
  for (const [text, expected] of cases) t.equal(test(text)(empty), expected, text)
  t.equal(test('ImageType is empty')(row({ ImageType: ['', null] })), true, 'a list of empty values is empty')
  t.equal(test('Modality is empty')(row({ Modality: '' })), true, 'empty text is empty')
})

t.test('values that do not compare are false, never an error', async (t) => {
  t.equal(test('CTDIvol > 12.25')(row({ CTDIvol: '12.5' })), true, 'text that is a number, against a number: by value')
  t.equal(test('CTDIvol < 2')(row({ CTDIvol: 'n/a' })), false, 'other text: in natural order')
  t.equal(test('StudyDate = 20260101')(row({ StudyDate: new DicomDate('DA', 'garbage') })), false)
  t.equal(test('StudyDate >= 20260101')(row({ StudyDate: new DicomDate('DA', '2026.03.12') })), true, 'old form')
  t.equal(test('CTDIvol > 1')(row({ CTDIvol: NaN })), false, 'NaN compares with nothing')
  t.equal(test('CTDIvol != 1')(row({ CTDIvol: NaN })), true)
  t.equal(test('ImagePositionPatient > 1')(ct), false, 'a list of three has no order')
  t.equal(test('ImageType ~ /x/')(row({ ImageType: new Binary(new Uint8Array([120])) })), false)
  t.equal(test('CTDIvol = 12345678901234567890')(row({ CTDIvol: new Decimal('12345678901234567890') })), true)
  t.equal(test('CTDIvol > 1e19')(row({ CTDIvol: new Decimal('12345678901234567890') })), true)
  t.equal(test('ImageType contains AXIAL')(row({ ImageType: 'AXIAL' })), true, 'a list column with one value')
  t.equal(test('ImageType contains AXI')(row({ ImageType: 'AXIAL' })), false, 'an element, not a part')
})

t.test('literalDate: as stored or ISO 8601, else undefined', async (t) => {
  const cases: [Parameters<typeof literalDate>, string | undefined][] = [
    [['DA', '20260101'], '2026-01-01'],
    [['DA', '2026-01-01'], '2026-01-01'],
    [['DA', '2026.01.01'], '2026-01-01'],
    [['DA', '2026'], undefined],
    [['DA', 'today'], undefined],
    [['TM', '0930'], '09:30'],
    [['TM', '09:30:00.5'], '09:30:00.5'],
    [['TM', '9'], undefined],
    [['DT', '2026'], '2026'],
    [['DT', '20260101093000+0100'], '2026-01-01T09:30:00+01:00'],
    [['DT', '2026-01-01T09:30'], '2026-01-01T09:30'],
  ]
  for (const [args, expected] of cases) t.equal(literalDate(...args), expected, args.join(' '))
})

t.test('keepRows keeps the rows that pass, cut to the extracted columns', async (t) => {
  const where = resolveWhere('Modality = CT and BodyPartExamined = HEAD', columns.slice(0, 2)).filter
  t.ok(where)
  if (!where) return
  t.strictSame(
    where.hidden.map((c) => c.name),
    ['BodyPartExamined'],
  )
  const rows: Row[] = [
    ['CT', 1, 'HEAD'],
    ['CT', 2, 'CHEST'],
    ['MR', 3, 'HEAD'],
    ['CT', 4, 'HEAD'],
  ]
  t.equal(keepRows(rows, where.expr, 2), 2)
  t.strictSame(rows, [
    ['CT', 1],
    ['CT', 4],
  ])
})

t.test('filterRows: the stream, with its count', async (t) => {
  const info = { filtered: 0 }
  const out: Row[] = []
  const stream = Readable.from([ct, empty, ct]).pipe(filterRows(filter('Modality = CT').expr, { width: 2, info }))
  for await (const r of stream) out.push(r as Row)
  t.strictSame(out, [ct.slice(0, 2), ct.slice(0, 2)])
  t.equal(info.filtered, 1)
})
