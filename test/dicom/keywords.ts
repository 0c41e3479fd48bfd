import t from 'tap'
import { formatTag, lookupKeyword, lookupTag, parseTag, suggestKeyword } from '../../src/dicom/keywords.js'

t.test('keywords resolve to tag and VR from the dcmjs dictionary', async (t) => {
  t.match(lookupKeyword('CTDIvol'), { tag: 0x00189345, vr: 'FD', retired: false })
  t.match(lookupKeyword('TransferSyntaxUID'), { tag: 0x00020010, vr: 'UI' })
  t.equal(lookupKeyword('CTDIVol'), undefined, 'keywords are case-sensitive')
})

t.test('tags resolve, retired and repeating groups included', async (t) => {
  t.match(lookupTag(0x00280010), { keyword: 'Rows', vr: 'US' })
  t.match(lookupTag(0x00080040), { keyword: 'DataSetType', retired: true })
  t.match(lookupTag(0x60023000), { keyword: 'OverlayData', tag: 0x60023000 })
  t.equal(lookupTag(0x00191023), undefined, 'private tags are unknown')
})

t.test('suggestions for typos', async (t) => {
  const cases: [string, string | undefined][] = [
    ['CTDIVol', 'CTDIvol'],
    ['slicelocation', 'SliceLocation'],
    ['SliceLocaton', 'SliceLocation'],
    ['PatientNmae', 'PatientName'],
    ['Zzzzzz', undefined],
  ]
  for (const [typo, expected] of cases) t.equal(suggestKeyword(typo), expected, typo)
})

t.test('tag text forms', async (t) => {
  for (const text of ['0018,9345', '(0018,9345)', '00189345', '(0018, 9345)', '0018 9345']) {
    t.equal(parseTag(text), 0x00189345, text)
  }
  for (const text of ['18,9345', '0018,93456', 'CTDIvol', '']) t.equal(parseTag(text), undefined, text)
  t.equal(formatTag(0x7fe00010), '(7FE0,0010)')
})

t.test('dictionary.json is the dictionary of dcmjs (regenerate with npm run dictionary)', async (t) => {
  const { createRequire } = await import('node:module')
  const { readFileSync } = await import('node:fs')
  const dcmjs = createRequire(import.meta.url)('dcmjs') as {
    data: { DicomMetaDictionary: { nameMap: Record<string, { name: string; tag: string; vr: string; vm: string }> } }
  }
  const fromDcmjs = Object.values(dcmjs.data.DicomMetaDictionary.nameMap)
    .map((e) => [e.name, e.tag, e.vr, e.vm])
    .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
  const compact = JSON.parse(readFileSync(new URL('../../src/dicom/dictionary.json', import.meta.url), 'utf8'))
  t.same(compact, fromDcmjs)
})

t.test('review of issue 10: private (odd) groups never take a repeating group entry', async (t) => {
  t.equal(lookupTag(0x60000010)?.keyword, 'OverlayRows', '(6000,0010) is OverlayRows')
  t.equal(lookupTag(0x60020010)?.keyword, 'OverlayRows', 'and so is (6002,0010), a repeating group')
  t.equal(lookupTag(0x60010010), undefined, '(6001,0010) is a private creator, not OverlayRows')
  t.equal(lookupTag(0x7fe10010), undefined, '(7FE1,0010) is a private creator, not pixel data')
})
