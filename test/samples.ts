// Checks the committed CT sample data set (samples/) against its model in
// scripts/sample-model.mjs: the file set is exactly the model's, the header
// values read back from the bytes with dcmjs are the model's, the exam's dose report
// (an RDSR) holds the model's events as pydicom reads them, and running the generator
// again reproduces every file byte for byte.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// The parts of the model and of dcmjs used here. Both are untyped JavaScript:
// the model is imported through a URL so the compiler takes this shape for it,
// and dcmjs through require() because the test runner's TypeScript loader hooks
// require() and cannot load dcmjs's ESM build (a .js file in a package without
// "type": "module")
interface Slice {
  path: string
  instanceNumber: number
  sopInstanceUid: string
  imagePositionPatient: number[]
  sliceLocation: number | null
  ctdiVol: number | null
  xRayTubeCurrent: number
}

interface Series {
  seriesInstanceUid: string
  imageType: string[]
  imageOrientationPatient: number[]
  sliceThickness?: number
  reconstructionInterval?: number
  slices: Slice[]
}

interface DoseEvent {
  uid: string
  protocol: string
  helical: boolean
  ctdivol: number | null
  scanningMm: number
  exposedMm: number
  dlp: number | null
}

interface SampleModel {
  CT_IMAGE_STORAGE: string
  RDSR_STORAGE: string
  DOSE_REPORT: { path: string; sopInstanceUid: string }
  sampleFiles(): string[]
  sampleSeries(): Series[]
  doseEvent(series: Series): DoseEvent
}

type Naturalized = Record<string, unknown>

interface Dcmjs {
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer): { meta: object; dict: object } }
    DicomMetaDictionary: { naturalizeDataset(dataset: object): Naturalized }
  }
}

const { CT_IMAGE_STORAGE, RDSR_STORAGE, DOSE_REPORT, sampleFiles, sampleSeries, doseEvent } = (await import(
  new URL('../scripts/sample-model.mjs', import.meta.url).href
)) as SampleModel
const { DicomMessage, DicomMetaDictionary } = (createRequire(import.meta.url)('dcmjs') as Dcmjs).data

const root = fileURLToPath(new URL('..', import.meta.url))
const samplesDir = join(root, 'samples')
const series = sampleSeries()

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .map((path) => path.split(sep).join('/'))
    .sort()
}

function readDicom(path: string) {
  const bytes = readFileSync(path)
  const message = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  return {
    meta: DicomMetaDictionary.naturalizeDataset(message.meta),
    dataset: DicomMetaDictionary.naturalizeDataset(message.dict),
  }
}

t.test('the committed files are exactly the model files', async (t) => {
  t.strictSame(listFiles(samplesDir), sampleFiles().sort())
})

t.test('the data set has a localizer, a contiguous and an overlapping series', async (t) => {
  t.strictSame(
    series.map((s) => [s.imageType.at(-1), s.slices.length, s.sliceThickness, s.reconstructionInterval]),
    [
      ['LOCALIZER', 1, undefined, undefined],
      ['AXIAL', 40, 5, 5],
      ['AXIAL', 48, 3, 2.5],
    ],
  )
  for (const { slices } of series.slice(1)) {
    const ctdi = new Set(slices.map((slice) => slice.ctdiVol))
    t.ok(ctdi.size === slices.length && !ctdi.has(null), 'every slice has its own CTDIvol')
  }
})

t.test('the header values in the bytes equal the model', async (t) => {
  for (const { seriesInstanceUid, imageType, imageOrientationPatient, slices } of series) {
    for (const slice of slices) {
      const { meta, dataset } = readDicom(join(samplesDir, slice.path))
      t.strictSame(
        {
          TransferSyntaxUID: meta.TransferSyntaxUID,
          MediaStorageSOPClassUID: meta.MediaStorageSOPClassUID,
          MediaStorageSOPInstanceUID: meta.MediaStorageSOPInstanceUID,
          SOPClassUID: dataset.SOPClassUID,
          SOPInstanceUID: dataset.SOPInstanceUID,
          SeriesInstanceUID: dataset.SeriesInstanceUID,
          InstanceNumber: dataset.InstanceNumber,
          ImageType: dataset.ImageType,
          ImagePositionPatient: dataset.ImagePositionPatient,
          ImageOrientationPatient: dataset.ImageOrientationPatient,
          SliceLocation: dataset.SliceLocation,
          CTDIvol: dataset.CTDIvol,
          XRayTubeCurrent: dataset.XRayTubeCurrent,
        },
        {
          TransferSyntaxUID: '1.2.840.10008.1.2.1',
          MediaStorageSOPClassUID: CT_IMAGE_STORAGE,
          MediaStorageSOPInstanceUID: slice.sopInstanceUid,
          SOPClassUID: CT_IMAGE_STORAGE,
          SOPInstanceUID: slice.sopInstanceUid,
          SeriesInstanceUID: seriesInstanceUid,
          InstanceNumber: slice.instanceNumber,
          ImageType: imageType,
          ImagePositionPatient: slice.imagePositionPatient,
          ImageOrientationPatient: imageOrientationPatient,
          SliceLocation: slice.sliceLocation ?? undefined,
          CTDIvol: slice.ctdiVol ?? undefined,
          XRayTubeCurrent: slice.xRayTubeCurrent,
        },
        slice.path,
      )
    }
  }
})

t.test('regenerating gives byte-identical files', async (t) => {
  const dir = t.testdir()
  execFileSync(process.execPath, [join(root, 'scripts', 'make-samples.mjs'), dir])
  const files = listFiles(dir)
  t.strictSame(files, listFiles(samplesDir))
  const differing = files.filter((path) => !readFileSync(join(dir, path)).equals(readFileSync(join(samplesDir, path))))
  t.strictSame(differing, [])
})

t.test("the exam's dose report holds the model's events, as pydicom reads it", async (t) => {
  const file = join(samplesDir, DOSE_REPORT.path)
  const { meta, dataset } = readDicom(file)
  t.equal(meta.MediaStorageSOPClassUID, RDSR_STORAGE)
  t.equal(dataset.SOPInstanceUID, DOSE_REPORT.sopInstanceUid)
  const python = '/usr/bin/python3'
  const probe = spawnSync(python, ['-c', 'import pydicom'])
  if (probe.status !== 0) {
    t.pass('pydicom reads the report', { skip: 'no pydicom in /usr/bin/python3 (apt-get install python3-pydicom)' })
    return
  }
  // pydicom walks the tree: per CT Acquisition (113819) its UID, protocol, Mean CTDIvol and DLP.
  const script = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
def code(item): return item.ConceptNameCodeSequence[0].CodeValue
def walk(items, out):
    for item in items:
        if item.ValueType == 'NUM': out[code(item)] = float(item.MeasuredValueSequence[0].NumericValue)
        elif item.ValueType == 'UIDREF': out[code(item)] = item.UID
        elif item.ValueType == 'TEXT': out[code(item)] = item.TextValue
        if 'ContentSequence' in item: walk(item.ContentSequence, out)
    return out
events = [walk(i.ContentSequence, {}) for i in ds.ContentSequence if code(i) == '113819']
total = [walk(i.ContentSequence, {}) for i in ds.ContentSequence if code(i) == '113811'][0]
print(json.dumps({'events': events, 'total': total['113813'], 'count': total['113812']}))
`
  const read = spawnSync(python, ['-c', script, file], { encoding: 'utf8' })
  t.equal(read.status, 0, read.stderr)
  const report = JSON.parse(read.stdout) as { events: Record<string, string | number>[]; total: number; count: number }
  const model = series.map((s) => doseEvent(s))
  t.same(
    report.events.map((e) => [e['113769'], e['125203'], e['113830'] ?? null, e['113838'] ?? null, e['113825']]),
    model.map((e) => [e.uid, e.protocol, e.ctdivol, e.dlp, e.scanningMm]),
    'one event per series: the localizer without CT Dose, each helical series with its mean CTDIvol and DLP',
  )
  t.equal(report.count, model.length)
  t.equal(report.total, Number(model.reduce((sum, e) => sum + (e.dlp ?? 0), 0).toFixed(2)), 'the total is their sum')
})
