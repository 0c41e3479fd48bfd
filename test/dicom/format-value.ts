import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatValue, shortestFloat32, type FormatContext } from '../../src/dicom/format-value.js'
import { bin, dataSet, EXPLICIT_LE, text } from '../fixtures/dicom-builder.js'

const PYTHON = '/usr/bin/python3'

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

// Issue 10, "trust under attack": numbers a double cannot hold lost digits in silence
// (`12345678901234567890` was written `12345678901234567000`), and DS `1e999` was `Infinity`.
t.test('issue 10: IS and DS beyond a double keep their digits; 1e999 is invalid', async (t) => {
  const cases: [string, string, string][] = [
    ['IS over 2^64', 'IS', '12345678901234567890'],
    ['IS 2^53 + 1', 'IS', '9007199254740993'],
    ['IS negative, over 2^53', 'IS', '-9007199254740993'],
    ['IS over 2^53 with + and leading zeros: only exact changes', 'IS', '12345678901234567890'],
    ['DS of 20 digits', 'DS', '12345678901234567890'],
    ['DS with a fraction beyond 17 digits', 'DS', '1.00000000000000000001'],
    ['DS under the least double', 'DS', '1e-999'],
    ['DS with a leading point', 'DS', '0.50000000000000000001'],
  ]
  const stored: Record<string, string> = {
    'IS over 2^53 with + and leading zeros: only exact changes': '+0012345678901234567890',
    'DS with a leading point': '.50000000000000000001',
  }
  for (const [name, vr, expected] of cases) t.equal(f(vr, text(stored[name] ?? expected)), expected, name)
  t.equal(f('IS', text('9007199254740992')), '9007199254740992', '2^53 itself is exact: shortest form')
  t.equal(f('DS', text('1.250000')), '1.25', 'an exact DS still in its shortest form')
  t.equal(f('DS', text('123456789.123456')), '123456789.123456', '15 digits: exact')
  t.equal(f('DS', text('12345678901234567890\\1.50')), '12345678901234567890\\1.5', 'each value on its own')

  for (const value of ['1e999', '-1E+999']) {
    const warnings: string[] = []
    t.equal(f('DS', text(value), { ...ctx, warn: (m) => warnings.push(m) }), '', `${value}: empty`)
    t.same(warnings, [`(0010,0010) DS value "${value}" is not a valid number; left empty`], `${value}: the warning`)
  }
})

// pydicom 2.3.1 reads the same bytes (a data set written by the builder) as:
// - DS: a DSfloat whose str() is the stored text ("12345678901234567890", "1.00000000000000000001"):
//   the same as ours where a double loses digits. For "1e999" it keeps the text too, with the
//   float inf behind it: we leave the cell empty and warn, as for any value that is no number.
// - IS: "12345678901234567890" raises TypeError ("Could not convert value to integer without
//   loss"), because pydicom 2.3 makes an IS through a float; we keep the stored digits.
t.test('issue 10: big DS values as pydicom reads them', { skip: pydicomSkip() }, async (t) => {
  const values = ['12345678901234567890', '1.00000000000000000001', '12345678901234567890.5', '1e999']
  const dir = mkdtempSync(join(tmpdir(), 'etl-ds-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'big.dcm')
  const elements = [
    { tag: 0x00181150, vr: 'DS', value: values.join('\\') },
    { tag: 0x00200013, vr: 'IS', value: '12345678901234567890' },
  ]
  writeFileSync(file, dataSet(elements, EXPLICIT_LE))
  const script = [
    'import sys, warnings, pydicom',
    "warnings.simplefilter('ignore')",
    'ds = pydicom.dcmread(sys.argv[1], force=True)',
    "print('\\\\'.join(str(v) for v in ds.ExposureTime))",
    'try:',
    '    print(str(ds.InstanceNumber))',
    'except Exception as e:',
    "    print(type(e).__name__ + ': ' + str(e))",
  ].join('\n')
  const out = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' })
  t.equal(out.status, 0, out.stderr)
  const [pyDS, pyIS] = out.stdout.trim().split('\n')
  const ours = f('DS', text(values.join('\\')), { ...ctx, warn: () => {} }).split('\\')
  const theirs = pyDS.split('\\')
  t.same(ours.slice(0, 3), theirs.slice(0, 3), 'DS: the stored text, as pydicom keeps it')
  t.same([theirs[3], ours[3]], ['1e999', ''], 'DS 1e999: pydicom keeps the text (inf); we leave it empty')
  t.equal(pyIS, 'TypeError: Could not convert value to integer without loss', 'IS: pydicom 2.3 cannot read it')
  t.equal(f('IS', text('12345678901234567890')), '12345678901234567890', 'IS: we keep the digits')
})

function pydicomSkip(): string | false {
  if (!existsSync(PYTHON)) return `no ${PYTHON}`
  const probe = spawnSync(PYTHON, ['-c', 'import pydicom'], { encoding: 'utf8' })
  return probe.status === 0 ? false : `${PYTHON} cannot import pydicom (apt-get install python3-pydicom)`
}
