// The dictionary search: names derived from keywords, the ranking, the rows.
import t from 'tap'
import { allEntries } from '../../src/dicom/keywords.js'
import { keywordName, searchKeywords, type KeywordRow } from '../../src/dicom/search-keywords.js'

t.test('names derived from keywords, as PS3.6 prints them', async (t) => {
  const cases: [string, string][] = [
    ['SliceLocation', 'Slice Location'],
    ['CTDIvol', 'CTDIvol'],
    ['CTDIPhantomTypeCodeSequence', 'CTDI Phantom Type Code Sequence'],
    ['XRayTubeCurrent', 'X-Ray Tube Current'],
    ['XRayTubeCurrentInmA', 'X-Ray Tube Current in mA'],
    ['ExposureInuAs', 'Exposure in uAs'],
    ['CTXRayDetailsSequence', 'CT X-Ray Details Sequence'],
    ['SOPClassUID', 'SOP Class UID'],
    ['PatientID', 'Patient ID'],
    ['OtherPatientIDs', 'Other Patient IDs'],
    ['KVP', 'KVP'],
    ['NumberOfFrames', 'Number of Frames'],
    ['AcquisitionDateTime', 'Acquisition DateTime'],
    ['ContrastBolusT1Relaxivity', 'Contrast Bolus T1 Relaxivity'],
    ['FocalLengthIn35mmFilm', 'Focal Length in 35mm Film'],
    ['ThreeDPointCoordinates', '3D Point Coordinates'],
    ['XRay3DFrameTypeSequence', 'X-Ray 3D Frame Type Sequence'],
    ['VOILUTFunction', 'VOI LUT Function'],
    ['RTROIObservationsSequence', 'RT ROI Observations Sequence'],
    ['RecommendedDisplayCIELabValue', 'Recommended Display CIELab Value'],
    ['dBdt', 'dB/dt'],
  ]
  for (const [keyword, name] of cases) t.equal(keywordName(keyword), name, keyword)
})

t.test('every name spells its keyword: same letters and digits, in order', async (t) => {
  // The one liberty: TwoD and ThreeD are written 2D and 3D, as PS3.6 does.
  const fold = (s: string) =>
    s
      .replace(/TwoD(?![a-z])/g, '2D')
      .replace(/ThreeD(?![a-z])/g, '3D')
      .replace(/[^A-Za-z0-9]/g, '')
      .toLowerCase()
  const wrong = [...allEntries()].filter((e) => fold(keywordName(e.keyword)) !== fold(e.keyword))
  t.same(
    wrong.map((e) => `${e.keyword} -> ${keywordName(e.keyword)}`),
    [],
  )
})

const keywordsOf = (rows: KeywordRow[]) => rows.map((r) => r.keyword)

t.test('search: tags, keywords, fragments, words of the name; best first', async (t) => {
  // [query, the first keywords of the result (or all of it, when `all`)]
  const cases: [string, string[], 'all' | 'first'][] = [
    ['CTDIvol', ['CTDIvol'], 'first'],
    ['ctdivol', ['CTDIvol'], 'first'],
    ['ctdi', ['CTDIvol', 'CTDIPhantomTypeCodeSequence', 'CTDIvolNotificationTrigger'], 'first'],
    ['0018,9345', ['CTDIvol'], 'all'],
    ['(0018,9345)', ['CTDIvol'], 'all'],
    ['00189345', ['CTDIvol'], 'all'],
    ['0018 9345', ['CTDIvol'], 'all'],
    ['slice location', ['SliceLocation', 'SliceLocationVector'], 'all'],
    ['Slice-Location', ['SliceLocation', 'SliceLocationVector'], 'all'],
    ['x-ray tube current', ['XRayTubeCurrent', 'XRayTubeCurrentInuA', 'XRayTubeCurrentInmA'], 'all'],
    ['current tube', ['XRayTubeCurrent', 'XRayTubeCurrentInuA', 'XRayTubeCurrentInmA'], 'all'],
    ['tube', ['TubeAngle', 'XRayTubeCurrent'], 'first'],
    ["Patient's Name", ['PatientName'], 'first'],
    ['  PatientID  ', ['PatientID'], 'first'],
    ['6002,3000', ['OverlayData'], 'all'],
    ['(60xx,3000)', ['OverlayData'], 'all'],
    ['50XX,0005', ['CurveDimensions'], 'all'],
    ['0009,0010', [], 'all'],
    ['(0018,0000)', [], 'all'],
    ['zzzz', [], 'all'],
    ['--', [], 'all'],
  ]
  for (const [query, expected, how] of cases) {
    const found = keywordsOf(searchKeywords(query))
    t.same(how === 'all' ? found : found.slice(0, expected.length), expected, query)
  }
})

t.test('search: every hit contains the text; mid-word hits after word starts; current before retired', async (t) => {
  const ctdi = keywordsOf(searchKeywords('ctdi'))
  t.ok(
    ctdi.every((k) => k.toLowerCase().includes('ctdi')),
    'a fragment is a case-insensitive substring',
  )
  t.ok(ctdi.indexOf('SubjectDistance') > ctdi.indexOf('CTDIvolNotificationTrigger'), 'subje(ctDi)stance comes last')
  const overlay = searchKeywords('overlay').filter((r) => r.keyword.startsWith('Overlay'))
  const lastCurrent = overlay.map((r) => r.retired).lastIndexOf(false)
  const firstRetired = overlay.map((r) => r.retired).indexOf(true)
  t.ok(firstRetired > 0 && lastCurrent < firstRetired, 'among keywords starting with Overlay, retired ones last')
})

t.test('rows: tag text, VRs spelled out, repeating groups, retired', async (t) => {
  const first = (q: string) => searchKeywords(q)[0]
  t.same(first('CTDIvol'), {
    keyword: 'CTDIvol',
    tag: '(0018,9345)',
    vr: 'FD',
    vm: '1',
    name: 'CTDIvol',
    retired: false,
  })
  t.match(first('0008,0040'), { keyword: 'DataSetType', retired: true })
  t.match(first('SmallestImagePixelValue'), { vr: 'US or SS' })
  t.match(first('OverlayData'), { tag: '(60xx,3000)', vr: 'OB or OW' })
  t.match(first('CurveData'), { tag: '(50xx,3000)', retired: true })
  t.match(first('LUTData'), { vr: 'US or OW' })
  t.match(first('OffsetOfTheNextDirectoryRecord'), { vr: 'UL' })
  t.match(first('ItemDelimitationItem'), { tag: '(FFFE,E00D)', vr: '' })
})

t.test('no text lists the whole dictionary in tag order', async (t) => {
  const all = searchKeywords()
  t.equal(all.length, [...allEntries()].length)
  t.same(searchKeywords('   '), all, 'blank text too')
  t.equal(all[0].keyword, 'CommandGroupLength')
  const tags = all.map((r) => r.tag.replace(/xx/, '00'))
  t.same(tags, [...tags].sort(), 'sorted by tag')
})
