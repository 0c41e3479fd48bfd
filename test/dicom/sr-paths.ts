import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parsePath } from '../../src/dicom/paths.js'
import { readHeaderSync } from '../../src/dicom/read-header.js'
import { parseSrPath, srPathText } from '../../src/dicom/sr-paths.js'
import { convertUnit, UNIT_NAMES } from '../../src/dicom/units.js'
import { columnType } from '../../src/pipeline/column-types.js'
import { parseColumn } from '../../src/pipeline/columns.js'
import type { ColumnSpec } from '../../src/pipeline/spec.js'
import { columnPlan, projectValues } from '../../src/transforms/project-keywords.js'
import { Decimal, type Value } from '../../src/values.js'
import { ROOT } from '../fixtures/cli.js'
import { dataSet, EXPLICIT_LE, part10, TS, type El } from '../fixtures/dicom-builder.js'

const SHARED = join(ROOT, '..', 'shared')
const OPENREM = join(SHARED, 'corpus', 'openrem')
const ORACLE = join(SHARED, 'oracles', 'rdsr-dose.json')

function columns(...texts: string[]): ColumnSpec[] {
  return texts.map((text) => {
    const parsed = parseColumn(text)
    if (!parsed.ok) throw new Error(parsed.message)
    return parsed.column
  })
}

/** The typed row of a file (or bytes) for some column texts, and the warnings it gave. */
function read(file: string | Uint8Array, ...texts: string[]): { row: Value[]; warnings: string[] } {
  const cols = columns(...texts)
  const warnings: string[] = []
  const path = typeof file === 'string' ? file : 'built.dcm'
  if (typeof file !== 'string') {
    const dir = t.testdir({ 'built.dcm': Buffer.from(file) })
    file = join(dir, 'built.dcm')
  }
  const header = readHeaderSync(file, columnPlan(cols))
  const row = projectValues({ path, header }, cols, { onWarning: (p, m) => warnings.push(`${p}: ${m}`) })
  return { row, warnings }
}

t.test('sr: paths, good', async (t) => {
  const cases: [string, string, ReturnType<typeof srPathText>][] = [
    ['sr:113811/113813', 'first match at each step', 'sr:113811/113813'],
    ['sr:DCM:113811/113813', 'a scheme', 'sr:DCM:113811/113813'],
    ['sr: 113819[*] / 113829 / 113830 ', 'spaces, every acquisition', 'sr:113819[*]/113829/113830'],
    ['sr:113819[1]/113820', 'the second match', 'sr:113819[1]/113820'],
    ['sr:113819[0]/113820', '[0] is the default', 'sr:113819/113820'],
    ['sr:*/*[*]', 'any concept', 'sr:*/*[*]'],
    ['sr:SRT:P5-08000', 'letters and a dash', 'sr:SRT:P5-08000'],
    ['sr:113819/113820@code', '@code', 'sr:113819/113820@code'],
    ['sr:113811/113813@unit', '@unit', 'sr:113811/113813@unit'],
    ['sr:113811/113813@mGy.cm', 'a unit conversion', 'sr:113811/113813@mGy.cm'],
  ]
  for (const [text, why, back] of cases) {
    const r = parseSrPath(text)
    if (!r.ok) {
      t.fail(`${text}: ${r.message}`)
      continue
    }
    t.equal(srPathText(r.path.steps, r.path.content), back, `${text} (${why})`)
    t.ok(
      r.path.steps.every((s) => s.tag === 0x0040a730),
      'every step is a ContentSequence',
    )
  }
  t.same(parseSrPath('sr:SCT:116152004').ok && parseSrPath('sr:SCT:116152004'), {
    ok: true,
    path: {
      steps: [{ tag: 0x0040a730, item: 0, code: { value: '116152004', scheme: 'SCT' } }],
      content: { part: 'value' },
    },
  })
  t.same(parseSrPath('sr:113813', 'mm').ok && parseSrPath('sr:113813', 'mm'), {
    ok: true,
    path: { steps: [{ tag: 0x0040a730, item: 0, code: { value: '113813' } }], content: { part: 'value', unit: 'mm' } },
  })
})

t.test('sr: paths, bad: one line saying what', async (t) => {
  const cases: [string, RegExp][] = [
    ['sr:', /^sr:: no codes: expected codes separated by "\/", e\.g\. sr:113811\/113813$/],
    [
      'sr:113811//113813',
      /^sr:113811\/\/113813: step 2 is empty: expected a code like 113811 or DCM:113811, or \* for any$/,
    ],
    ['sr:113811/11 3813', /"11 3813" is not a code/],
    ['sr:113811[x]', /"\[x\]" after 113811: expected \[n\] \(from 0\) or \[\*\]$/],
    ['sr:113811[-1]', /expected \[n\]/],
    [
      'sr:113811/113813@mGy/cm',
      /"@mGy\/cm": expected @code, @unit or a unit to convert to \(mGy\.cm, mGycm, mGy, Gy, Gy\.m2, Gy\.cm2, dGy\.cm2, cGy\.cm2, mGy\.cm2, uGy\.m2, mm, cm, s, ms, mA\.s, uA\.s, mA, kV, MBq, Bq, kBq, GBq\)$/,
    ],
    ['sr:113811/113813@Unit', /"@Unit"/],
    ['sr:a:b:c', /"a:b:c" is not a code/],
  ]
  for (const [text, message] of cases) {
    const r = parseColumn(text)
    t.equal(r.ok, false, text)
    if (!r.ok) {
      t.match(r.message, message, text)
      t.notMatch(r.message, /\n/, 'one line')
    }
  }
  t.match(parseSrPath('sr:113813', 'furlong'), { ok: false, message: /unit "furlong" is not one that converts/ })
  t.match(parseSrPath('sr:113813@code', 'mm'), { ok: false, message: /a unit converts values, not "@code"/ })
})

t.test('long form: [code=...] selectors in element paths', async (t) => {
  t.same(parsePath('ContentSequence[code=113811].ContentSequence[code=DCM:113813].TextValue'), {
    ok: true,
    steps: [
      { tag: 0x0040a730, item: 0, code: { value: '113811' } },
      { tag: 0x0040a730, item: 0, code: { value: '113813', scheme: 'DCM' } },
      { tag: 0x0040a160 },
    ],
  })
  t.match(parsePath('ContentSequence[*,code=113819].ContentSequence[1,code=113829].UID'), {
    ok: true,
    steps: [{ item: '*', code: { value: '113819' } }, { item: 1, code: { value: '113829' } }, {}],
  })
  const bad: [string, RegExp][] = [
    ['ContentSequence[code=].UID', /\[code=\]: expected a code like 113811 or DCM:113811 after "code=", got ""/],
    ['ContentSequence[name=x].UID', /\[name=x\]: expected \[n\], \[\*\], \[code=113811\] or \[\*,code=113811\]/],
    ['ContentSequence[code=1,code=2].UID', /expected \[n\]/],
    ['ContentSequence[code=113811]', /ContentSequence\[code=113811\] selects items: add the attribute inside them/],
  ]
  for (const [text, message] of bad) t.match(parsePath(text), { ok: false, message }, text)
})

t.test('units: powers of ten on the decimal text, unknown units refused', async (t) => {
  t.equal(convertUnit(1.1, 'cm', 'mm'), 11)
  t.equal(convertUnit(7.46, 'mGycm', 'mGy.cm'), 7.46)
  t.equal(convertUnit(1500, 'ms', 's'), 1.5)
  t.equal(convertUnit(0.3, 's', 'ms'), 300)
  t.same(convertUnit(new Decimal('12345678901234567890.5'), 'cm', 'mm'), new Decimal('12345678901234567890.5e1'))
  t.match(convertUnit(1, 'mGy/cm', 'mGy.cm'), /unknown unit "mGy\/cm"/)
  t.match(convertUnit(1, 'mm', 's'), /unit "mm" is a length, not a time like "s"/)
})

/** A content item: a NUM, TEXT, CODE, CONTAINER... with its concept name. */
function item(code: string, scheme: string, meaning: string, type: string, rest: El[] = []): El[] {
  return [
    { tag: 0x0040a040, vr: 'CS', value: type },
    {
      tag: 0x0040a043,
      vr: 'SQ',
      value: [
        [
          { tag: 0x00080100, vr: 'SH', value: code },
          { tag: 0x00080102, vr: 'SH', value: scheme },
          { tag: 0x00080104, vr: 'LO', value: meaning },
        ],
      ],
    },
    ...rest,
  ]
}

function num(code: string, value: string, unit: string): El[] {
  return item(code, 'DCM', `concept ${code}`, 'NUM', [
    {
      tag: 0x0040a300,
      vr: 'SQ',
      value: [
        [
          {
            tag: 0x004008ea,
            vr: 'SQ',
            value: [
              [
                { tag: 0x00080100, vr: 'SH', value: unit },
                { tag: 0x00080102, vr: 'SH', value: 'UCUM' },
              ],
            ],
          },
          { tag: 0x0040a30a, vr: 'DS', value: value },
        ],
      ],
    },
  ])
}

function container(code: string, children: El[][]): El[] {
  return item(code, 'DCM', `container ${code}`, 'CONTAINER', [{ tag: 0x0040a730, vr: 'SQ', value: children }])
}

function sr(children: El[][]): Uint8Array {
  return part10(
    dataSet([{ tag: 0x0040a730, vr: 'SQ', undefinedLength: true, value: children }], EXPLICIT_LE),
    TS.explicitLE,
  )
}

t.test('values by ValueType, codes never meanings, units converted or refused', async (t) => {
  const file = sr([
    container('113811', [num('113813', '77.27', 'mGy.cm'), num('113812', '10.50/ 15.00', '{events}')]),
    item('113876', 'DCM', 'Device Role', 'CODE', [
      {
        tag: 0x0040a168,
        vr: 'SQ',
        value: [
          [
            { tag: 0x00080100, vr: 'SH', value: '113859' },
            { tag: 0x00080104, vr: 'LO', value: 'Irradiating Device' },
          ],
        ],
      },
    ]),
    item('113769', 'DCM', 'Irradiation Event UID', 'UIDREF', [{ tag: 0x0040a124, vr: 'UI', value: '1.2.3' }]),
    item('121106', 'DCM', 'Comment', 'TEXT', [{ tag: 0x0040a160, vr: 'UT', value: 'QA' }]),
    item('111526', 'DCM', 'DateTime Started', 'DATETIME', [{ tag: 0x0040a120, vr: 'DT', value: '20240312092815' }]),
    item('113870', 'DCM', 'Person Name', 'PNAME', [{ tag: 0x0040a123, vr: 'PN', value: 'Nobody' }]),
    item('113820', '99X', 'same value, other scheme', 'TEXT', [{ tag: 0x0040a160, vr: 'UT', value: 'other' }]),
    item('113820', 'DCM', 'Acquisition Protocol', 'TEXT', [{ tag: 0x0040a160, vr: 'UT', value: 'dcm' }]),
    item('121000', 'DCM', '113999', 'TEXT', [{ tag: 0x0040a160, vr: 'UT', value: 'a meaning is a label' }]),
    container('113819', [num('113824', '1.1', 'cm'), num('113834', '500', 'ms'), num('113830', '3', 'mGy/100mAs')]),
  ])
  const { row, warnings } = read(
    file,
    'sr:113811/113813',
    'sr:113811/113813@unit',
    'sr:113811/113813@mGycm',
    'sr:113811/113812',
    'sr:113876',
    'sr:113876@code',
    'sr:113769',
    'sr:121106',
    'sr:111526',
    'sr:113870',
    'sr:113811',
    'sr:113820',
    'sr:DCM:113820',
    'sr:113820[*]',
    'sr:113819/113824@mm',
    'sr:113819/113834@s',
    'sr:113819/113830@mGy',
    'sr:113819/113824@s',
    'sr:113999',
  )
  const text = row.map((v) => (v === null || typeof v !== 'object' || Array.isArray(v) ? v : JSON.stringify(v)))
  t.same(text, [
    77.27,
    'mGy.cm',
    77.27,
    null,
    'Irradiating Device',
    '113859',
    '1.2.3',
    'QA',
    '{"$dt":["DT","20240312092815"]}',
    '{"$pn":"Nobody"}',
    null,
    'other',
    'dcm',
    ['other', 'dcm'],
    11,
    0.5,
    null,
    null,
    null,
  ])
  t.same(warnings, [
    'built.dcm: sr:113811/113812: NumericValue "10.50/ 15.00" is not one number; left empty',
    `built.dcm: sr:113819/113830@mGy: unknown unit "mGy/100mAs" (known: ${UNIT_NAMES.join(', ')}); cannot give mGy, left empty`,
    'built.dcm: sr:113819/113824@s: unit "cm" is a length, not a time like "s"; cannot give s, left empty',
  ])
})

t.test('column types', async (t) => {
  const type = (text: string) => columnType(columns(text)[0])
  t.same(type('sr:113811/113813'), { kind: 'number', list: false }, 'a dose NUM concept')
  t.same(type('sr:113819[*]/113829/113830'), { kind: 'number', list: true })
  t.same(type('sr:113811/113813@unit'), { kind: 'text', list: false })
  t.same(type('sr:113819/113820'), { kind: 'text', list: false }, 'unknown until read: text')
  t.same(type('sr:99X:1/2@mm'), { kind: 'number', list: false }, 'a conversion is a number')
  t.same(type('sr:SCT:113813'), { kind: 'text', list: false }, 'another scheme is another concept')
})

t.test(
  'OpenREM RDSRs against rdsr-dose.json',
  { skip: existsSync(ORACLE) ? false : `no ${ORACLE} here` },
  async (t) => {
    const oracle = JSON.parse(readFileSync(ORACLE, 'utf8')) as Record<
      string,
      {
        study?: { total_dlp_mGycm: number; dlp_unit_codes_in_file: string[] }
        events?: { ctdivol_mGy: number | null }[]
      }
    >
    const ct = Object.keys(oracle).filter((name) => name.startsWith('CT-') && oracle[name].study && oracle[name].events)
    t.ok(ct.length >= 5, `CT dose reports: ${ct.join(', ')}`)
    for (const name of ct) {
      const { study, events } = oracle[name]
      const { row, warnings } = read(
        join(OPENREM, name),
        'sr:113811/113813',
        'sr:DCM:113811/DCM:113813@mGy.cm',
        'sr:113811/113813@unit',
        'sr:113819[*]/113829/113830',
        'sr:113819[*]/113829/113830@mGy',
      )
      t.equal(row[0], study?.total_dlp_mGycm, `${name}: CT Dose Length Product Total`)
      t.equal(row[1], study?.total_dlp_mGycm, `${name}: in mGy.cm, from ${study?.dlp_unit_codes_in_file.join()}`)
      t.same([row[2]], study?.dlp_unit_codes_in_file, `${name}: its unit as stored`)
      const ctdi = events?.map((e) => e.ctdivol_mGy ?? null)
      t.same(row[3], ctdi, `${name}: Mean CTDIvol of each CT Acquisition, in order`)
      t.same(row[4], ctdi, `${name}: ... in mGy`)
      t.same(warnings, [], `${name}: no warnings`)
    }
  },
)
