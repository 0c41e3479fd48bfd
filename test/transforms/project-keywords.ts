import t from 'tap'
import { rowText, type Row } from '../../src/values.js'
import { Readable } from 'node:stream'
import type { FileHeader } from '../../src/dicom/read-header.js'
import { planRead } from '../../src/dicom/read-plan.js'
import { scanHeader } from '../../src/dicom/scan-header.js'
import { parseColumn } from '../../src/pipeline/columns.js'
import type { ColumnSpec } from '../../src/pipeline/spec.js'
import { columnTags, needsStat, projectKeywords, projectRow } from '../../src/transforms/project-keywords.js'
import { bin, dataSet, EXPLICIT_BE, part10, TS } from '../fixtures/dicom-builder.js'

const columns = (...texts: string[]): ColumnSpec[] =>
  texts.map((text) => {
    const parsed = parseColumn(text)
    if (!parsed.ok) throw new Error(parsed.message)
    return parsed.column
  })

/** A big-endian file with a Latin-1 name: the meta stays little endian, the data set does not. */
function header(cols: ColumnSpec[]): FileHeader {
  const bytes = part10(
    dataSet(
      [
        { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
        { tag: 0x00100010, vr: 'PN', value: Buffer.from('Müller^Jürgen', 'latin1') },
        { tag: 0x00280010, vr: 'US', value: bin.us(512, false) },
      ],
      EXPLICIT_BE,
    ),
    TS.explicitBE,
  )
  const r = scanHeader(bytes, true, planRead(columnTags(cols)))
  if (!r.done) throw new Error('unfinished')
  return { ...r.header, size: bytes.length, mtime: new Date('2026-01-02T03:04:05Z') }
}

t.test('a row per header, in column order; missing attributes are empty cells', async (t) => {
  const cols = columns(
    'PatientName',
    'Rows',
    'TransferSyntaxUID',
    'CTDIvol',
    'path',
    'size_bytes',
    'mtime',
    '0028,0010',
  )
  const h = header(cols)
  t.same(projectRow({ path: 'a/b.dcm', header: h }, cols), [
    'Müller^Jürgen',
    '512',
    TS.explicitBE,
    '',
    'a/b.dcm',
    String(h.size),
    '2026-01-02T03:04:05.000Z',
    '512',
  ])
})

t.test('what the columns need from the reader', async (t) => {
  t.same(columnTags(columns('path', 'Rows', 'CTDIvol')), [0x00280010, 0x00189345])
  t.equal(needsStat(columns('path', 'Rows')), false, 'path alone needs no stat')
  t.equal(needsStat(columns('Rows', 'size_bytes')), true)
  t.equal(needsStat(columns('mtime')), true)
})

t.test('as a stream, warnings name their file', async (t) => {
  const cols = columns('Rows')
  const bad = {
    ...header(cols),
    elements: new Map([[0x00280010, { tag: 0x00280010, vr: 'IS', value: Buffer.from('1A') }]]),
  }
  const warnings: string[] = []
  const rows: string[][] = []
  const stream = Readable.from([{ path: 'x.dcm', header: bad }]).compose(
    projectKeywords(cols, { onWarning: (path, message) => warnings.push(`${path}: ${message}`) }),
  )
  for await (const row of stream) rows.push(rowText(row as Row))
  t.same(rows, [['']])
  t.same(warnings, ['x.dcm: (0028,0010) IS value "1A" is not a valid number; left empty'])
})

t.test('issue 10: a damaged data set is a row; columns at or after the damage are empty with a warning', async (t) => {
  const { damagedFiles } = await import('../fixtures/hostile-files.js')
  const files = damagedFiles()
  const cols = columns('Modality', 'PatientName', 'SliceThickness', 'SliceLocation', 'Rows', 'TransferSyntaxUID')
  const rowOf = (bytes: Buffer) => {
    const r = scanHeader(bytes, true, planRead(columnTags(cols)))
    if (!r.done) throw new Error('unfinished')
    const warnings: string[] = []
    const row = projectRow({ path: 'x', header: r.header }, cols, { onWarning: (_p, m) => warnings.push(m) })
    return { row, warnings }
  }
  // pydicom 2.3.1 (dcmread force=True) reads `length` and `badVR` too, but gives SliceThickness
  // the rest of the file as its text ("5  \0A\x10DS\b\0-66.250 ...") and finds neither
  // SliceLocation nor Rows; we leave the damaged element empty rather than emit garbage.
  const length = rowOf(files.length)
  t.same(length.row, ['CT', 'Doe^Jane', '', '', '', '1.2.840.10008.1.2.1'])
  t.same(length.warnings, [
    'data set unreadable from (0018,0050) at byte 246: element (0018,0050) claims 65520 bytes, more than the file holds (282)',
    'SliceThickness: unreadable: element (0018,0050) claims 65520 bytes, more than the file holds (282)',
    'SliceLocation: unreadable: element (0018,0050) claims 65520 bytes, more than the file holds (282)',
    'Rows: unreadable: element (0018,0050) claims 65520 bytes, more than the file holds (282)',
  ])
  const badVR = rowOf(files.badVR)
  t.same(badVR.row, ['CT', 'Doe^Jane', '', '', '', '1.2.840.10008.1.2.1'])
  t.match(badVR.warnings, [
    /unreadable from \(0018,0050\) at byte 246: .* has no valid VR/,
    /^SliceThickness: unreadable/,
  ])
  // Damage before every wanted element: still a row, all of its data set cells empty. pydicom
  // fails on this file ("ValueError: embedded null character", reading the 65520-byte value).
  const first = rowOf(files.first)
  t.same(first.row, ['', '', '', '', '', '1.2.840.10008.1.2.1'])
  t.equal(first.warnings.length, 6, 'the damage, and each of the five data set columns')
})
