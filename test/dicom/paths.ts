import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parsePath } from '../../src/dicom/paths.js'
import type { DataElement } from '../../src/dicom/data-element.js'
import { readHeaderSync } from '../../src/dicom/read-header.js'
import { planRead } from '../../src/dicom/read-plan.js'
import { scanHeader } from '../../src/dicom/scan-header.js'
import { parseColumn } from '../../src/pipeline/columns.js'
import type { ColumnSpec } from '../../src/pipeline/spec.js'
import { packBatch, unpackBatch } from '../../src/sources/read-batch.js'
import { columnPlan, projectRow } from '../../src/transforms/project-keywords.js'
import { ROOT } from '../fixtures/cli.js'
import { bin, dataSet, EXPLICIT_LE, IMPLICIT_LE, part10, TS, type El } from '../fixtures/dicom-builder.js'

const CORPUS = join(ROOT, '..', 'shared', 'corpus')

function columns(...texts: string[]): ColumnSpec[] {
  return texts.map((text) => {
    const parsed = parseColumn(text)
    if (!parsed.ok) throw new Error(parsed.message)
    return parsed.column
  })
}

/** The row of a file for some column texts, as the pipeline reads it. */
function row(file: string, ...texts: string[]): string[] {
  const cols = columns(...texts)
  return projectRow({ path: file, header: readHeaderSync(file, columnPlan(cols)) }, cols)
}

t.test('path syntax: steps, items, private creators, and what is refused', async (t) => {
  const good: [string, object[]][] = [
    ['CTDIvol', [{ tag: 0x00189345 }]],
    ['ExposureDoseSequence[0].CTDIvol', [{ tag: 0x0040030e, item: 0 }, { tag: 0x00189345 }]],
    ['(0040,030E)[*].0018,9345', [{ tag: 0x0040030e, item: '*' }, { tag: 0x00189345 }]],
    ['0019,xx23@GEMS_ACQU_01', [{ tag: 0x00190023, creator: 'GEMS_ACQU_01' }]],
    ['(0029,xx10@SIEMENS CSA HEADER)', [{ tag: 0x00290010, creator: 'SIEMENS CSA HEADER' }]],
    ['0019,1023', [{ tag: 0x00191023 }]],
  ]
  for (const [text, steps] of good) t.same(parsePath(text), { ok: true, steps }, text)
  const bad: [string, RegExp][] = [
    ['ExposureDoseSequence.CTDIvol', /say which items, e\.g\. ExposureDoseSequence\[0\]/],
    ['CTDIvol[0].KVP', /CTDIvol is not a sequence \(VR FD\)/],
    ['ExposureDoseSequence', /is a sequence: select an attribute inside it/],
    ['ExposureDoseSequence[0]', /selects items: add the attribute inside them/],
    ['0019,xx23', /needs its private creator/],
    ['0018,xx23@ACME', /a private creator names an odd \(private\) group/],
    ['ExposureDoseSequence[0].CTDIVol', /unknown keyword "CTDIVol" \(did you mean "CTDIvol"\?\)/],
    ['CTDIvol..KVP', /cannot read/],
    ['FFFE,E000', /item delimiter/],
  ]
  for (const [text, message] of bad) {
    const r = parsePath(text)
    t.equal(r.ok, false, text)
    if (!r.ok) t.match(r.message, message, text)
  }
  t.match(
    columns('ExposureDoseSequence[0].CTDIvol')[0],
    { name: 'ExposureDoseSequence[0].CTDIvol' },
    'named as written',
  )
})

t.test('nested items in both encodings, and an item with its own character set', async (t) => {
  const items = (explicitName: string): El[] => [
    { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
    {
      tag: 0x0040030e,
      vr: 'SQ',
      undefinedLength: true,
      value: [
        [{ tag: 0x00189345, vr: 'FD', value: bin.fd(1.5) }],
        [
          { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' },
          { tag: 0x00100010, vr: 'PN', value: Buffer.from(explicitName, 'utf8') },
          { tag: 0x00189345, vr: 'FD', value: bin.fd(2.25) },
        ],
      ],
    },
  ]
  for (const [name, enc, ts] of [
    ['explicit', EXPLICIT_LE, TS.explicitLE],
    ['implicit', IMPLICIT_LE, TS.implicitLE],
  ] as const) {
    const cols = columns(
      'ExposureDoseSequence[*].CTDIvol',
      'ExposureDoseSequence[1].PatientName',
      'ExposureDoseSequence[5].CTDIvol',
    )
    const r = scanHeader(part10(dataSet(items('Jérôme^Ñandú'), enc), ts), true, columnPlan(cols))
    if (!r.done) throw new Error('unfinished')
    t.same(projectRow({ path: 'x', header: r.header }, cols), ['1.5\\2.25', 'Jérôme^Ñandú', ''], name)
  }
})

t.test('worker transport keeps a sequence and the encoding of its items', async (t) => {
  const el: DataElement = { tag: 0x0040030e, vr: 'SQ', value: Buffer.from([1, 2, 3]), explicit: false }
  const header = {
    elements: new Map([[el.tag, el]]),
    transferSyntaxUID: undefined,
    littleEndian: true,
    explicitVR: true,
    bytesRead: 3,
  }
  const [back] = unpackBatch(['x'], packBatch([{ path: 'x', header }]))
  t.match(back, { header: { elements: new Map([[el.tag, { vr: 'SQ', explicit: false }]]) } })
})

t.test('real files', { skip: existsSync(CORPUS) ? false : 'no ../shared/corpus here' }, async (t) => {
  const philips = join(CORPUS, 'openrem/CT-SC-Philips_Brilliance16P.dcm')
  t.same(row(philips, 'ExposureDoseSequence[*].CTDIvol', 'ExposureDoseSequence[1].CTDIvol'), [
    '0\\7.200978719152135\\11.32941264247715\\9.315682513246966',
    '7.200978719152135',
  ])
  const enhanced = join(CORPUS, 'dicomParser/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm')
  t.same(
    row(
      enhanced,
      'SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].SliceThickness',
      'PerFrameFunctionalGroupsSequence[*].PlanePositionSequence[0].ImagePositionPatient',
      'SliceThickness',
    ),
    ['10', '99.5\\-301.5\\-159\\99.5\\-301.5\\-149', ''],
    'Enhanced CT: per-frame and shared functional groups',
  )
  t.same(row(join(CORPUS, 'pydicom/CT_small.dcm'), '0009,xx01@GEMS_IDEN_01', '0009,xx01@NOBODY'), ['GE_GENESIS_FF', ''])
  t.same(row(join(CORPUS, 'dcm_qa_ct/Philips/S21570/S2010/I10'), '01f1,xx26@ELSCINT1'), ['0.391'])
  const padded = row(join(CORPUS, 'pydicom/MR_small_padded.dcm'), 'Rows', 'DataSetTrailingPadding')
  t.equal(padded[0], '64')
  t.equal(Buffer.from(padded[1], 'base64').length, 126, 'an element after Pixel Data is found by reading on')
  const headerOnly = readHeaderSync(join(CORPUS, 'pydicom/MR_small_padded.dcm'), planRead([0x00280010]))
  t.ok(headerOnly.bytesRead <= 8192, 'without such a tag the read stops before Pixel Data')
})
