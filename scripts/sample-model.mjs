// The CT sample data set committed under samples/, as pure data and functions
// (no I/O): one phantom patient, one study, a localizer and two helical series
// (head contiguous, thorax overlapping). scripts/make-samples.mjs writes exactly
// this; test/samples.ts recomputes the expected header values from it, so the
// committed bytes can be checked against the model and not against themselves.
// Everything random is drawn from seeded generators, never Math.random, so the
// files are byte-identical on every run.
import { createHash } from 'node:crypto'

const SAMPLE_SEED = 'dicom-etl/samples/v1'

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2'

export const PATIENT = {
  folder: 'PAT001',
  name: 'Phantom^Anthropomorphic',
  id: 'PAT001',
  birthDate: '19700101',
  sex: 'O',
  age: '054Y',
}

export const STUDY = {
  folder: 'STUDY_20240312',
  date: '20240312',
  time: '093015',
  accessionNumber: 'ACC24031201',
  id: '1',
  description: 'CT Head and Thorax',
  protocolName: 'Head-Thorax Phantom',
  institution: 'Example Hospital',
  manufacturer: 'Example Medical Systems',
  model: 'ExampleCT 64',
  station: 'CT01',
  deviceSerialNumber: '64001',
  softwareVersions: 'EX-CT 4.2.1',
}

// The non-DICOM file of the export, and the README written next to PAT001
export const NOTE_PATH = `${PATIENT.folder}/${STUDY.folder}/EXPORT_NOTE.txt`
export const README_PATH = 'README.md'

// The geometry and technique of each series as entered at the console. Doses:
// CTDIvol = nCTDIw / 100 * mA * rotation time / pitch, with nCTDIw in mGy per
// 100 mAs for the 16 cm (head) or 32 cm (body) CTDI phantom at 120 kV.
const PROTOCOLS = [
  {
    key: 'localizer',
    seriesNumber: 1,
    folder: 'SER001_LOCALIZER',
    extension: '.dcm',
    description: 'Topogram 0.6 T20f',
    imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'],
    imageOrientationPatient: [1, 0, 0, 0, 0, -1],
    pixelSpacing: 31.25,
    topZ: 100,
    kernel: 'T20f',
    kvp: 120,
    tubeCurrent: 35,
    exposureTime: 5000,
    startTime: 9 * 3600 + 31 * 60 + 2.5,
    noise: 3,
  },
  {
    key: 'head',
    seriesNumber: 2,
    folder: 'SER002_HEAD',
    extension: '.dcm',
    description: 'Head 5.0 H40s',
    bodyPart: 'HEAD',
    imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    sliceCount: 40,
    sliceThickness: 5,
    reconstructionInterval: 5,
    startZ: 60,
    fov: 250,
    kernel: 'H40s',
    kvp: 120,
    baseTubeCurrent: 200,
    modulation: 0.15,
    rotationTime: 1,
    pitch: 0.55,
    singleCollimation: 0.6,
    totalCollimation: 38.4,
    nCtdiw: 15.5,
    phantom: ['113690', 'IEC Head Dosimetry Phantom'],
    window: [40, 80],
    startTime: 9 * 3600 + 32 * 60 + 40,
    noise: 4,
  },
  {
    key: 'thorax',
    seriesNumber: 3,
    folder: 'SER003_CHEST',
    extension: '',
    description: 'Thorax 3.0 B30f',
    bodyPart: 'CHEST',
    imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    sliceCount: 48,
    sliceThickness: 3,
    reconstructionInterval: 2.5,
    startZ: -250,
    fov: 350,
    kernel: 'B30f',
    kvp: 120,
    baseTubeCurrent: 200,
    modulation: 0.3,
    rotationTime: 0.5,
    pitch: 1,
    singleCollimation: 0.6,
    totalCollimation: 38.4,
    nCtdiw: 7.5,
    phantom: ['113691', 'IEC Body Dosimetry Phantom'],
    window: [40, 400],
    startTime: 9 * 3600 + 34 * 60 + 10,
    noise: 10,
  },
]

const MATRIX = 16

// Relative standard deviation of the tube current around its modulation curve
export const TUBE_CURRENT_JITTER = 0.01

const UUID_URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex')

// A DICOM UID under 2.25: the decimal form of a name-based (version 5) UUID
export function sampleUid(name) {
  const hash = createHash('sha1').update(UUID_URL_NAMESPACE).update(`urn:${SAMPLE_SEED}/${name}`).digest()
  hash[6] = (hash[6] & 0x0f) | 0x50
  hash[8] = (hash[8] & 0x3f) | 0x80
  return `2.25.${BigInt(`0x${hash.subarray(0, 16).toString('hex')}`)}`
}

// Standard normal deviates from a mulberry32 stream seeded by name
function gaussianNoise(name) {
  let state = createHash('sha1').update(`${SAMPLE_SEED}/${name}`).digest().readUInt32LE(0)
  const uniform = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform())
}

// TM with microseconds from seconds since midnight
function tm(seconds) {
  const micros = Math.round(seconds * 1e6)
  const whole = Math.floor(micros / 1e6)
  const pad = (value, width) => String(value).padStart(width, '0')
  return `${pad(Math.floor(whole / 3600), 2)}${pad(Math.floor(whole / 60) % 60, 2)}${pad(whole % 60, 2)}.${pad(micros % 1e6, 6)}`
}

// The phantom in patient coordinates (LPS, mm, +z superior): half axes (x, y)
// of the outline at height z; an ellipsoidal head (vertex at z = 70), a neck
// and an elliptical trunk
function outline(z) {
  if (z > -150) {
    const s = 1 - ((z + 50) / 120) ** 2
    return s > 0 ? [75 * Math.sqrt(s), 95 * Math.sqrt(s)] : null
  }
  return z > -220 ? [55, 60] : [170, 110]
}

// Hounsfield units at a point: skull and brain, neck, trunk with lungs and spine
function hounsfield(x, y, z) {
  const axes = outline(z)
  if (!axes || Math.hypot(x / axes[0], y / axes[1]) > 1) return -1000
  if (z > -150) return Math.hypot(x / axes[0], y / axes[1]) > 0.8 ? 800 : 35
  if (Math.hypot(x, y - (z > -220 ? 20 : 70)) < 18) return 700
  if (z <= -220 && Math.hypot((Math.abs(x) - 80) / 55, y / 75) < 1) return -850
  return 40
}

function axialPixels(series, slice) {
  const [x0, y0, z] = slice.imagePositionPatient
  const sigma = series.noise * Math.sqrt(series.baseTubeCurrent / slice.tubeCurrentMa)
  const noise = gaussianNoise(slice.sopInstanceUid)
  const pixels = new Uint16Array(MATRIX * MATRIX)
  for (let row = 0; row < MATRIX; row++) {
    for (let col = 0; col < MATRIX; col++) {
      const hu = hounsfield(x0 + col * series.pixelSpacing, y0 + row * series.pixelSpacing, z)
      pixels[row * MATRIX + col] = Math.min(4095, Math.max(0, Math.round(hu + 1024 + sigma * noise())))
    }
  }
  return pixels
}

// Anteroposterior projection: 5 counts per mm of phantom along y
function localizerPixels(series, slice) {
  const [x0, , z0] = slice.imagePositionPatient
  const noise = gaussianNoise(slice.sopInstanceUid)
  const pixels = new Uint16Array(MATRIX * MATRIX)
  for (let row = 0; row < MATRIX; row++) {
    const axes = outline(z0 - row * series.pixelSpacing)
    for (let col = 0; col < MATRIX; col++) {
      const u = axes ? (x0 + col * series.pixelSpacing) / axes[0] : 1
      const path = u < 1 ? 2 * axes[1] * Math.sqrt(1 - u * u) : 0
      pixels[row * MATRIX + col] = Math.max(0, Math.round(5 * path + series.noise * noise()))
    }
  }
  return pixels
}

function slicePath(protocol, instanceNumber) {
  const name = `IM${String(instanceNumber).padStart(5, '0')}${protocol.extension}`
  return `${PATIENT.folder}/${STUDY.folder}/${protocol.folder}/${name}`
}

function localizerSlices(protocol) {
  const corner = ((1 - MATRIX) * protocol.pixelSpacing) / 2
  return [
    {
      path: slicePath(protocol, 1),
      instanceNumber: 1,
      sopInstanceUid: sampleUid(`${protocol.key}/1`),
      imagePositionPatient: [corner, 0, protocol.topZ - protocol.pixelSpacing / 2],
      sliceLocation: null,
      ctdiVol: null,
      xRayTubeCurrent: protocol.tubeCurrent,
      exposureTime: protocol.exposureTime,
      exposure: Math.round((protocol.tubeCurrent * protocol.exposureTime) / 1000),
      acquisitionTime: tm(protocol.startTime),
    },
  ]
}

// Helical slices from startZ towards the feet; the tube current follows a
// smooth z modulation (high at both ends, low mid-range) with a seeded jitter,
// and CTDIvol with it
function axialSlices(series) {
  const corner = (series.pixelSpacing - series.fov) / 2
  const length = series.sliceCount * series.reconstructionInterval
  const jitter = gaussianNoise(`${series.key}/tube-current`)
  return Array.from({ length: series.sliceCount }, (_, index) => {
    const instanceNumber = index + 1
    const distance = index * series.reconstructionInterval
    const z = series.startZ - distance
    const modulation = 1 + series.modulation * Math.cos((2 * Math.PI * distance) / length)
    const mA = series.baseTubeCurrent * modulation * (1 + TUBE_CURRENT_JITTER * jitter())
    return {
      path: slicePath(series, instanceNumber),
      instanceNumber,
      sopInstanceUid: sampleUid(`${series.key}/${instanceNumber}`),
      imagePositionPatient: [corner, corner, z],
      sliceLocation: z,
      ctdiVol: ((series.nCtdiw / 100) * mA * series.rotationTime) / series.pitch,
      tubeCurrentMa: mA,
      xRayTubeCurrent: Math.round(mA),
      exposureTime: series.rotationTime * 1000,
      exposure: Math.round(mA * series.rotationTime),
      acquisitionTime: tm(series.startTime + distance / series.tableSpeed),
    }
  })
}

// The series in the order they are written, each with its slices
export function sampleSeries() {
  return PROTOCOLS.map((protocol) => {
    const seriesInstanceUid = sampleUid(`${protocol.key}/series`)
    if (protocol.sliceCount === undefined) {
      return { ...protocol, seriesInstanceUid, slices: localizerSlices(protocol) }
    }
    const tableFeedPerRotation = protocol.pitch * protocol.totalCollimation
    const series = {
      ...protocol,
      seriesInstanceUid,
      pixelSpacing: protocol.fov / MATRIX,
      tableFeedPerRotation,
      tableSpeed: tableFeedPerRotation / protocol.rotationTime,
    }
    return { ...series, slices: axialSlices(series) }
  })
}

export const RDSR_STORAGE = '1.2.840.10008.5.1.4.1.1.88.67'

// The exam's CT Radiation Dose SR (TID 10011), as the scanner writes it after the exam, in a
// series of its own
export const DOSE_REPORT = {
  folder: 'SER900_DOSE_REPORT',
  path: `${PATIENT.folder}/${STUDY.folder}/SER900_DOSE_REPORT/DOSE00001.dcm`,
  seriesNumber: 900,
  sopInstanceUid: sampleUid('dose-report/1'),
  seriesInstanceUid: sampleUid('dose-report/series'),
  time: '093630',
}

// Every file of the data set, relative to the samples folder
export function sampleFiles() {
  const dicom = sampleSeries().flatMap((series) => series.slices.map((slice) => slice.path))
  return [README_PATH, NOTE_PATH, ...dicom, DOSE_REPORT.path]
}

// One irradiation event of the report: what the scanner knows of each series' acquisition.
// The scanning length is the reconstructed range; the exposed range adds one table feed of
// over-ranging (pitch x total collimation), and the DLP = mean CTDIvol x exposed range, so the
// report's DLP is above the image headers' (which know the reconstructed range only).
export function doseEvent(series) {
  const helical = series.sliceCount !== undefined
  const mean = helical ? series.slices.reduce((sum, slice) => sum + slice.ctdiVol, 0) / series.slices.length : 0
  const scanningMm = helical ? series.sliceCount * series.reconstructionInterval : 0
  const exposedMm = helical ? scanningMm + series.pitch * series.totalCollimation : 0
  return {
    uid: sampleUid(`${series.key}/irradiation`),
    protocol: series.description,
    region: series.bodyPart === 'HEAD' ? ['69536005', 'Head'] : ['51185008', 'Chest'],
    helical,
    ctdivol: helical ? Number(mean.toFixed(2)) : null,
    scanningMm,
    exposedMm: Number(exposedMm.toFixed(2)),
    dlp: helical ? Number(((Number(mean.toFixed(2)) * exposedMm) / 10).toFixed(2)) : null,
  }
}

const dcmCode = (value, meaning, scheme = 'DCM') => [
  { CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning },
]
const item = (relationship, valueType, concept, rest) => ({
  RelationshipType: relationship,
  ValueType: valueType,
  ConceptNameCodeSequence: concept,
  ...rest,
})
const num = (concept, value, unit) =>
  item('CONTAINS', 'NUM', concept, {
    MeasuredValueSequence: [{ NumericValue: String(value), MeasurementUnitsCodeSequence: dcmCode(unit, unit, 'UCUM') }],
  })

// The content of one CT Acquisition (TID 10013)
function acquisitionItem(series, event) {
  const parameters = [
    num(
      dcmCode('113824', 'Exposure Time'),
      Number((event.exposedMm / (series.tableSpeed ?? 1) || series.exposureTime / 1000).toFixed(2)),
      's',
    ),
    num(dcmCode('113825', 'Scanning Length'), event.scanningMm, 'mm'),
    num(dcmCode('113899', 'Exposed Range'), event.exposedMm, 'mm'),
    ...(event.helical ? [num(dcmCode('113828', 'Pitch Factor'), series.pitch, '{ratio}')] : []),
    num(dcmCode('113826', 'Nominal Single Collimation Width'), series.singleCollimation ?? 0.6, 'mm'),
    num(dcmCode('113827', 'Nominal Total Collimation Width'), series.totalCollimation ?? 38.4, 'mm'),
    item('CONTAINS', 'CONTAINER', dcmCode('113831', 'CT X-Ray Source Parameters'), {
      ContinuityOfContent: 'SEPARATE',
      ContentSequence: [
        item('CONTAINS', 'TEXT', dcmCode('113832', 'Identification of the X-Ray Source'), { TextValue: 'A' }),
        num(dcmCode('113733', 'KVP'), series.kvp, 'kV'),
        num(
          dcmCode('113833', 'Maximum X-Ray Tube Current'),
          Math.max(...series.slices.map((s) => s.xRayTubeCurrent)),
          'mA',
        ),
        num(
          dcmCode('113734', 'X-Ray Tube Current'),
          Math.round(series.slices.reduce((sum, s) => sum + s.xRayTubeCurrent, 0) / series.slices.length),
          'mA',
        ),
      ],
    }),
  ]
  const dose = event.helical
    ? [
        item('CONTAINS', 'CONTAINER', dcmCode('113829', 'CT Dose'), {
          ContinuityOfContent: 'SEPARATE',
          ContentSequence: [
            num(dcmCode('113830', 'Mean CTDIvol'), event.ctdivol, 'mGy'),
            item('CONTAINS', 'CODE', dcmCode('113835', 'CTDIw Phantom Type'), {
              ConceptCodeSequence: dcmCode(series.phantom[0], series.phantom[1]),
            }),
            num(dcmCode('113838', 'DLP'), event.dlp, 'mGy.cm'),
          ],
        }),
      ]
    : []
  return item('CONTAINS', 'CONTAINER', dcmCode('113819', 'CT Acquisition'), {
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: [
      item('CONTAINS', 'TEXT', dcmCode('125203', 'Acquisition Protocol'), { TextValue: event.protocol }),
      item('CONTAINS', 'CODE', dcmCode('123014', 'Target Region', 'DCM'), {
        ConceptCodeSequence: dcmCode(event.region[0], event.region[1], 'SCT'),
      }),
      item('CONTAINS', 'CODE', dcmCode('113820', 'CT Acquisition Type'), {
        ConceptCodeSequence: event.helical
          ? dcmCode('116152004', 'Spiral Acquisition', 'SCT')
          : dcmCode('113805', 'Constant Angle Acquisition'),
      }),
      item('HAS OBS CONTEXT', 'UIDREF', dcmCode('113769', 'Irradiation Event UID'), { UID: event.uid }),
      item('CONTAINS', 'CONTAINER', dcmCode('113822', 'CT Acquisition Parameters'), {
        ContinuityOfContent: 'SEPARATE',
        ContentSequence: parameters,
      }),
      ...dose,
    ],
  })
}

// The naturalized dcmjs dataset of the dose report (without the file meta group)
export function sampleDoseReportDataset(seriesList) {
  const events = seriesList.map(doseEvent)
  const total = events.reduce((sum, event) => sum + (event.dlp ?? 0), 0)
  return {
    SpecificCharacterSet: 'ISO_IR 100',
    SOPClassUID: RDSR_STORAGE,
    SOPInstanceUID: DOSE_REPORT.sopInstanceUid,
    StudyDate: STUDY.date,
    ContentDate: STUDY.date,
    StudyTime: STUDY.time,
    ContentTime: DOSE_REPORT.time,
    AccessionNumber: STUDY.accessionNumber,
    Modality: 'SR',
    Manufacturer: STUDY.manufacturer,
    ReferringPhysicianName: '',
    StudyDescription: STUDY.description,
    SeriesDescription: 'Dose Report',
    ManufacturerModelName: STUDY.model,
    PatientName: PATIENT.name,
    PatientID: PATIENT.id,
    PatientBirthDate: PATIENT.birthDate,
    PatientSex: PATIENT.sex,
    DeviceSerialNumber: STUDY.deviceSerialNumber,
    SoftwareVersions: STUDY.softwareVersions,
    StudyInstanceUID: sampleUid('study'),
    SeriesInstanceUID: DOSE_REPORT.seriesInstanceUid,
    StudyID: STUDY.id,
    SeriesNumber: DOSE_REPORT.seriesNumber,
    InstanceNumber: 1,
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: dcmCode('113701', 'X-Ray Radiation Dose Report'),
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '10011' }],
    ContinuityOfContent: 'SEPARATE',
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ReferencedPerformedProcedureStepSequence: [],
    PerformedProcedureCodeSequence: [],
    ContentSequence: [
      item('HAS CONCEPT MOD', 'CODE', dcmCode('121058', 'Procedure reported'), {
        ConceptCodeSequence: dcmCode('P5-08000', 'Computed Tomography X-Ray', 'SRT'),
      }),
      item('HAS OBS CONTEXT', 'CODE', dcmCode('121005', 'Observer Type'), {
        ConceptCodeSequence: dcmCode('121007', 'Device'),
      }),
      item('HAS OBS CONTEXT', 'UIDREF', dcmCode('121012', 'Device Observer UID'), { UID: sampleUid('device') }),
      item('HAS OBS CONTEXT', 'TEXT', dcmCode('121013', 'Device Observer Name'), { TextValue: STUDY.station }),
      item('HAS OBS CONTEXT', 'CODE', dcmCode('113705', 'Scope of Accumulation'), {
        ConceptCodeSequence: dcmCode('113014', 'Study'),
        ContentSequence: [
          item('HAS PROPERTIES', 'UIDREF', dcmCode('110180', 'Study Instance UID'), { UID: sampleUid('study') }),
        ],
      }),
      item('CONTAINS', 'CONTAINER', dcmCode('113811', 'CT Accumulated Dose Data'), {
        ContinuityOfContent: 'SEPARATE',
        ContentSequence: [
          num(dcmCode('113812', 'Total Number of Irradiation Events'), events.length, '{events}'),
          num(dcmCode('113813', 'CT Dose Length Product Total'), Number(total.toFixed(2)), 'mGy.cm'),
        ],
      }),
      ...seriesList.map((series, i) => acquisitionItem(series, events[i])),
      item('CONTAINS', 'CODE', dcmCode('113854', 'Source of Dose Information'), {
        ConceptCodeSequence: dcmCode('113856', 'Automated Data Collection'),
      }),
    ],
  }
}

// The naturalized dcmjs dataset of one image (without the file meta group)
export function sampleDataset(series, slice) {
  const axial = series.sliceCount !== undefined
  const pixels = axial ? axialPixels(series, slice) : localizerPixels(series, slice)
  return {
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: series.imageType,
    SOPClassUID: CT_IMAGE_STORAGE,
    SOPInstanceUID: slice.sopInstanceUid,
    StudyDate: STUDY.date,
    SeriesDate: STUDY.date,
    AcquisitionDate: STUDY.date,
    ContentDate: STUDY.date,
    StudyTime: STUDY.time,
    SeriesTime: tm(series.startTime),
    AcquisitionTime: slice.acquisitionTime,
    ContentTime: slice.acquisitionTime,
    AccessionNumber: STUDY.accessionNumber,
    Modality: 'CT',
    Manufacturer: STUDY.manufacturer,
    InstitutionName: STUDY.institution,
    ReferringPhysicianName: '',
    StationName: STUDY.station,
    StudyDescription: STUDY.description,
    SeriesDescription: series.description,
    ManufacturerModelName: STUDY.model,
    PatientName: PATIENT.name,
    PatientID: PATIENT.id,
    PatientBirthDate: PATIENT.birthDate,
    PatientSex: PATIENT.sex,
    PatientAge: PATIENT.age,
    ...(axial && {
      BodyPartExamined: series.bodyPart,
      ScanOptions: 'HELICAL_CT',
      SliceThickness: series.sliceThickness,
    }),
    KVP: series.kvp,
    DeviceSerialNumber: STUDY.deviceSerialNumber,
    SoftwareVersions: STUDY.softwareVersions,
    ProtocolName: STUDY.protocolName,
    ...(axial && { DataCollectionDiameter: 500, ReconstructionDiameter: series.fov }),
    DistanceSourceToDetector: 1085.6,
    DistanceSourceToPatient: 595,
    GantryDetectorTilt: 0,
    TableHeight: 145,
    RotationDirection: 'CW',
    ExposureTime: slice.exposureTime,
    XRayTubeCurrent: slice.xRayTubeCurrent,
    Exposure: slice.exposure,
    FilterType: 'FLAT',
    FocalSpots: 1.2,
    ConvolutionKernel: series.kernel,
    PatientPosition: 'HFS',
    ...(axial && {
      RevolutionTime: series.rotationTime,
      SingleCollimationWidth: series.singleCollimation,
      TotalCollimationWidth: series.totalCollimation,
      TableSpeed: series.tableSpeed,
      TableFeedPerRotation: series.tableFeedPerRotation,
      SpiralPitchFactor: series.pitch,
      CTDIvol: slice.ctdiVol,
      CTDIPhantomTypeCodeSequence: [
        { CodeValue: series.phantom[0], CodingSchemeDesignator: 'DCM', CodeMeaning: series.phantom[1] },
      ],
    }),
    StudyInstanceUID: sampleUid('study'),
    SeriesInstanceUID: series.seriesInstanceUid,
    StudyID: STUDY.id,
    SeriesNumber: series.seriesNumber,
    AcquisitionNumber: series.seriesNumber,
    InstanceNumber: slice.instanceNumber,
    ImagePositionPatient: slice.imagePositionPatient,
    ImageOrientationPatient: series.imageOrientationPatient,
    FrameOfReferenceUID: sampleUid('frame-of-reference'),
    PositionReferenceIndicator: '',
    ...(axial && { SliceLocation: slice.sliceLocation }),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: MATRIX,
    Columns: MATRIX,
    PixelSpacing: [series.pixelSpacing, series.pixelSpacing],
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    ...(axial && { WindowCenter: series.window[0], WindowWidth: series.window[1] }),
    RescaleIntercept: axial ? -1024 : 0,
    RescaleSlope: 1,
    RescaleType: axial ? 'HU' : 'US',
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: 'OW' },
  }
}
