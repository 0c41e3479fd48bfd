/**
 * DICOM JSON (PS3.18 Annex F) written back as Part 10 bytes and read by the header scanner and
 * the projector: each value as a file holding it gives it.
 */
import t from 'tap'
import { dropMadeUpMeta, jsonToPart10, type JsonDataset } from '../../src/dicom/dicom-json.js'
import { scanHeader } from '../../src/dicom/scan-header.js'
import { parseColumn } from '../../src/pipeline/columns.js'
import type { ColumnSpec } from '../../src/pipeline/spec.js'
import { projectRow } from '../../src/transforms/project-keywords.js'
import { columnPlan } from '../../src/transforms/project-keywords.js'

/** The cells of a data set's row for columns written as with -k. */
function cells(dataset: JsonDataset, keywords: string[]): string[] {
  const columns = keywords.map((k) => {
    const parsed = parseColumn(k)
    if (!parsed.ok) throw new Error(parsed.message)
    return parsed.column
  }) as ColumnSpec[]
  const { bytes } = jsonToPart10(dataset)
  const scanned = scanHeader(bytes, true, columnPlan(columns))
  if (!scanned.done) throw new Error('not done')
  const header = { ...scanned.header, textUtf8: true }
  dropMadeUpMeta(header.elements)
  return projectRow({ path: 'x', header }, columns)
}

const cases: [string, JsonDataset, string[], string[]][] = [
  ['DS as a JSON number', { '00189345': { vr: 'DS', Value: [9.75] } }, ['CTDIvol'], ['9.75']],
  ['DS as a string (CP-1861)', { '00180050': { vr: 'DS', Value: ['1.50'] } }, ['SliceThickness'], ['1.5']],
  [
    'DS and IS as strings, multi-valued',
    { '00200032': { vr: 'DS', Value: ['-234.375', '0', '84.375'] }, '00200013': { vr: 'IS', Value: ['7'] } },
    ['ImagePositionPatient', 'InstanceNumber'],
    ['-234.375\\0\\84.375', '7'],
  ],
  [
    'PN component groups, up to the last given',
    {
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: '' }] },
    },
    ['PatientName'],
    ['Yamada^Tarou=山田^太郎='],
  ],
  [
    'UTF-8 text whatever Specific Character Set says',
    { '00080005': { vr: 'CS', Value: ['ISO_IR 100'] }, '00081030': { vr: 'LO', Value: ['Thorax – 5 mm'] } },
    ['SpecificCharacterSet', 'StudyDescription'],
    ['ISO_IR 100', 'Thorax – 5 mm'],
  ],
  [
    'AT as hex',
    { '00209165': { vr: 'AT', Value: ['00209056', '00209057'] } },
    ['DimensionIndexPointer'],
    ['(0020,9056)\\(0020,9057)'],
  ],
  ['US and a missing value', { '00280010': { vr: 'US', Value: [512] } }, ['Rows', 'Columns'], ['512', '']],
  ['InlineBinary', { '00091010': { vr: 'OB', InlineBinary: 'AQID' } }, ['0009,1010'], ['AQIDAA==']],
  ['BulkDataURI: empty', { '7FE00010': { vr: 'OB', BulkDataURI: 'http://x/bulk' } }, ['PixelData'], ['']],
  [
    'a sequence, read by path',
    {
      '00081140': {
        vr: 'SQ',
        Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3'] } }, { '00081155': { vr: 'UI', Value: ['1.2.4'] } }],
      },
    },
    ['ReferencedImageSequence[1].ReferencedSOPInstanceUID', 'ReferencedImageSequence[*].ReferencedSOPInstanceUID'],
    ['1.2.4', '1.2.3\\1.2.4'],
  ],
  ['an empty attribute', { '00080090': { vr: 'PN' } }, ['ReferringPhysicianName'], ['']],
]

t.test('DICOM JSON values read as a file gives them', async (t) => {
  for (const [name, dataset, keywords, expected] of cases) t.strictSame(cells(dataset, keywords), expected, name)
})

t.test('not a data set', async (t) => {
  t.throws(() => jsonToPart10([] as unknown as JsonDataset), /not an object/)
  t.throws(() => jsonToPart10({ '0010': { vr: 'LO' } }), /not 8 hexadecimal digits/)
})

t.test('the made-up file meta is dropped', async (t) => {
  const { bytes } = jsonToPart10({ '00100020': { vr: 'LO', Value: ['P1'] } })
  const scanned = scanHeader(bytes, true, columnPlan([]))
  if (!scanned.done) throw new Error('not done')
  t.ok(scanned.header.elements.has(0x00020010))
  dropMadeUpMeta(scanned.header.elements)
  t.notOk([...scanned.header.elements.keys()].some((tag) => tag >>> 16 === 2))
})
