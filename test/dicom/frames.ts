// Tests of src/dicom/frames.ts: data sets built from bytes for one rule each (shared only,
// per-frame over shared over top level, missing and broken items, character sets, UN, the read
// plan), then the Enhanced and classic multi-frame files of ../shared/corpus against pydicom
// (test/fixtures/frames-oracle.py prints each frame's values as pydicom finds them).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCharsets } from '../../src/dicom/charset.js'
import { formatValue } from '../../src/dicom/format-value.js'
import { FRAME_TAGS, frameElements, numberOfFrames, type FrameElement } from '../../src/dicom/frames.js'
import { lookupKeyword } from '../../src/dicom/keywords.js'
import { latin1, type DataElement } from '../../src/dicom/data-element.js'
import { planRead } from '../../src/dicom/read-plan.js'
import { readHeaderSync } from '../../src/dicom/read-header.js'
import { scanHeader, type Header } from '../../src/dicom/scan-header.js'
import { ROOT } from '../fixtures/cli.js'
import {
  bin,
  dataSet,
  EXPLICIT_BE,
  EXPLICIT_LE,
  IMPLICIT_LE,
  part10,
  TS,
  type El,
  type Encoding,
} from '../fixtures/dicom-builder.js'
import { sameValue } from '../fixtures/same-value.js'

const tag = (keyword: string): number => {
  const entry = lookupKeyword(keyword)
  if (!entry) throw new Error(`no keyword ${keyword}`)
  return entry.tag
}

const SpecificCharacterSet = 0x00080005
const Modality = tag('Modality')
const SliceThickness = tag('SliceThickness')
const PixelSpacing = tag('PixelSpacing')
const ImagePositionPatient = tag('ImagePositionPatient')
const CTDIvol = tag('CTDIvol')
const InStackPositionNumber = tag('InStackPositionNumber')
const FrameAcquisitionDateTime = tag('FrameAcquisitionDateTime')
const FrameLabel = tag('FrameLabel')
const NumberOfFrames = tag('NumberOfFrames')
const Shared = tag('SharedFunctionalGroupsSequence')
const PerFrame = tag('PerFrameFunctionalGroupsSequence')
const PixelMeasures = tag('PixelMeasuresSequence')
const PlanePosition = tag('PlanePositionSequence')
const CTExposure = tag('CTExposureSequence')
const FrameContent = tag('FrameContentSequence')

/** One macro: a sequence of one item. */
const macro = (sq: number, elements: El[], undefinedLength = false): El => ({
  tag: sq,
  vr: 'SQ',
  value: [elements],
  undefinedLength,
})

const position = (z: number): El => macro(PlanePosition, [{ tag: ImagePositionPatient, vr: 'DS', value: `0\\0\\${z}` }])
const content = (n: number, undefinedLength = false, little = true): El =>
  macro(
    FrameContent,
    [
      { tag: FrameAcquisitionDateTime, vr: 'DT', value: `2024031209281${n}` },
      { tag: InStackPositionNumber, vr: 'UL', value: bin.ul(n, little) },
    ],
    undefinedLength,
  )

/** An Enhanced CT-like data set: top level, shared item, per-frame items (tags ascending). */
function enhanced(
  shared: El[][] | undefined,
  perFrame: El[][],
  frames: string | undefined,
  undefinedLength = false,
): El[] {
  const elements: El[] = [
    { tag: SpecificCharacterSet, vr: 'CS', value: 'ISO_IR 100' },
    { tag: Modality, vr: 'CS', value: 'CT' },
    { tag: SliceThickness, vr: 'DS', value: '5.000' },
  ]
  if (frames !== undefined) elements.push({ tag: NumberOfFrames, vr: 'IS', value: frames })
  if (shared) elements.push({ tag: Shared, vr: 'SQ', value: shared, undefinedLength })
  elements.push({ tag: PerFrame, vr: 'SQ', value: perFrame, undefinedLength })
  elements.push({ tag: 0x7fe00010, vr: 'OB', value: Buffer.alloc(16) })
  return elements
}

const plan = planRead([Modality, SliceThickness, PixelSpacing, ImagePositionPatient, CTDIvol, ...FRAME_TAGS])

function header(elements: El[], enc: Encoding = EXPLICIT_LE, p = plan): Header {
  const syntax = enc.explicit ? (enc.little ? TS.explicitLE : TS.explicitBE) : TS.implicitLE
  const result = scanHeader(part10(dataSet(elements, enc), syntax), true, p)
  if (!result.done) throw new Error('expected a finished scan')
  return result.header
}

/** A frame element's text, as the projector writes it (its item's character set, if it has one). */
function cell(frame: Map<number, FrameElement>, t: number, h: Header): string {
  const element = frame.get(t)
  if (!element) return ''
  const top = h.elements.get(SpecificCharacterSet)
  const charsets = element.charsets ?? (top ? parseCharsets(latin1(top.value)) : [])
  return formatValue(element, { littleEndian: h.littleEndian, charsets })
}

/** Each frame's cells of the given tags. */
function table(h: Header, tags: number[], warn?: (m: string) => void): string[][] {
  const frames = frameElements(h.elements, h.littleEndian, { warn })
  if (!frames) throw new Error('expected frames')
  return frames.map((frame) => tags.map((x) => cell(frame, x, h)))
}

t.test('shared values, per-frame over shared over top level, in every encoding', async (t) => {
  const cases: [string, Encoding, boolean][] = [
    ['explicit VR LE', EXPLICIT_LE, false],
    ['explicit VR LE, undefined lengths', EXPLICIT_LE, true],
    ['implicit VR LE', IMPLICIT_LE, false],
    ['implicit VR LE, undefined lengths', IMPLICIT_LE, true],
    ['explicit VR BE', EXPLICIT_BE, false],
  ]
  for (const [name, enc, undefinedLength] of cases) {
    const fd = enc.little ? bin.fd : bin.fdBE
    const shared = [
      [
        macro(PixelMeasures, [
          { tag: SliceThickness, vr: 'DS', value: '0.625' },
          { tag: PixelSpacing, vr: 'DS', value: '0.488281\\0.488281' },
        ]),
        position(-10),
        macro(CTExposure, [{ tag: CTDIvol, vr: 'FD', value: fd(12.5) }], undefinedLength),
      ],
    ]
    const perFrame = [
      [content(1, undefinedLength, enc.little)],
      [content(2, undefinedLength, enc.little), position(-9.375)],
      [content(3, false, enc.little), macro(CTExposure, [{ tag: CTDIvol, vr: 'FD', value: fd(18.36697247706422) }])],
    ]
    const h = header(enhanced(shared, perFrame, '3', undefinedLength), enc)
    const before = [...h.elements.keys()]
    const warnings: string[] = []
    const tags = [Modality, SliceThickness, PixelSpacing, ImagePositionPatient, CTDIvol, InStackPositionNumber]
    t.same(
      table(h, [...tags, FrameAcquisitionDateTime], (m) => warnings.push(m)),
      [
        ['CT', '0.625', '0.488281\\0.488281', '0\\0\\-10', '12.5', '1', '20240312092811'],
        ['CT', '0.625', '0.488281\\0.488281', '0\\0\\-9.375', '12.5', '2', '20240312092812'],
        ['CT', '0.625', '0.488281\\0.488281', '0\\0\\-10', '18.36697247706422', '3', '20240312092813'],
      ],
      name,
    )
    t.same(warnings, [], `${name}: no warning`)
    t.same([...h.elements.keys()], before, `${name}: the top level is left as it was`)
    t.equal(cell(new Map(h.elements), SliceThickness, h), '5', `${name}: its SliceThickness too`)
  }
})

t.test('frames keep the macro sequences, for paths into them', async (t) => {
  const h = header(enhanced([[position(1)]], [[content(1)], [position(2)]], '2'))
  const frames = frameElements(h.elements, h.littleEndian)!
  t.equal(frames[0].get(PlanePosition)?.vr, 'SQ', 'the shared macro')
  t.equal(frames[0].get(FrameContent)?.vr, 'SQ', 'the per-frame macro')
  t.equal(frames[1].has(FrameContent), false, 'only in the frames that have it')
  t.equal(frames[0].get(PerFrame), h.elements.get(PerFrame), 'the functional group sequences stay, shared')
})

t.test('shared only, no shared, and missing items', async (t) => {
  const shared = [[position(7), macro(PixelMeasures, [{ tag: SliceThickness, vr: 'DS', value: '1.25' }])]]
  const cases: [string, El[][] | undefined, El[][], string[][]][] = [
    [
      'shared only, per-frame items empty',
      shared,
      [[], []],
      [
        ['0\\0\\7', '1.25'],
        ['0\\0\\7', '1.25'],
      ],
    ],
    [
      'no shared sequence: per-frame over top level',
      undefined,
      [[position(1)], []],
      [
        ['0\\0\\1', '5'],
        ['', '5'],
      ],
    ],
    ['a shared sequence with no item', [], [[position(1)]], [['0\\0\\1', '5']]],
    [
      'a per-frame macro with no item hides nothing',
      shared,
      [[{ tag: PlanePosition, vr: 'SQ', value: [] }]],
      [['0\\0\\7', '1.25']],
    ],
    ['a macro with an empty item', shared, [[{ tag: PlanePosition, vr: 'SQ', value: [[]] }]], [['0\\0\\7', '1.25']]],
  ]
  for (const [name, sharedItems, perFrame, expected] of cases) {
    const h = header(enhanced(sharedItems, perFrame, String(perFrame.length)))
    t.same(table(h, [ImagePositionPatient, SliceThickness]), expected, name)
  }
})

t.test('NumberOfFrames: the items are trusted, a mismatch is told', async (t) => {
  const cases: [string, string | undefined, string[]][] = [
    ['agrees', '2', []],
    ['agrees, padded', ' 2 ', []],
    [
      'says 3',
      '3',
      ['NumberOfFrames (0028,0008) is 3; the frames are the 2 items of PerFrameFunctionalGroupsSequence (5200,9230)'],
    ],
    [
      'invalid',
      '1A',
      [
        'NumberOfFrames (0028,0008) is "1A"; the frames are the 2 items of PerFrameFunctionalGroupsSequence (5200,9230)',
      ],
    ],
    [
      'absent',
      undefined,
      [
        'NumberOfFrames (0028,0008) is absent; the frames are the 2 items of PerFrameFunctionalGroupsSequence (5200,9230)',
      ],
    ],
  ]
  for (const [name, frames, expected] of cases) {
    const h = header(enhanced(undefined, [[position(1)], [position(2)]], frames))
    const warnings: string[] = []
    t.equal(
      frameElements(h.elements, h.littleEndian, { warn: (m) => warnings.push(m) })?.length,
      2,
      `${name}: 2 frames`,
    )
    t.same(warnings, expected, name)
  }
  const twoShared = header(enhanced([[position(1)], [position(2)]], [[]], '1'))
  const warnings: string[] = []
  const frames = frameElements(twoShared.elements, twoShared.littleEndian, { warn: (m) => warnings.push(m) })!
  t.equal(cell(frames[0], ImagePositionPatient, twoShared), '0\\0\\1', 'two shared items: the first is used')
  t.same(warnings, ['SharedFunctionalGroupsSequence (5200,9229) has 2 items; the first is used'])
})

t.test('single-frame and classic multi-frame data sets have no frames of their own', async (t) => {
  const classic = header([
    { tag: Modality, vr: 'CS', value: 'US' },
    { tag: NumberOfFrames, vr: 'IS', value: '15' },
  ])
  t.equal(frameElements(classic.elements, true), undefined, 'classic multi-frame: undefined')
  t.equal(numberOfFrames(classic.elements), 15, 'the caller repeats the top level NumberOfFrames times')
  const single = header([{ tag: Modality, vr: 'CS', value: 'CT' }])
  t.equal(frameElements(single.elements, true), undefined, 'single frame: undefined')
  t.equal(numberOfFrames(single.elements), undefined)
  const cases: [string, string, number | undefined][] = [
    ['plain', '2', 2],
    ['padded', '12 ', 12],
    ['empty', '', undefined],
    ['invalid', '1A', undefined],
  ]
  for (const [name, value, expected] of cases) {
    const elements = new Map<number, DataElement>([
      [NumberOfFrames, { tag: NumberOfFrames, vr: 'IS', value: Buffer.from(value, 'latin1') }],
    ])
    t.equal(numberOfFrames(elements), expected, `numberOfFrames, ${name}: "${value}"`)
  }
})

t.test('broken items throw E_CORRUPT, naming the sequence, item and frame', async (t) => {
  const garbage = Buffer.from('not an item at all', 'latin1')
  const cases: [string, El[], RegExp][] = [
    [
      'per-frame sequence of garbage',
      [{ tag: PerFrame, vr: 'SQ', value: garbage }],
      /^PerFrameFunctionalGroupsSequence \(5200,9230\): broken items: .*expected an item/,
    ],
    [
      'shared sequence of garbage',
      [
        { tag: Shared, vr: 'SQ', value: garbage },
        { tag: PerFrame, vr: 'SQ', value: [[]] },
      ],
      /^SharedFunctionalGroupsSequence \(5200,9229\): broken items/,
    ],
    [
      'a broken macro in frame 2',
      [{ tag: PerFrame, vr: 'SQ', value: [[position(1)], [{ tag: PlanePosition, vr: 'SQ', value: garbage }]] }],
      /^PerFrameFunctionalGroupsSequence \(5200,9230\) item 2 \(frame 2\): PlanePositionSequence \(0020,9113\): broken items/,
    ],
    [
      'an element longer than its item',
      [
        {
          tag: PerFrame,
          vr: 'SQ',
          // An item of 12 bytes holding (0020,0032) DS of 100 bytes.
          value: Buffer.from([0xfe, 0xff, 0x00, 0xe0, 12, 0, 0, 0, 0x20, 0, 0x32, 0, 0x44, 0x53, 100, 0, 0x31, 0x20]),
        },
      ],
      /^PerFrameFunctionalGroupsSequence \(5200,9230\): broken items/,
    ],
    [
      'no item',
      [{ tag: PerFrame, vr: 'SQ', value: [] }],
      /^PerFrameFunctionalGroupsSequence \(5200,9230\) has no item$/,
    ],
    [
      'not a sequence',
      [{ tag: PerFrame, vr: 'OB', value: Buffer.alloc(4) }],
      /^PerFrameFunctionalGroupsSequence \(5200,9230\) is not a sequence \(VR OB\)$/,
    ],
  ]
  for (const [name, elements, message] of cases) {
    const h = header(elements)
    t.throws(() => frameElements(h.elements, true), { code: 'E_CORRUPT', message }, name)
  }
})

t.test("an item's own Specific Character Set applies to its elements and the macros inside", async (t) => {
  const utf8 = (s: string) => Buffer.from(s.length % 2 ? `${s} ` : s, 'utf8')
  const label = (s: Buffer): El => macro(FrameContent, [{ tag: FrameLabel, vr: 'LO', value: s }])
  const perFrame: El[][] = [
    [label(Buffer.from('Gr\xfc\xdfe', 'latin1'))],
    [{ tag: SpecificCharacterSet, vr: 'CS', value: 'ISO_IR 192' }, label(utf8('Grüße'))],
    [
      macro(FrameContent, [
        { tag: SpecificCharacterSet, vr: 'CS', value: 'ISO_IR 192' },
        { tag: FrameLabel, vr: 'LO', value: utf8('Größe') },
      ]),
    ],
  ]
  const h = header(enhanced(undefined, perFrame, '3'))
  const frames = frameElements(h.elements, true)!
  t.same(
    frames.map((f) => cell(f, FrameLabel, h)),
    ['Grüße', 'Grüße', 'Größe'],
    'the data set (latin1), the frame item (UTF-8), the macro item (UTF-8)',
  )
  t.same(
    frames.map((f) => f.get(FrameLabel)?.charsets),
    [undefined, ['ISO_IR 192'], ['ISO_IR 192']],
  )
  t.equal(cell(frames[1], SpecificCharacterSet, h), 'ISO_IR 100', "the frame's own (0008,0005) stays the data set's")
})

t.test('private elements of functional group items are left out', async (t) => {
  const h = header(
    [
      { tag: Modality, vr: 'CS', value: 'CT' },
      { tag: 0x00210010, vr: 'LO', value: 'TOP_CREATOR' },
      { tag: 0x00211001, vr: 'LO', value: 'top' },
      {
        tag: PerFrame,
        vr: 'SQ',
        value: [
          [
            { tag: 0x00210010, vr: 'LO', value: 'ITEM_CREATOR' },
            { tag: 0x00211001, vr: 'LO', value: 'item' },
            macro(0x00211002, [{ tag: ImagePositionPatient, vr: 'DS', value: '9\\9\\9' }]),
            macro(PlanePosition, [
              { tag: ImagePositionPatient, vr: 'DS', value: '1\\2\\3' },
              { tag: 0x00230010, vr: 'LO', value: 'MACRO_CREATOR' },
            ]),
          ],
        ],
      },
    ],
    EXPLICIT_LE,
    planRead([Modality, ...FRAME_TAGS], { groups: [0x0021] }),
  )
  const [frame] = frameElements(h.elements, true)!
  t.equal(cell(frame, 0x00210010, h), 'TOP_CREATOR', 'the top level private creator stays')
  t.equal(cell(frame, 0x00211001, h), 'top')
  t.equal(frame.has(0x00211002), false, 'a private macro is not flattened')
  t.equal(frame.has(0x00230010), false, 'nor a private element of a macro item')
  t.equal(cell(frame, ImagePositionPatient, h), '1\\2\\3')
})

t.test('a macro stored as UN is read as a sequence of implicit VR items', async (t) => {
  // (0020,9113) UN of defined length: its value is the implicit VR little endian items.
  const items = dataSet([position(4.5)], IMPLICIT_LE).subarray(8)
  const h = header([{ tag: PerFrame, vr: 'SQ', value: [[{ tag: PlanePosition, vr: 'UN', value: items }]] }])
  const [frame] = frameElements(h.elements, true)!
  t.equal(frame.get(PlanePosition)?.vr, 'SQ')
  t.equal(frame.get(ImagePositionPatient)?.vr, 'DS', 'the VR from the dictionary')
  t.equal(cell(frame, ImagePositionPatient, h), '0\\0\\4.5')
})

t.test('the read plan keeps the functional group sequences whole, however small the windows', async (t) => {
  const perFrame: El[][] = []
  for (let i = 1; i <= 300; i++) perFrame.push([content(i % 9, i % 2 === 0), position(i * 0.5)])
  const dir = t.testdir({})
  const cases: [string, boolean][] = [
    ['defined lengths', false],
    ['undefined lengths', true],
  ]
  for (const [name, undefinedLength] of cases) {
    const elements = enhanced(
      [[macro(PixelMeasures, [{ tag: SliceThickness, vr: 'DS', value: '2' }])]],
      perFrame,
      '300',
      undefinedLength,
    )
    // A long private sequence before them, unwanted: walked over, not kept.
    elements.splice(
      3,
      0,
      { tag: 0x00290010, vr: 'LO', value: 'X' },
      macro(0x00291001, [{ tag: 0x00291002, vr: 'OB', value: Buffer.alloc(20000) }], true),
    )
    const file = join(dir, `${undefinedLength ? 'undefined' : 'defined'}.dcm`)
    writeFileSync(file, part10(dataSet(elements, EXPLICIT_LE), TS.explicitLE))
    const whole = readHeaderSync(file, plan)
    const small = readHeaderSync(file, plan, { chunkSize: 256 })
    t.equal(small.damage, undefined, `${name}: no damage`)
    t.ok(
      small.bytesRead < 20000 + whole.elements.get(PerFrame)!.value.length,
      `${name}: the private sequence is not read`,
    )
    t.equal(small.elements.get(PerFrame)?.value.length, whole.elements.get(PerFrame)?.value.length, `${name}: whole`)
    const rows = table(small, [ImagePositionPatient, SliceThickness, InStackPositionNumber])
    t.equal(rows.length, 300, `${name}: 300 frames`)
    t.same(rows[299], ['0\\0\\150', '2', '3'], `${name}: the last frame`)
    t.same(
      rows,
      table(whole, [ImagePositionPatient, SliceThickness, InStackPositionNumber]),
      `${name}: as a whole read`,
    )
  }
})

// --- The corpus against pydicom ---

const PYTHON = '/usr/bin/python3'
const CORPUS = join(ROOT, '..', 'shared', 'corpus')
const ORACLE = join(ROOT, 'test/fixtures/frames-oracle.py')

interface OracleOutput {
  pydicom: string
  enhanced: { path: string; numberOfFrames: string | null; frames: Record<string, string | null>[] }[]
  classic: { path: string; numberOfFrames: string }[]
}

/** Why the corpus test cannot run here, or false. */
function skipReason(): string | false {
  if (!existsSync(CORPUS)) return `no ${CORPUS} (../shared is absent)`
  if (!existsSync(PYTHON)) return `no ${PYTHON}`
  const probe = spawnSync(PYTHON, ['-c', 'import pydicom'], { encoding: 'utf8' })
  if (probe.status !== 0) return `${PYTHON} cannot import pydicom (apt-get install python3-pydicom)`
  return false
}

/**
 * pydicom's value and ours the same: as text, or as numbers value by value (pydicom keeps DS as
 * stored, "99.5000", etl writes "99.5"); a FL as the same 32-bit float (pydicom widens it to a
 * double and prints all its digits: 0.10000000149011612, etl 0.1).
 */
function same(ours: string, theirs: string, element: DataElement | undefined): boolean {
  if (sameValue(ours, theirs)) return true
  if (element?.vr !== 'FL') return false
  const a = ours.split('\\')
  const b = theirs.split('\\')
  return a.length === b.length && a.every((x, i) => Math.fround(Number(b[i])) === Number(x))
}

t.test('the multi-frame files of the corpus against pydicom', { skip: skipReason() }, async (t) => {
  const run = spawnSync(PYTHON, [ORACLE, CORPUS], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (run.status !== 0) throw new Error(`frames-oracle.py exited ${run.status}: ${run.stderr}`)
  const oracle = JSON.parse(run.stdout) as OracleOutput
  t.comment(`pydicom ${oracle.pydicom}`)
  t.same(
    oracle.enhanced.map((e) => [e.path, e.frames.length]),
    [
      ['dicomParser/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm', 2],
      ['highdicom/seg_image_ct_binary.dcm', 3],
      ['pydicom/liver_1frame.dcm', 3],
    ],
    'the Enhanced files (with 5200,9230) and their frames',
  )
  const expectedWarnings: Record<string, string[]> = {
    'pydicom/liver_1frame.dcm': [
      'NumberOfFrames (0028,0008) is absent; the frames are the 3 items of PerFrameFunctionalGroupsSequence (5200,9230)',
    ],
  }
  let compared = 0
  for (const entry of oracle.enhanced) {
    const keywords = Object.keys(entry.frames[0])
    const tags = keywords.map(tag)
    const filePlan = planRead([...tags, ...FRAME_TAGS])
    const file = join(CORPUS, entry.path)
    for (const chunkSize of [undefined, 128]) {
      const h = readHeaderSync(file, filePlan, { chunkSize })
      const warnings: string[] = []
      const frames = frameElements(h.elements, h.littleEndian, { warn: (m) => warnings.push(m) })
      t.same(warnings, expectedWarnings[entry.path] ?? [], `${entry.path}: warnings`)
      t.equal(frames?.length, entry.frames.length, `${entry.path}: frames`)
      if (!frames) continue
      const differences: string[] = []
      entry.frames.forEach((values, i) => {
        keywords.forEach((keyword, k) => {
          const theirs = values[keyword]
          const element = frames[i].get(tags[k])
          const ours = cell(frames[i], tags[k], h)
          compared++
          const agree = theirs === null ? element === undefined : element !== undefined && same(ours, theirs, element)
          if (!agree) differences.push(`frame ${i + 1} ${keyword}: ours "${ours}", pydicom ${JSON.stringify(theirs)}`)
        })
      })
      t.same(differences, [], `${entry.path} (chunk ${chunkSize ?? 'default'}): ${keywords.length} keywords per frame`)
    }
  }
  t.comment(`${compared} values compared`)
  t.same(
    oracle.classic.map((c) => [c.path, c.numberOfFrames]),
    [
      ['pydicom/SC_rgb_rle_2frame.dcm', '2'],
      ['pydicom/badVR.dcm', '1A'],
      ['pydicom/rtdose.dcm', '15'],
    ],
    'the classic multi-frame files',
  )
  for (const c of oracle.classic) {
    const h = readHeaderSync(join(CORPUS, c.path), planRead(FRAME_TAGS))
    t.equal(frameElements(h.elements, h.littleEndian), undefined, `${c.path}: no frames of its own`)
    const count = numberOfFrames(h.elements)
    t.equal(
      count === undefined ? undefined : String(count),
      /^\d+$/.test(c.numberOfFrames) ? c.numberOfFrames : undefined,
      `${c.path}: NumberOfFrames`,
    )
  }
})
