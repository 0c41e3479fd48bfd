import t from 'tap'
import { formatValue, shortestFloat32, type FormatContext } from '../../src/dicom/format-value.js'
import { bin, text } from '../fixtures/dicom-builder.js'

const ctx: FormatContext = { littleEndian: true, charsets: [] }
const f = (vr: string, value: Buffer, c: FormatContext = ctx) => formatValue({ tag: 0x00100010, vr, value }, c)

t.test('cells per VR', async (t) => {
  const be = Buffer.alloc(4)
  be.writeUInt16BE(0x0018, 0)
  be.writeUInt16BE(0x9345, 2)
  const cases: [string, string, Buffer, string, FormatContext?][] = [
    ['DS in shortest form', 'DS', text('1.250000'), '1.25'],
    ['DS multi-valued', 'DS', text('0\\-124.8\\916.5'), '0\\-124.8\\916.5'],
    ['DS with spaces and exponent', 'DS', text(' 1.5E+02 '), '150'],
    ['IS with leading zeros', 'IS', text('0042'), '42'],
    ['empty DS value among others', 'DS', text('1\\\\3'), '1\\\\3'],
    ['FD exactly (shortest round trip)', 'FD', bin.fd(18.36697247706422), '18.36697247706422'],
    ['FD multi-valued', 'FD', bin.fd(1, -0.5), '1\\-0.5'],
    ['FL without float noise', 'FL', bin.fl(0.1), '0.1'],
    ['US', 'US', bin.us(512), '512'],
    ['US big endian', 'US', bin.us(512, false), '512', { ...ctx, littleEndian: false }],
    ['UL', 'UL', bin.ul(4000000000), '4000000000'],
    ['SS negative', 'SS', Buffer.from([0xff, 0xff]), '-1'],
    ['AT as a tag', 'AT', be, '(0018,9345)', { ...ctx, littleEndian: false }],
    ['UI padding removed', 'UI', text('1.2.3', 'UI'), '1.2.3'],
    ['CS multi-valued, padding removed', 'CS', text('ORIGINAL\\PRIMARY\\AXIAL '), 'ORIGINAL\\PRIMARY\\AXIAL'],
    ['DA as stored', 'DA', text('20240312'), '20240312'],
    ['TM as stored', 'TM', text('092815.672'), '092815.672'],
    [
      'PN with component groups',
      'PN',
      Buffer.from('Yamada^Tarou=山田^太郎=やまだ^たろう', 'utf8'),
      'Yamada^Tarou=山田^太郎=やまだ^たろう',
      { ...ctx, charsets: ['ISO_IR 192'] },
    ],
    ['Latin-1 text', 'LO', Buffer.from('Müller ', 'latin1'), 'Müller', { ...ctx, charsets: ['ISO_IR 100'] }],
    ['LT keeps backslashes and leading spaces', 'LT', text('  a\\b'), '  a\\b'],
    ['binary as base64', 'OB', Buffer.from([0, 1, 2, 255]), 'AAEC/w=='],
    ['empty value', 'DS', Buffer.alloc(0), ''],
    ['custom separator', 'CS', text('A\\B'), 'A|B', { ...ctx, separator: '|' }],
  ]
  for (const [name, vr, value, expected, c] of cases) t.equal(f(vr, value, c), expected, name)
})

t.test('UN values are read as the VR the dictionary gives their tag (PS3.5 6.2.2)', async (t) => {
  t.equal(formatValue({ tag: 0x00189345, vr: 'UN', value: bin.fd(12.5) }, ctx), '12.5', 'CTDIvol stored as UN')
  t.equal(formatValue({ tag: 0x00191001, vr: 'UN', value: Buffer.from([1, 2]) }, ctx), 'AQI=', 'unknown: base64')
})

t.test('an invalid number is an empty cell and a warning', async (t) => {
  const warnings: string[] = []
  t.equal(formatValue({ tag: 0x00280008, vr: 'IS', value: text('1A') }, { ...ctx, warn: (m) => warnings.push(m) }), '')
  t.same(warnings, ['(0028,0008) IS value "1A" is not a valid number; left empty'])
})

t.test('shortest float32 text', async (t) => {
  for (const x of [0.1, 1 / 3, 100.5, -2.75e-7, 3.4e38]) {
    const f32 = Math.fround(x)
    const s = shortestFloat32(f32)
    t.equal(Math.fround(Number(s)), f32, `${s} reads back as the same float`)
    t.ok(s.replace(/[-.]|e.*$/g, '').length <= 9, `${s} is short`)
  }
})

t.test('format options: ISO dates, one PN group, binary length, fallback character set', async (t) => {
  const iso = { ...ctx, dates: 'iso' as const }
  const cases: [string, string, Buffer, string, FormatContext][] = [
    ['DA', 'DA', text('20240312'), '2024-03-12', iso],
    ['DA (ACR-NEMA form)', 'DA', text('2024.03.12'), '2024-03-12', iso],
    ['DA multi-valued', 'DA', text('20240312\\20240313'), '2024-03-12\\2024-03-13', iso],
    ['TM', 'TM', text('092815.672'), '09:28:15.672', iso],
    ['TM hours and minutes', 'TM', text('0928'), '09:28', iso],
    ['DT with offset', 'DT', text('20240312092815.5+0100'), '2024-03-12T09:28:15.5+01:00', iso],
    ['DT date only', 'DT', text('2024'), '2024', iso],
    ['not a date stays as stored', 'DA', text('yesterday'), 'yesterday', iso],
    ['dates as stored by default', 'DA', text('20240312'), '20240312', ctx],
    [
      'PN alphabetic',
      'PN',
      Buffer.from('Yamada^Tarou=山田^太郎=やまだ^たろう', 'utf8'),
      'Yamada^Tarou',
      { ...ctx, charsets: ['ISO_IR 192'], names: 'alphabetic' },
    ],
    [
      'PN ideographic',
      'PN',
      Buffer.from('Yamada^Tarou=山田^太郎=やまだ^たろう', 'utf8'),
      '山田^太郎',
      { ...ctx, charsets: ['ISO_IR 192'], names: 'ideographic' },
    ],
    ['PN phonetic missing', 'PN', text('Doe^Jane'), '', { ...ctx, names: 'phonetic' }],
    ['binary length', 'OB', Buffer.alloc(1234), '1234', { ...ctx, binary: 'length' }],
  ]
  for (const [name, vr, value, expected, c] of cases) t.equal(f(vr, value, c), expected, name)

  const warnings: string[] = []
  const utf8 = Buffer.from('Müller ', 'utf8')
  t.equal(
    f('LO', utf8, { ...ctx, charset: 'ISO_IR 192', warn: (m) => warnings.push(m) }),
    'Müller',
    'undeclared text decoded with --charset',
  )
  t.match(warnings, [/no Specific Character Set declares it: decoded as ISO_IR 192/])
  t.equal(f('LO', Buffer.from('Müller', 'latin1'), ctx), 'Müller', 'and as ISO 8859-1 by default')
})
