// Checks the committed CT sample data set (samples/) against its model in
// scripts/sample-model.mjs: the file set is exactly the model's, the header
// values read back from the bytes with dcmjs are the model's, and running the
// generator again reproduces every file byte for byte.
import { execFileSync } from 'node:child_process'
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

interface SampleModel {
  CT_IMAGE_STORAGE: string
  sampleFiles(): string[]
  sampleSeries(): Series[]
}

type Naturalized = Record<string, unknown>

interface Dcmjs {
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer): { meta: object; dict: object } }
    DicomMetaDictionary: { naturalizeDataset(dataset: object): Naturalized }
  }
}

const { CT_IMAGE_STORAGE, sampleFiles, sampleSeries } = (await import(
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
