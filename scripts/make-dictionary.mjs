// Writes src/dicom/dictionary.json: dcmjs's data dictionary (PS3.6 keywords, tags, VR, VM) as
// compact JSON, so that starting etl costs a 2 ms JSON parse instead of loading dcmjs (38 ms).
// Run after upgrading dcmjs: `npm run dictionary`. test/dicom/keywords.ts checks it still
// equals dcmjs's.
import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'

const dcmjs = createRequire(import.meta.url)('dcmjs')
const entries = Object.values(dcmjs.data.DicomMetaDictionary.nameMap)
  .map((e) => [e.name, e.tag, e.vr, e.vm])
  .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
const out = new URL('../src/dicom/dictionary.json', import.meta.url)
writeFileSync(out, `[\n${entries.map((e) => JSON.stringify(e)).join(',\n')}\n]\n`)
console.log(`wrote ${entries.length} entries to ${out.pathname}`)
