// etl keywords: the dictionary search (plain functions), then the command spawned.
import t from 'tap'
import { spawn } from 'node:child_process'
import { allEntries } from '../../src/dicom/keywords.js'
import {
  formatCsv,
  formatTable,
  keywordName,
  keywordsReport,
  searchKeywords,
  type KeywordRow,
} from '../../src/commands/keywords.js'
import { CLI, ROOT, parseCsv, runCli } from '../fixtures/cli.js'

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

t.test('the table: aligned columns, name last, retired marked; CSV with a retired column', async (t) => {
  const rows = searchKeywords('DataSetType').slice(0, 1).concat(searchKeywords('CTDIvol').slice(0, 1))
  t.equal(
    formatTable(rows),
    [
      'keyword      tag          VR  VM  name',
      'DataSetType  (0008,0040)  US  1   Data Set Type (retired)',
      'CTDIvol      (0018,9345)  FD  1   CTDIvol',
      '',
    ].join('\n'),
  )
  t.equal(
    formatCsv(rows),
    [
      'keyword,tag,vr,vm,name,retired',
      'DataSetType,"(0008,0040)",US,1,Data Set Type,true',
      'CTDIvol,"(0018,9345)",FD,1,CTDIvol,false',
      '',
    ].join('\n'),
  )
})

t.test('the report: stdout with matches (exit 0), "no match" on stderr (exit 1)', async (t) => {
  const cases: [string | undefined, 0 | 1, RegExp, RegExp][] = [
    ['ctdi', 0, /^keyword +tag +VR +VM +name\nCTDIvol /, /^$/],
    ['SliceLocaton', 1, /^$/, /^etl: no match for "SliceLocaton" \(did you mean "SliceLocation"\?\)\n$/],
    ['0009,0010', 1, /^$/, /^etl: no match for "0009,0010" \(odd groups are private tags/],
    ['qqqqqqqq', 1, /^$/, /^etl: no match for "qqqqqqqq"\n$/],
  ]
  for (const [text, exitCode, stdout, stderr] of cases) {
    const r = keywordsReport(text)
    t.equal(r.exitCode, exitCode, `${text}: exit code`)
    t.match(r.stdout, stdout, `${text}: stdout`)
    t.match(r.stderr, stderr, `${text}: stderr`)
  }
  t.match(keywordsReport('0018,9345', { csv: true }).stdout, /^keyword,tag,vr,vm,name,retired\nCTDIvol,/)
})

t.test('etl keywords, spawned: exit code, stdout and stderr apart', async (t) => {
  const ctdi = await runCli(['keywords', 'ctdi'])
  t.equal(ctdi.code, 0, ctdi.stderr)
  t.equal(ctdi.stderr, '')
  t.match(ctdi.stdout.split('\n')[1], /^CTDIvol +\(0018,9345\) +FD +1 +CTDIvol$/)

  const words = await runCli(['keywords', 'slice', 'location'])
  t.equal(words.code, 0)
  t.match(words.stdout.split('\n')[1], /^SliceLocation +\(0020,1041\) +DS +1 +Slice Location$/, 'unquoted words')

  const csv = await runCli(['keywords', '(0018,9345)', '--csv'])
  t.equal(csv.code, 0)
  t.same(parseCsv(csv.stdout), [
    ['keyword', 'tag', 'vr', 'vm', 'name', 'retired'],
    ['CTDIvol', '(0018,9345)', 'FD', '1', 'CTDIvol', 'false'],
  ])

  const all = await runCli(['keywords', '--csv'])
  t.equal(parseCsv(all.stdout).length, [...allEntries()].length + 1, 'no text: the whole dictionary')

  const none = await runCli(['keywords', 'nosuchattributeatall'])
  t.equal(none.code, 1)
  t.equal(none.stdout, '')
  t.match(none.stderr, /^etl: no match for "nosuchattributeatall"\n$/)

  const bad = await runCli(['keywords', 'ctdi', '--bogus'])
  t.equal(bad.code, 64)
  t.equal(bad.stdout, '')
  t.match(bad.stderr, /Unknown argument: bogus/)

  const help = await runCli(['keywords', '--help'])
  t.match(help.stdout, /Examples:[\s\S]*etl keywords ctdi/)
  const top = await runCli(['--help'])
  t.match(top.stdout, /etl keywords \[text\.\.\]/)
})

t.test('etl keywords | head: a closed stdout ends quietly', async (t) => {
  const child = spawn(process.execPath, [CLI, 'keywords'], { cwd: ROOT })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.equal(code, 0)
  t.equal(stderr, '')
})
