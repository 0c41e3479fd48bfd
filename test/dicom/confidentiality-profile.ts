// The PS3.15 Table E.1-1 list against the table: well-known rows, as the 2023 edition's table
// (and the earlier edition innolitics/dicom-standard extracts) gives their Basic Profile code.
import t from 'tap'
import { profiledAttribute, profiledKeyword, profileEntries } from '../../src/dicom/confidentiality-profile.js'
import { lookupKeyword, parseTag } from '../../src/dicom/keywords.js'

t.test('well-known rows of Table E.1-1 have the Basic Profile code the table gives', async (t) => {
  const rows: [string, string, string][] = [
    // keyword, tag, Basic Prof.
    ['PatientName', '0010,0010', 'Z'],
    ['PatientID', '0010,0020', 'Z'],
    ['PatientBirthDate', '0010,0030', 'Z'],
    ['PatientSex', '0010,0040', 'Z'],
    ['PatientAge', '0010,1010', 'X'],
    ['AccessionNumber', '0008,0050', 'Z'],
    ['StudyDate', '0008,0020', 'Z'],
    ['StudyTime', '0008,0030', 'Z'],
    ['SeriesDate', '0008,0021', 'X/D'],
    ['AcquisitionDate', '0008,0022', 'X/Z'],
    ['ContentDate', '0008,0023', 'Z/D'],
    ['InstanceCreationDate', '0008,0012', 'X/D'],
    ['ReferringPhysicianName', '0008,0090', 'Z'],
    ['InstitutionName', '0008,0080', 'X/Z/D'],
    ['StationName', '0008,1010', 'X/Z/D'],
    ['DeviceSerialNumber', '0018,1000', 'X/Z/D'],
    ['OperatorsName', '0008,1070', 'X/Z/D'],
    ['ProtocolName', '0018,1030', 'X/D'],
    ['StudyInstanceUID', '0020,000D', 'U'],
    ['SeriesInstanceUID', '0020,000E', 'U'],
    ['SOPInstanceUID', '0008,0018', 'U'],
    ['IrradiationEventUID', '0008,3010', 'U'],
    ['ReferencedImageSequence', '0008,1140', 'X/Z/U*'],
    // Changed in the 2023 edition (earlier: X/D, X, D).
    ['StructureSetTime', '3006,0009', 'Z'],
    ['TreatmentMachineName', '300A,00B2', 'X/Z'],
    ['TreatmentSite', '3010,0077', 'X/D'],
  ]
  for (const [keyword, tag, basic] of rows) {
    const entry = profiledKeyword(keyword)
    t.equal(entry?.basic, basic, `${keyword}: ${basic}`)
    t.equal(entry?.tag, parseTag(tag), `${keyword} is (${tag})`)
    t.equal(profiledAttribute(parseTag(tag) ?? 0)?.basic, basic, `(${tag}) by tag`)
  }
})

t.test('attributes the table does not name are not profiled; private, curve and overlay groups are X', async (t) => {
  for (const keyword of ['Modality', 'CTDIvol', 'KVP', 'Manufacturer', 'SOPClassUID', 'BodyPartExamined']) {
    const entry = lookupKeyword(keyword)
    t.ok(entry, keyword)
    t.equal(profiledAttribute(entry?.tag ?? 0), undefined, `${keyword}: not in the table`)
  }
  t.equal(profiledAttribute(0x00191023)?.basic, 'X', 'a private attribute')
  t.equal(profiledAttribute(0x60024000)?.basic, 'X', 'overlay comments of group 6002')
  t.equal(profiledAttribute(0x50000005)?.basic, 'X', 'curve data')
  t.equal(profiledAttribute(0x60000010), undefined, 'overlay rows are not in the table')
})

t.test('the list: 606 tags, each known to the dictionary, each with a suggested action', async (t) => {
  const entries = [...profileEntries().values()]
  t.equal(entries.length, 606)
  t.same(
    entries.filter((e) => e.keyword === undefined).map((e) => e.tag),
    [],
    'every tag has a keyword',
  )
  const counts: Record<string, number> = {}
  for (const e of entries) counts[e.basic] = (counts[e.basic] ?? 0) + 1
  t.same(counts, { D: 92, Z: 43, X: 369, U: 54, 'Z/D': 5, 'X/Z': 11, 'X/D': 22, 'X/Z/D': 8, 'X/Z/U*': 2 })
  const suggested = (keyword: string) => profiledKeyword(keyword)?.suggested
  t.same(
    Object.fromEntries(
      [
        'PatientID',
        'PatientName',
        'OtherPatientNames',
        'PatientBirthDate',
        'PatientBirthTime',
        'PatientAge',
        'PatientSex',
        'AccessionNumber',
        'StudyInstanceUID',
        'AffectedSOPInstanceUID',
        'StudyTime',
        'InstitutionName',
        'ConsultingPhysicianName',
        'StudyDescription',
        'PlacerOrderNumberImagingServiceRequest',
      ].map((k) => [k, suggested(k)]),
    ),
    {
      PatientID: 'pseudonym',
      PatientName: 'pseudonym',
      OtherPatientNames: 'remove',
      PatientBirthDate: 'shift_date',
      PatientBirthTime: 'remove',
      PatientAge: 'age_band',
      PatientSex: 'remove',
      AccessionNumber: 'pseudonym',
      StudyInstanceUID: 'uid',
      AffectedSOPInstanceUID: 'remove',
      StudyTime: 'shift_date',
      InstitutionName: 'pseudonym',
      ConsultingPhysicianName: 'pseudonym',
      StudyDescription: 'remove',
      PlacerOrderNumberImagingServiceRequest: 'pseudonym',
    },
  )
})
