import t from 'tap'
import { closeSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import { readHeader, readHeaderSync } from '../../src/dicom/read-header.js'
import { planRead } from '../../src/dicom/read-plan.js'
import { scanHeader, type Header } from '../../src/dicom/scan-header.js'
import { EtlError } from '../../src/errors.js'
import {
  bin,
  dataSet,
  encode,
  EXPLICIT_BE,
  EXPLICIT_LE,
  IMPLICIT_LE,
  part10,
  text,
  TS,
  type El,
  type Encoding,
} from '../fixtures/dicom-builder.js'

const Modality = 0x00080060
const PatientName = 0x00100010
const SliceThickness = 0x00180050
const CTDIvol = 0x00189345
const SliceLocation = 0x00201041
const Rows = 0x00280010

/** A CT-like data set: private undefined-length sequence, and pixel data after the header. */
function ct(enc: Encoding, pixelBytes = 4096): El[] {
  const fd = enc.little ? bin.fd : bin.fdBE
  return [
    { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
    { tag: 0x00080008, vr: 'CS', value: 'ORIGINAL\\PRIMARY\\AXIAL' },
    { tag: Modality, vr: 'CS', value: 'CT' },
    { tag: PatientName, vr: 'PN', value: 'Doe^Jane' },
    { tag: SliceThickness, vr: 'DS', value: '5' },
    { tag: CTDIvol, vr: 'FD', value: fd(18.36697247706422) },
    { tag: 0x00190010, vr: 'LO', value: 'ACME_PRIVATE' },
    {
      tag: 0x00191001,
      vr: 'SQ',
      undefinedLength: true,
      value: [
        [{ tag: 0x00191002, vr: 'SQ', undefinedLength: true, value: [[{ tag: 0x00080100, vr: 'SH', value: 'X' }]] }],
        [],
      ],
    },
    { tag: SliceLocation, vr: 'DS', value: '-66.250' },
    { tag: Rows, vr: 'US', value: bin.us(512, enc.little) },
    { tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(pixelBytes, 7) },
  ]
}

const plan = planRead([Modality, PatientName, CTDIvol, SliceLocation, Rows])

function scan(bytes: Buffer, p = plan): Header {
  const r = scanHeader(bytes, true, p)
  if (!r.done) throw new Error('expected a finished scan')
  return r.header
}

function value(h: Header, tag: number): Buffer | undefined {
  const v = h.elements.get(tag)?.value
  return v ? Buffer.from(v) : undefined
}

function scanError(bytes: Buffer, p = plan): EtlError {
  try {
    scanHeader(bytes, true, p)
  } catch (e) {
    return e as EtlError
  }
  throw new Error('expected an error')
}

t.test('every uncompressed encoding, with and without file meta', async (t) => {
  const cases: [string, Buffer, Encoding][] = [
    ['explicit VR LE, Part-10', part10(dataSet(ct(EXPLICIT_LE), EXPLICIT_LE), TS.explicitLE), EXPLICIT_LE],
    ['implicit VR LE, Part-10', part10(dataSet(ct(IMPLICIT_LE), IMPLICIT_LE), TS.implicitLE), IMPLICIT_LE],
    ['explicit VR BE, Part-10', part10(dataSet(ct(EXPLICIT_BE), EXPLICIT_BE), TS.explicitBE), EXPLICIT_BE],
    [
      'encapsulated (JPEG): header is explicit LE',
      part10(dataSet(ct(EXPLICIT_LE), EXPLICIT_LE), TS.jpegBaseline),
      EXPLICIT_LE,
    ],
    ['raw data set, implicit LE', dataSet(ct(IMPLICIT_LE), IMPLICIT_LE), IMPLICIT_LE],
    ['raw data set, explicit LE', dataSet(ct(EXPLICIT_LE), EXPLICIT_LE), EXPLICIT_LE],
    ['raw data set, explicit BE', dataSet(ct(EXPLICIT_BE), EXPLICIT_BE), EXPLICIT_BE],
    [
      'meta without preamble',
      part10(dataSet(ct(EXPLICIT_LE), EXPLICIT_LE), TS.explicitLE, { preamble: false }),
      EXPLICIT_LE,
    ],
    ['meta without transfer syntax (sniffed)', part10(dataSet(ct(IMPLICIT_LE), IMPLICIT_LE), undefined), IMPLICIT_LE],
    [
      'implicit bytes under an explicit syntax',
      part10(dataSet(ct(IMPLICIT_LE), IMPLICIT_LE), TS.explicitLE),
      IMPLICIT_LE,
    ],
  ]
  for (const [name, bytes, enc] of cases) {
    const h = scan(bytes)
    t.equal(h.explicitVR, enc.explicit, `${name}: explicit`)
    t.equal(h.littleEndian, enc.little, `${name}: little endian`)
    t.same(value(h, Modality), text('CT'), `${name}: Modality`)
    t.same(value(h, PatientName), text('Doe^Jane'), `${name}: PatientName`)
    t.same(value(h, SliceLocation), text('-66.250'), `${name}: SliceLocation after the private sequence`)
    const fd = value(h, CTDIvol) as Buffer
    t.equal(enc.little ? fd.readDoubleLE(0) : fd.readDoubleBE(0), 18.36697247706422, `${name}: CTDIvol`)
    t.equal(h.elements.has(SliceThickness), false, `${name}: unrequested elements are not kept`)
    t.equal(h.elements.get(Rows)?.vr, 'US', `${name}: VR (from the dictionary when implicit)`)
  }
})

t.test('deflated explicit VR little endian', async (t) => {
  const bytes = part10(deflateRawSync(dataSet(ct(EXPLICIT_LE), EXPLICIT_LE)), TS.deflated)
  const h = scan(bytes)
  t.same(value(h, PatientName), text('Doe^Jane'))
  t.equal(h.transferSyntaxUID, TS.deflated)
  t.match(scanHeader(bytes.subarray(0, 200), false, plan), { done: false }, 'a prefix asks for the whole file')
})

t.test('a UN element of undefined length holds implicit VR items (CP-246)', async (t) => {
  const un: El = {
    tag: 0x00191001,
    vr: 'SQ',
    undefinedLength: true,
    value: [[{ tag: 0x00191002, vr: 'LO', value: 'inner' }]],
  }
  const items = dataSet([un], IMPLICIT_LE).subarray(8)
  const head = Buffer.from([0x19, 0, 0x01, 0x10, 0x55, 0x4e, 0, 0, 0xff, 0xff, 0xff, 0xff])
  const bytes = part10(
    Buffer.concat([
      dataSet([{ tag: Modality, vr: 'CS', value: 'CT' }], EXPLICIT_LE),
      head,
      items,
      dataSet([{ tag: SliceLocation, vr: 'DS', value: '1.5' }], EXPLICIT_LE),
    ]),
    TS.explicitLE,
  )
  t.same(value(scan(bytes), SliceLocation), text('1.5'))
})

t.test('the scan stops at the last requested tag and before pixel data', async (t) => {
  const bytes = part10(dataSet(ct(EXPLICIT_LE), EXPLICIT_LE), TS.explicitLE)
  const early = planRead([Modality])
  const cut = bytes.indexOf(Buffer.from('Doe^Jane'))
  const r = scanHeader(bytes.subarray(0, cut), true, early)
  t.ok(r.done, 'a file cut after the last requested tag still gives its values')
  const prefix = scanHeader(bytes.subarray(0, 200), false, plan)
  t.match(prefix, { done: false }, 'a short prefix asks for more bytes')
  if (!prefix.done) t.ok(prefix.need > 200)
})

t.test('bad files: each has its code and a reason', async (t) => {
  const good = part10(dataSet(ct(EXPLICIT_LE), EXPLICIT_LE), TS.explicitLE)
  const cutAt = good.indexOf(Buffer.from('-66.250')) + 2
  const huge = Buffer.from(good)
  huge.writeUInt16LE(0xfff0, good.indexOf(Buffer.from('Doe^Jane')) - 2)
  const deep: El = { tag: 0x00191001, vr: 'SQ', undefinedLength: true, value: [] }
  let nested: El = deep
  for (let i = 0; i < 70; i++) {
    const inner: El = { tag: 0x00191001, vr: 'SQ', undefinedLength: true, value: [] }
    nested.value = [[inner]]
    nested = inner
  }
  const cases: [string, Buffer, string, RegExp][] = [
    ['text', Buffer.from('This is not DICOM, just some notes about a study.\n'), 'E_NOT_DICOM', /not DICOM/],
    ['JSON', Buffer.from('{"00100010": {"vr": "PN"}}'), 'E_NOT_DICOM', /not DICOM/],
    ['gzip', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), 'E_NOT_DICOM', /not DICOM/],
    [
      'a stray byte before a raw data set',
      Buffer.concat([Buffer.from(' '), dataSet(ct(IMPLICIT_LE), IMPLICIT_LE)]),
      'E_NOT_DICOM',
      /not DICOM/,
    ],
    ['preamble and DICM only', Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')]), 'E_EMPTY', /no file meta/],
    ['cut inside a requested element', good.subarray(0, cutAt), 'E_TRUNCATED', /ends inside element \(0020,1041\)/],
    [
      'cut between element headers',
      good.subarray(0, good.indexOf(Buffer.from('Doe^Jane')) - 5),
      'E_TRUNCATED',
      /file ends/,
    ],
    [
      'a file meta element without VR',
      Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([2, 0, 0x10, 0, 0x3f, 0x3f, 2, 0, 0x31, 0])]),
      'E_CORRUPT',
      /file meta element \(0002,0010\) has no valid VR/,
    ],
  ]
  for (const [name, bytes, code, reason] of cases) {
    const e = scanError(bytes, plan)
    t.equal(e.code, code, `${name}: code`)
    t.match(e.message, reason, `${name}: reason`)
  }
  // Damage in the data set: what comes before it is read, and the header says where it is
  // (issue 10: a row with warnings, as pydicom reads such files, rather than a failure).
  const damaged: [string, Buffer, number, RegExp][] = [
    ['length beyond the file', huge, PatientName, /\(0010,0010\) claims 65520 bytes, more than the file holds/],
    [
      'sequences nested 70 deep',
      part10(dataSet([deep], EXPLICIT_LE), TS.explicitLE),
      0x00191001,
      /nested deeper than 64/,
    ],
    [
      'an element without VR in an explicit data set',
      part10(
        Buffer.concat([
          dataSet(ct(EXPLICIT_LE).slice(0, 2), EXPLICIT_LE),
          Buffer.from([8, 0, 0x60, 0, 0x63, 0x74, 2, 0, 0x43, 0x54]),
        ]),
        TS.explicitLE,
      ),
      Modality,
      /\(0008,0060\) at byte \d+ has no valid VR/,
    ],
  ]
  for (const [name, bytes, tag, reason] of damaged) {
    const h = scan(bytes, name === 'sequences nested 70 deep' ? planRead([0x00200000]) : plan)
    t.equal(h.damage?.tag, tag, `${name}: the damaged element`)
    t.match(h.damage?.reason, reason, `${name}: reason`)
  }
  t.same(value(scan(huge), Modality), text('CT'), 'values before the damage are read')

  // A length made shorter than its value: the scan lands inside the value, on bytes that are no
  // element. Past the last wanted tag that looked like the clean end of the scan (review of
  // issue 10): it is damage at the element before, so later columns say they are unreadable.
  const description = encode({ tag: 0x00081030, vr: 'LO', value: 'CT Head and Thorax' }, EXPLICIT_LE)
  description.writeUInt16LE(description.readUInt16LE(6) - 4, 6)
  const shortened = part10(
    Buffer.concat([
      dataSet(ct(EXPLICIT_LE).slice(0, 1), EXPLICIT_LE),
      description,
      dataSet([{ tag: PatientName, vr: 'PN', value: 'Doe^Jane' }], EXPLICIT_LE),
    ]),
    TS.explicitLE,
  )
  const cut = scan(shortened, planRead([0x00081030, PatientName]))
  t.equal(cut.damage?.tag, 0x00081030, 'a shortened length: damage at the element before the garbage')
  t.match(cut.damage?.reason, /after \(0008,1030\), no element at byte \d+ \(its length is wrong\)/)
  t.equal(value(cut, PatientName), undefined, 'and what follows is not found')
  t.equal(
    scan(shortened, planRead([0x00081030])).damage?.tag,
    0x00081030,
    'said even when nothing is wanted past it: the value read may be cut short',
  )
})

t.test('readHeader reads a first chunk and grows only when the header goes on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etl-read-'))
  const file = join(dir, 'ct.dcm')
  writeFileSync(file, part10(dataSet(ct(EXPLICIT_LE, 512 * 1024), EXPLICIT_LE), TS.explicitLE))
  const h = await readHeader(file, plan)
  t.same(value(h, SliceLocation), text('-66.250'))
  t.equal(h.bytesRead, 8192, 'a 512 KB image costs one 8 KiB read')
  const small = await readHeader(file, plan, { chunkSize: 64 })
  t.same(value(small, SliceLocation), text('-66.250'), 'a tiny first chunk grows until the header is read')
  t.ok(small.bytesRead < 2048, `and stops growing at the header's end (read ${small.bytesRead})`)
  const withStat = await readHeader(file, plan, { stat: true })
  t.ok(withStat.size && withStat.size > 512 * 1024, 'size from fstat')
  t.ok(withStat.mtime instanceof Date, 'mtime from fstat')
  writeFileSync(join(dir, 'empty.dcm'), '')
  await t.rejects(readHeader(join(dir, 'empty.dcm'), plan), { code: 'E_NOT_DICOM', message: 'empty file' })
  await t.rejects(readHeader(join(dir, 'missing.dcm'), plan), { code: 'E_READ', message: /no such file/ })
  await t.rejects(readHeader(dir, plan), { code: 'E_READ', message: /directory/ })
})

t.test('implicit VR: ambiguous dictionary VRs resolved (US or SS by Pixel Representation, up as UL)', async (t) => {
  const { projectRow } = await import('../../src/transforms/project-keywords.js')
  const { parseColumn } = await import('../../src/pipeline/columns.js')
  const cols = ['SmallestImagePixelValue', 'OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity'].map((k) => {
    const parsed = parseColumn(k)
    if (!parsed.ok) throw new Error(parsed.message)
    return parsed.column
  })
  for (const [representation, expected] of [
    [1, '-100'],
    [0, '65436'],
  ] as const) {
    const bytes = dataSet(
      [
        { tag: 0x00041200, vr: 'UL', value: bin.ul(390) },
        { tag: 0x00080060, vr: 'CS', value: 'MR' },
        { tag: 0x00280103, vr: 'US', value: bin.us(representation) },
        { tag: 0x00280106, vr: 'SS', value: Buffer.from([0x9c, 0xff]) },
      ],
      IMPLICIT_LE,
    )
    const r = scanHeader(bytes, true, planRead([0x00280106, 0x00041200]))
    if (!r.done) throw new Error('unfinished')
    t.same(
      projectRow({ path: 'x', header: r.header }, cols),
      [expected, '390'],
      `Pixel Representation ${representation}`,
    )
  }
})

/** Records the largest Buffer allocated while `fn` runs. */
async function largestAllocation<T>(fn: () => T | Promise<T>): Promise<[T, number]> {
  const saved = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow }
  let largest = 0
  const spy =
    <F extends (size: number, ...rest: never[]) => Buffer>(f: F) =>
    (size: number, ...rest: never[]) => {
      largest = Math.max(largest, size)
      return f(size, ...rest)
    }
  Buffer.alloc = spy(saved.alloc) as typeof Buffer.alloc
  Buffer.allocUnsafe = spy(saved.allocUnsafe) as typeof Buffer.allocUnsafe
  Buffer.allocUnsafeSlow = spy(saved.allocUnsafeSlow) as typeof Buffer.allocUnsafeSlow
  try {
    return [await fn(), largest]
  } finally {
    Object.assign(Buffer, saved)
  }
}

/** A data set with an unwanted OB value of `size` bytes before PatientName (issue 10). */
function bigValueFirst(size: number, fill = 0): El[] {
  return [
    { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
    { tag: Modality, vr: 'CS', value: 'CT' },
    { tag: 0x00091001, vr: 'OB', value: Buffer.alloc(size, fill) },
    { tag: 0x00091002, vr: 'OB', value: Buffer.alloc(3000, 1) },
    { tag: PatientName, vr: 'PN', value: 'Doe^Jane' },
    { tag: SliceLocation, vr: 'DS', value: '-66.250' },
    { tag: Rows, vr: 'US', value: bin.us(512) },
    { tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(1 << 20, 7) },
  ]
}

t.test('issue 10: an unwanted value longer than the window is jumped over, not read', async (t) => {
  const { readHeaderSync } = await import('../../src/dicom/read-header.js')
  const dir = t.testdir({})
  const file = join(dir, 'big-ob.dcm')
  writeFileSync(file, part10(dataSet(bigValueFirst(20 << 20), EXPLICIT_LE), TS.explicitLE))
  for (const [name, read] of [
    ['async', () => readHeader(file, plan)],
    ['sync', () => readHeaderSync(file, plan, { buffer: Buffer.alloc(8192) })],
    ['sync, 256-byte windows', () => readHeaderSync(file, plan, { chunkSize: 256 })],
  ] as const) {
    const [h, largest] = await largestAllocation(read)
    t.same(value(h, PatientName), text('Doe^Jane'), `${name}: PatientName after the 20 MB value`)
    t.same(value(h, Modality), text('CT'), `${name}: Modality before it (a view into the first window)`)
    t.same(value(h, SliceLocation), text('-66.250'), `${name}: SliceLocation`)
    t.equal(h.elements.get(Rows)?.vr, 'US', `${name}: Rows`)
    t.ok(h.bytesRead <= 3 * 8192, `${name}: ${h.bytesRead} bytes read, not 20 MB`)
    t.ok(largest < 64 * 1024, `${name}: largest buffer ${largest} bytes`)
  }
  const cut = join(dir, 'cut.dcm')
  const whole = part10(dataSet(bigValueFirst(1 << 20), EXPLICIT_LE), TS.explicitLE)
  // Cut inside the value: its length fits the file, its end does not.
  writeFileSync(cut, whole.subarray(0, (1 << 20) + 100))
  await t.rejects(readHeader(cut, plan), { code: 'E_TRUNCATED', message: /ends inside element \(0009,1001\)/ })
  const header = readHeaderSync(file, planRead([Modality]))
  t.ok(header.bytesRead <= 8192, 'a scan that ends before the big value reads one chunk')
})

t.test('issue 10: a deflated data set is inflated only up to the last wanted tag, in pieces', async (t) => {
  const { readHeaderSync } = await import('../../src/dicom/read-header.js')
  const dir = t.testdir({})
  const file = join(dir, 'bomb.dcm')
  // 60 MB of zeros before PatientName: about 60 KB compressed.
  const bytes = part10(deflateRawSync(dataSet(bigValueFirst(60 << 20), EXPLICIT_LE), { level: 9 }), TS.deflated)
  writeFileSync(file, bytes)
  for (const [name, read] of [
    ['async', () => readHeader(file, plan)],
    ['sync', () => readHeaderSync(file, plan)],
    ['whole buffer', () => scan(bytes)],
  ] as const) {
    const [h, largest] = await largestAllocation(read)
    t.same(value(h, PatientName), text('Doe^Jane'), `${name}: PatientName after 60 MB of inflated zeros`)
    t.same(value(h, SliceLocation), text('-66.250'), `${name}: SliceLocation`)
    t.ok(largest < 1 << 20, `${name}: largest buffer ${largest} bytes, not the inflated 60 MB`)
  }
  // Incompressible pixel data after the header: only the compressed header is read.
  const random = Buffer.alloc(4 << 20)
  for (let i = 0, x = 1; i < random.length; i++) random[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24
  const image = join(dir, 'image.dcm')
  const ctFile = part10(
    deflateRawSync(
      Buffer.concat([
        dataSet(ct(EXPLICIT_LE).slice(0, -1), EXPLICIT_LE),
        dataSet([{ tag: 0x7fe00010, vr: 'OB', value: random }], EXPLICIT_LE),
      ]),
    ),
    TS.deflated,
  )
  writeFileSync(image, ctFile)
  const h = readHeaderSync(image, plan)
  t.same(value(h, SliceLocation), text('-66.250'))
  t.ok(h.bytesRead < 128 * 1024, `${h.bytesRead} bytes read of a ${ctFile.length}-byte file`)
  writeFileSync(join(dir, 'cut.dcm'), bytes.subarray(0, 40_000))
  // A cut stream (the inflater knows: its last block never came) ending inside the header is a
  // truncated file, as a cut file that is not deflated is (review of issue 10: it was read as
  // a data set that ends there, a row of empty cells).
  t.throws(() => readHeaderSync(join(dir, 'cut.dcm'), plan), {
    code: 'E_TRUNCATED',
    message: /file ends inside the deflated header/,
  })
})

t.test('issue 10: reads in flight share a budget: one large read at a time', async (t) => {
  const { ReadBudget } = await import('../../src/dicom/read-budget.js')
  const dir = t.testdir({})
  const big = 0x00091001
  const files = Array.from({ length: 8 }, (_, i) => {
    const file = join(dir, `wanted-${i}.dcm`)
    writeFileSync(file, part10(dataSet(bigValueFirst(3 << 20, i), EXPLICIT_LE), TS.explicitLE))
    return file
  })
  const budget = new ReadBudget(1 << 20)
  const wanted = planRead([big, PatientName])
  const headers = await Promise.all(files.map((file) => readHeader(file, wanted, { budget })))
  headers.forEach((h, i) => {
    t.equal(h.elements.get(big)?.value.length, 3 << 20, `file ${i}: the wanted 3 MB value`)
    t.equal(h.elements.get(big)?.value[12345], i, `file ${i}: its own bytes`)
    t.same(value(h, PatientName), text('Doe^Jane'), `file ${i}: PatientName`)
  })
  t.equal(budget.maxLarge, 1, 'one large read at a time')
  // A large read holds its 3 MB window and the chunks before; each other read at most 1 MiB.
  t.ok(budget.maxHeld <= (3 << 20) + 3 * 8192 + 7 * (1 << 20), `at most ${budget.maxHeld} bytes held at once`)
  t.equal(budget.held, 0, 'all released')
  await t.rejects(readHeader(files[0], wanted, { budget, maxBytes: 1 << 20 }), {
    code: 'E_UNSUPPORTED',
    message: /goes on past 1048576 bytes/,
  })
  t.equal(budget.held, 0, 'released after a failure too')
})

t.test('review of issue 10: a long unwanted sequence or encapsulated pixel data is walked, not read', async (t) => {
  const dir = t.testdir({})
  const BIG = 300 * 1024 * 1024
  const u32 = (n: number) => bin.ul(n)
  const item = (length: number) => Buffer.concat([Buffer.from([0xfe, 0xff, 0x00, 0xe0]), u32(length)])
  const ITEM_END = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0])
  const SEQUENCE_END = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0])
  const undefinedLength = (group: number, element: number, vr: string) =>
    Buffer.concat([bin.us(group), bin.us(element), Buffer.from(vr), Buffer.alloc(2), u32(0xffffffff)])
  /** Writes head, then `gap` bytes of holes (a sparse file), then tail. */
  const sparse = (name: string, head: Buffer, gap: number, tail: Buffer) => {
    const file = join(dir, name)
    writeFileSync(file, head)
    const fd = openSync(file, 'r+')
    writeSync(fd, tail, 0, tail.length, head.length + gap)
    closeSync(fd)
    return file
  }
  const patient = dataSet([{ tag: PatientName, vr: 'PN', value: 'Doe^Jane' }], EXPLICIT_LE)
  const trailer = dataSet([{ tag: 0x7fe10010, vr: 'LO', value: 'TRAILER' }], EXPLICIT_LE)
  const meta = (ts: string) => part10(Buffer.alloc(0), ts)

  // A private sequence before PatientName: an undefined-length item holding a 300 MB OB value.
  const sequence = sparse(
    'sequence.dcm',
    Buffer.concat([
      meta(TS.explicitLE),
      undefinedLength(0x0009, 0x1010, 'SQ'),
      item(0xffffffff),
      Buffer.concat([bin.us(0x0009), bin.us(0x1011), Buffer.from('OB'), Buffer.alloc(2), u32(BIG)]),
    ]),
    BIG,
    Buffer.concat([ITEM_END, SEQUENCE_END, patient]),
  )
  // JPEG pixel data in one 300 MB fragment, then a wanted private element after it.
  const encapsulated = sparse(
    'encapsulated.dcm',
    Buffer.concat([meta(TS.jpegBaseline), patient, undefinedLength(0x7fe0, 0x0010, 'OB'), item(0), item(BIG)]),
    BIG,
    Buffer.concat([SEQUENCE_END, trailer]),
  )
  const wanted = planRead([PatientName, 0x7fe10010])
  for (const file of [sequence, encapsulated]) {
    const h = readHeaderSync(file, wanted)
    t.same(value(h, PatientName), text('Doe^Jane'), `${file}: PatientName`)
    t.ok(h.bytesRead < 64 * 1024, `${file}: ${h.bytesRead} bytes read of ${statSync(file).size}`)
    const async = await readHeader(file, wanted)
    t.same(value(async, PatientName), text('Doe^Jane'), `${file}: the same asynchronously`)
  }
  t.same(value(readHeaderSync(encapsulated, wanted), 0x7fe10010), text('TRAILER'), 'the element after the pixel data')
  // A broken item deep in a walked sequence: damage at the sequence, as in one window; what
  // came before is still read (third review of issue 10: the walk failed the whole file).
  const broken = Buffer.concat([
    meta(TS.explicitLE),
    dataSet([{ tag: Modality, vr: 'CS', value: 'CT' }], EXPLICIT_LE),
    undefinedLength(0x0008, 0x1140, 'SQ'),
    item(0xffffffff),
    dataSet([{ tag: 0x00091010, vr: 'OB', value: Buffer.alloc(20000) }], EXPLICIT_LE),
    Buffer.from([0x09, 0, 0x11, 0x10, 0x5a, 0x5a, 2, 0, 1, 2]),
    ITEM_END,
    SEQUENCE_END,
    patient,
  ])
  writeFileSync(join(dir, 'broken.dcm'), broken)
  const damaged = readHeaderSync(join(dir, 'broken.dcm'), planRead([Modality, PatientName]))
  t.same(value(damaged, Modality), text('CT'), 'the value before the broken sequence')
  t.match(damaged.damage, { tag: 0x00081140, reason: /\(0009,1011\) at byte \d+ has no valid VR/ })

  // Cut inside the walked sequence, read in one window or walked: the sequence is damaged there.
  writeFileSync(join(dir, 'cut.dcm'), readFileSync(sequence).subarray(0, 4096))
  t.match(readHeaderSync(join(dir, 'cut.dcm'), wanted).damage, { tag: 0x00091010 }, 'cut in the first window')
  writeFileSync(join(dir, 'cut2.dcm'), Buffer.concat([readFileSync(sequence).subarray(0, 4096), Buffer.alloc(20000)]))
  t.match(
    readHeaderSync(join(dir, 'cut2.dcm'), wanted, { chunkSize: 1024 }).damage,
    { tag: 0x00091010, reason: /\(0009,1011\) claims 314572800 bytes, more than the file holds/ },
    'walked: the same',
  )
})
