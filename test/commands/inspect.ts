import t from 'tap'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inspectLines } from '../../src/commands/inspect.js'
import { readHeaderSync } from '../../src/dicom/read-header.js'
import { parseColumn } from '../../src/pipeline/columns.js'
import { columnPlan, projectRow } from '../../src/transforms/project-keywords.js'
import { bin, dataSet, EXPLICIT_LE, part10, TS } from '../fixtures/dicom-builder.js'
import { ROOT, runCli } from '../fixtures/cli.js'

t.test('every element, items indented, each with a path the pipeline accepts', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'ct.dcm')
  writeFileSync(
    file,
    part10(
      dataSet(
        [
          { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
          { tag: 0x00100010, vr: 'PN', value: Buffer.from('Müller^Anna', 'latin1') },
          { tag: 0x00190010, vr: 'LO', value: 'GEMS_ACQU_01' },
          { tag: 0x00191023, vr: 'DS', value: '0.984375' },
          {
            tag: 0x0040030e,
            vr: 'SQ',
            undefinedLength: true,
            value: [
              [{ tag: 0x00189345, vr: 'FD', value: bin.fd(7.25) }],
              [{ tag: 0x00189345, vr: 'FD', value: bin.fd(8.5) }],
            ],
          },
          { tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(64) },
        ],
        EXPLICIT_LE,
      ),
      TS.explicitLE,
    ),
  )
  const lines = inspectLines(file)
  t.match(lines[0], /transfer syntax 1\.2\.840\.10008\.1\.2\.1, explicit VR little endian/)
  const body = lines.slice(1).map((l) => l.replace(/\s+/g, ' ').trim())
  t.same(body.slice(-7), [
    '(0008,0005) CS SpecificCharacterSet ISO_IR 100',
    '(0010,0010) PN PatientName Müller^Anna',
    '(0019,0010) LO 0019,0010 GEMS_ACQU_01',
    '(0019,1023) DS 0019,xx23@GEMS_ACQU_01 0.984375',
    '(0040,030E) SQ ExposureDoseSequence 2 items',
    '(0018,9345) FD ExposureDoseSequence[0].CTDIvol 7.25',
    '(0018,9345) FD ExposureDoseSequence[1].CTDIvol 8.5',
  ])
  t.match(lines.at(-1), /^ {2}\(0018,9345\)/, 'items are indented')
  t.notMatch(lines.join('\n'), /PixelData/, 'pixel data is not read')
  for (const path of ['0019,xx23@GEMS_ACQU_01', 'ExposureDoseSequence[1].CTDIvol']) {
    t.equal(parseColumn(path).ok, true, `${path} is accepted by -k as printed`)
  }
})

t.test('the CLI: stdout, and one-line errors with their exit codes', async (t) => {
  const dir = t.testdir({ 'notes.txt': 'not DICOM' })
  const ok = await runCli(['inspect', 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm'])
  t.equal(ok.code, 0)
  t.match(ok.stdout, /\(0018,9345\) FD {2}CTDIvol +\d/)
  const notDicom = await runCli(['inspect', join(dir, 'notes.txt')])
  t.equal(notDicom.code, 65)
  t.match(notDicom.stderr, /notes\.txt: not DICOM/)
  const missing = await runCli(['inspect', join(dir, 'missing.dcm')])
  t.equal(missing.code, 66)
  t.match(missing.stderr, /missing\.dcm: cannot open: no such file or directory/)
})

t.test('review finding: a value holding an escape sequence is shown written out, not run', async (t) => {
  // Before: shorten() replaced only line breaks, so a DICOM value could clear the screen or
  // recolour it, or set the terminal's title, when a user inspected the file.
  const dir = t.testdir({})
  const file = join(dir, 'evil.dcm')
  writeFileSync(
    file,
    part10(
      dataSet(
        [
          // UTF-8, where an ESC is text (ISO 2022 sets take it as a code extension)
          { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' },
          { tag: 0x00081030, vr: 'LO', value: Buffer.from('\x1b[2J\x1b[31mred\u009b0m\x07', 'utf8') },
          { tag: 0x00190010, vr: 'LO', value: Buffer.from('ACME\x1b[0m', 'latin1') },
          { tag: 0x00191001, vr: 'LO', value: 'x' },
          { tag: 0x00204000, vr: 'LT', value: 'line 1\r\nline 2' },
        ],
        EXPLICIT_LE,
      ),
      TS.explicitLE,
    ),
  )
  const r = await runCli(['inspect', file])
  t.equal(r.code, 0)
  t.notMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, 'no control character but the line ends')
  t.match(r.stdout, /\(0008,1030\) LO {2}StudyDescription +\\x1b\[2J\\x1b\[31mred\\u009b0m\\x07\n/)
  t.match(r.stdout, /\(0019,1001\) LO {2}0019,xx01@ACME\\x1b\[0m +x\n/, 'a private creator too')
  t.match(r.stdout, /\(0020,4000\) LT {2}ImageComments +line 1 line 2\n/, 'line breaks still a space')
})

const OPENREM = join(ROOT, '..', 'shared', 'corpus', 'openrem')

t.test(
  'SR documents: the content tree as sr: paths, each read back by a column (issue 12)',
  { skip: existsSync(OPENREM) ? false : `no ${OPENREM} here` },
  async (t) => {
    const rdsr = join(OPENREM, 'CT-RDSR-GEPixelMed.dcm')
    const r = await runCli(['inspect', rdsr])
    t.equal(r.code, 0)
    t.equal(r.stderr, '')
    t.match(
      r.stdout,
      /^\(0040,A730\) SQ {2}ContentSequence +SR content: sr: paths below$/m,
      'the elements are not listed',
    )
    t.notMatch(r.stdout, /ContentSequence\[/, '... nor their items')
    t.match(r.stdout, /^# SR content "X-Ray Radiation Dose Report" \(DCM:113701\): each sr: path is a column/m)
    t.match(
      r.stdout,
      /^sr:113811\/113813 +NUM +CT Accumulated Dose Data > CT Dose Length Product Total = 586\.34 mGy\.cm$/m,
    )
    t.match(r.stdout, /^sr:113819\[1\]\/113829\/113830 +NUM +CT Acquisition > CT Dose > Mean CTDIvol = 222\.59 mGy$/m)
    t.match(
      r.stdout,
      /^sr:113819\[0\]\/113820 +CODE +CT Acquisition > CT Acquisition Type = Spiral Acquisition \(SRT:P5-08001\)$/m,
    )
    const elements = await runCli(['inspect', '--elements', rdsr])
    t.match(
      elements.stdout,
      /ContentSequence\[\d+\]\.ConceptNameCodeSequence\[0\]\.CodeValue/,
      '--elements lists them too',
    )

    // Every path printed, of every OpenREM file, is a column that gives the value printed.
    for (const name of readdirSync(OPENREM).filter((n) => n.endsWith('.dcm'))) {
      const file = join(OPENREM, name)
      const lines = inspectLines(file).filter((line) => line.startsWith('sr:'))
      if (!lines.some((line) => line.includes(' NUM '))) continue
      const shown = lines.map((line) => /^(\S+) +(\S+) +.*?(?: = (.*))?$/.exec(line) as RegExpExecArray)
      const cols = shown.map(([, path]) => {
        const parsed = parseColumn(path)
        if (!parsed.ok) throw new Error(`${name}: ${parsed.message}`)
        return parsed.column
      })
      const row = projectRow({ path: file, header: readHeaderSync(file, columnPlan(cols)) }, cols)
      let numbers = 0
      shown.forEach(([, path, type, value], i) => {
        if (type !== 'NUM' || value === undefined) return
        numbers++
        const [stored] = value.split(' ')
        if (Number(row[i]) !== Number(stored)) t.fail(`${name}: ${path} gives ${row[i]}, shown ${stored}`)
      })
      t.ok(numbers > 0, `${name}: ${numbers} NUM paths read back as shown`)
    }
  },
)
