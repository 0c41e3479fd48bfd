// Issue 11, "rows per frame": `--rows per_frame` and `rows: per_frame` through the built CLI. The
// multi-frame files of ../shared/corpus against pydicom (test/fixtures/frames-oracle.py), frame
// by frame, in CSV and JSON Lines; the default of a row per file; the dose columns per frame of
// an Enhanced CT (written by pydicom here); and incremental runs with a state.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, parseCsv, runCli } from '../fixtures/cli.js'
import { sameValue } from '../fixtures/same-value.js'

const PYTHON = '/usr/bin/python3'
const CORPUS = join(ROOT, '..', 'shared', 'corpus')
const ORACLE = join(ROOT, 'test/fixtures/frames-oracle.py')

/** Why pydicom cannot be run here, or false. */
function noPydicom(): string | false {
  if (!existsSync(PYTHON)) return `no ${PYTHON}`
  const probe = spawnSync(PYTHON, ['-c', 'import pydicom'], { encoding: 'utf8' })
  return probe.status === 0 ? false : `${PYTHON} cannot import pydicom (apt-get install python3-pydicom)`
}

/** Why the corpus tests cannot run here, or false. */
function noCorpus(): string | false {
  return existsSync(CORPUS) ? noPydicom() : `no ${CORPUS} (../shared is absent)`
}

type OracleValues = Record<string, string | null>

interface OracleOutput {
  pydicom: string
  enhanced: { path: string; numberOfFrames: string | null; frames: OracleValues[] }[]
  classic: { path: string; numberOfFrames: string; values: OracleValues }[]
}

let oracleCache: OracleOutput | undefined
function oracle(): OracleOutput {
  if (oracleCache) return oracleCache
  const run = spawnSync(PYTHON, [ORACLE, CORPUS], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (run.status !== 0) throw new Error(`frames-oracle.py exited ${run.status}: ${run.stderr}`)
  return (oracleCache = JSON.parse(run.stdout) as OracleOutput)
}

/** A JSON Lines value as the CSV cell text it stands for (arrays joined with a backslash). */
function jsonText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) return value.map(jsonText).join('\\')
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value as string | number)
}

/** The rows of an output file as header -> cell text, for CSV and JSON Lines alike. */
function readTable(file: string): Record<string, string>[] {
  const text = readFileSync(file, 'utf8')
  if (file.endsWith('.jsonl')) {
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => Object.fromEntries(Object.entries(JSON.parse(line) as object).map(([k, v]) => [k, jsonText(v)])))
  }
  const [header, ...rows] = parseCsv(text)
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]])))
}

/**
 * etl's cell and pydicom's value the same: an absent or empty value is an empty cell; numbers
 * compare by value (pydicom keeps DS as stored, "99.5000", etl writes the shortest form, "99.5").
 */
function same(ours: string, theirs: string | null): boolean {
  return theirs === null || theirs === '' ? ours === '' : sameValue(ours, theirs)
}

/** The differences of one file's rows from pydicom's frames, one line each. */
function differences(rows: Record<string, string>[], frames: OracleValues[]): string[] {
  const found: string[] = []
  frames.forEach((values, i) => {
    const row = rows[i] ?? {}
    if (row.frame !== String(i + 1)) found.push(`row ${i + 1}: frame "${row.frame}"`)
    for (const [keyword, theirs] of Object.entries(values)) {
      if (!same(row[keyword], theirs))
        found.push(`frame ${i + 1} ${keyword}: ours "${row[keyword]}", pydicom ${JSON.stringify(theirs)}`)
    }
  })
  return found
}

const kArgs = (keywords: string[]) => keywords.flatMap((k) => ['-k', k])

t.test(
  'issue 11: --rows per_frame on the multi-frame files of the corpus, against pydicom',
  { skip: noCorpus() },
  async (t) => {
    const dir = t.testdir({})
    const { pydicom, enhanced, classic } = oracle()
    t.comment(`pydicom ${pydicom}`)
    t.same(
      enhanced.map((e) => e.path),
      [
        'dicomParser/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm',
        'highdicom/seg_image_ct_binary.dcm',
        'pydicom/liver_1frame.dcm',
      ],
      'the Enhanced files',
    )
    const warnings: Record<string, RegExp> = {
      'pydicom/liver_1frame.dcm':
        /liver_1frame\.dcm: NumberOfFrames \(0028,0008\) is absent; the frames are the 3 items of PerFrameFunctionalGroupsSequence \(5200,9230\)/,
      'pydicom/badVR.dcm': /badVR\.dcm: \(0028,0008\) IS value "1A" is not a valid number; left empty/,
    }
    let compared = 0
    for (const entry of enhanced) {
      // Every keyword the oracle gives: those it always asks for, and every one in a macro of the file.
      const keywords = Object.keys(entry.frames[0])
      for (const ending of ['csv', 'jsonl']) {
        const out = join(dir, `enhanced-${entry.frames.length}-${compared}.${ending}`)
        const args = ['extract', join(CORPUS, entry.path), '--rows', 'per_frame', '-k', 'frame', ...kArgs(keywords)]
        const run = await runCli([...args, '-o', out])
        t.equal(run.code, 0, `${entry.path} (${ending}): exit 0`)
        t.equal(run.stdout, '', 'nothing on stdout')
        const warning = warnings[entry.path]
        if (warning) t.match(run.stderr, warning, `${entry.path}: the warning`)
        else t.notMatch(run.stderr, /warning/, `${entry.path}: no warning`)
        t.match(run.stderr, `${entry.frames.length} rows written`, `${entry.path}: the summary counts frames`)
        const rows = readTable(out)
        t.equal(rows.length, entry.frames.length, `${entry.path} (${ending}): a row per frame`)
        t.same(differences(rows, entry.frames), [], `${entry.path} (${ending}): ${keywords.length} keywords per frame`)
        compared += rows.length * keywords.length
      }
    }
    t.same(
      classic.map((c) => [c.path, c.numberOfFrames]),
      [
        ['pydicom/SC_rgb_rle_2frame.dcm', '2'],
        ['pydicom/badVR.dcm', '1A'],
        ['pydicom/rtdose.dcm', '15'],
      ],
      'the classic multi-frame files',
    )
    for (const entry of classic) {
      const count = /^\d+$/.test(entry.numberOfFrames) ? Number(entry.numberOfFrames) : 1
      // A classic multi-frame image: NumberOfFrames rows of its top-level values. An invalid
      // NumberOfFrames ("1A") is an empty cell with a warning, and one row.
      const values = { ...entry.values }
      if (!/^\d+$/.test(entry.numberOfFrames)) values.NumberOfFrames = null
      const keywords = Object.keys(values)
      for (const ending of ['csv', 'jsonl']) {
        const out = join(dir, `classic-${count}-${compared}.${ending}`)
        const args = ['extract', join(CORPUS, entry.path), '--rows', 'per_frame', '-k', 'frame', ...kArgs(keywords)]
        const run = await runCli([...args, '-o', out])
        t.equal(run.code, 0, `${entry.path} (${ending}): exit 0`)
        const warning = warnings[entry.path]
        if (warning) t.match(run.stderr, warning, `${entry.path}: the warning`)
        else t.notMatch(run.stderr, /warning/, `${entry.path}: no warning`)
        const rows = readTable(out)
        t.equal(rows.length, count, `${entry.path} (${ending}): ${count} rows`)
        const frames = Array.from({ length: count }, () => values)
        t.same(differences(rows, frames), [], `${entry.path} (${ending}): top-level values in frames 1..${count}`)
        compared += rows.length * keywords.length
      }
    }
    t.comment(`${compared} values compared`)
  },
)

t.test(
  'issue 11: without --rows a row per file; rows: per_frame as the flag; validate',
  { skip: noCorpus() },
  async (t) => {
    const dir = t.testdir({})
    const { enhanced, classic } = oracle()
    const files = [...enhanced, ...classic].map((e) => join(CORPUS, e.path))
    const columns = ['path', 'frame', 'NumberOfFrames', 'ImagePositionPatient', 'InStackPositionNumber']

    const perFile = await runCli(['extract', ...files, ...kArgs(columns)])
    t.equal(perFile.code, 0, perFile.stderr)
    const rows = parseCsv(perFile.stdout)
    t.same(rows[0], columns)
    t.same(
      rows.slice(1).map((row) => [row[0], row[1]]),
      files.map((file) => [file, '']),
      'one row per file, in the order given, frame empty',
    )
    t.notMatch(perFile.stderr, /PerFrameFunctionalGroupsSequence/, 'no frame warning: frames are not read')
    const number = (path: string) => rows.find((row) => row[0] === path)?.[2]
    t.equal(number(join(CORPUS, 'pydicom/rtdose.dcm')), '15', 'NumberOfFrames as stored')
    t.equal(number(join(CORPUS, 'pydicom/liver_1frame.dcm')), '', 'none stored')

    const flag = await runCli(['extract', ...files, '--rows', 'per_frame', ...kArgs(columns)])
    t.equal(flag.code, 0, flag.stderr)
    const frames = enhanced.reduce((n, e) => n + e.frames.length, 0) + 2 + 1 + 15
    t.equal(parseCsv(flag.stdout).length, 1 + frames, `per frame: ${frames} rows`)
    t.match(flag.stderr, `${files.length} files listed, ${frames} rows written`, 'the summary counts rows, not files')

    const yaml = (rows: string) =>
      `source:\n  paths:\n${files.map((f) => `    - '${f}'\n`).join('')}extract: [${columns.join(', ')}]\n${rows}`
    writeFileSync(join(dir, 'frames.yaml'), yaml('rows: per_frame # a row per frame\n'))
    const run = await runCli(['run', join(dir, 'frames.yaml')])
    t.equal(run.code, 0, run.stderr)
    t.equal(run.stdout, flag.stdout, 'rows: per_frame gives what --rows per_frame gives')
    const override = await runCli(['run', join(dir, 'frames.yaml'), '--rows', 'per_file'])
    t.equal(override.stdout, perFile.stdout, "--rows per_file overrides the pipeline's per_frame")
    writeFileSync(join(dir, 'files.yaml'), yaml(''))
    const flagged = await runCli(['run', join(dir, 'files.yaml'), '--rows', 'per_frame'])
    t.equal(flagged.stdout, flag.stdout, '--rows per_frame overrides the default')

    writeFileSync(join(dir, 'bad.yaml'), yaml('rows: per_frames\n'))
    const bad = await runCli(['validate', join(dir, 'bad.yaml')])
    t.equal(bad.code, 78, 'a bad pipeline: exit 78')
    t.equal(bad.stdout, '')
    const line = 4 + files.length // source, paths, the files, extract, rows
    t.match(bad.stderr, `bad.yaml:${line}:7 rows must be "per_file" or "per_frame", got "per_frames"`)
    const usage = await runCli(['extract', files[0], '--rows', 'per_frames', '-k', 'frame'])
    t.equal(usage.code, 64, 'a bad flag: exit 64')
    t.match(usage.stderr, /Argument: rows, Given: "per_frames", Choices: "per_file", "per_frame"/)
  },
)

/** An Enhanced CT of 5 frames at z = 0, 5, ... 20 mm, CTDIvol 10 mGy, axial, written by pydicom. */
const ENHANCED_CT = `
import sys
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

def item(**values):
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds

meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2.1'
meta.MediaStorageSOPInstanceUID = '1.2.826.0.1.3680043.8.498.11.1'
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = item(
    SOPClassUID=meta.MediaStorageSOPClassUID,
    SOPInstanceUID=meta.MediaStorageSOPInstanceUID,
    Modality='CT',
    ImageType=['ORIGINAL', 'PRIMARY', 'AXIAL', 'NONE'],
    PatientID='P11',
    BodyPartExamined='CHEST',
    SeriesInstanceUID='1.2.826.0.1.3680043.8.498.11.2',
    NumberOfFrames=5,
    Rows=2,
    Columns=2,
)
ds.file_meta = meta
ds.SharedFunctionalGroupsSequence = Sequence([item(
    PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.5, 0.5], SliceThickness=5)]),
    PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]),
    CTExposureSequence=Sequence([item(CTDIvol=10.0)]),
)])
ds.PerFrameFunctionalGroupsSequence = Sequence([
    item(
        FrameContentSequence=Sequence([item(InStackPositionNumber=i + 1)]),
        PlanePositionSequence=Sequence([item(ImagePositionPatient=[-100, -100, z])]),
    )
    for i, z in enumerate([0, 5, 10, 15, 20])
])
ds.is_little_endian = True
ds.is_implicit_VR = False
ds.save_as(sys.argv[1], write_like_original=False)
`

/** Writes the Enhanced CT of {@link ENHANCED_CT} into `dir`; its path. */
function writeEnhancedCt(dir: string): string {
  const file = join(dir, 'enhanced-ct.dcm')
  const run = spawnSync(PYTHON, ['-c', ENHANCED_CT, file], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`pydicom could not write the Enhanced CT: ${run.stderr}`)
  return file
}

t.test('issue 11: dose per frame of an Enhanced CT', { skip: noPydicom() }, async (t) => {
  const dir = t.testdir({})
  writeEnhancedCt(dir)
  const extract = [
    'SeriesInstanceUID',
    'frame',
    'ImageType',
    'ImageOrientationPatient',
    'ImagePositionPatient',
    'SliceLocation',
    'SliceThickness',
    'BodyPartExamined',
    'CTDIvol',
  ]
  const pipeline = (name: string, more: string) => {
    const file = join(dir, name)
    writeFileSync(
      file,
      `source:\n  paths: [enhanced-ct.dcm]\nextract: [${extract.join(', ')}]\ndose:\n  region: auto\n${more}`,
    )
    return file
  }
  const slices = await runCli(['run', pipeline('slices.yaml', 'rows: per_frame\n')])
  t.equal(slices.code, 0, slices.stderr)
  const [header, ...rows] = parseCsv(slices.stdout)
  t.same(header.slice(extract.length), ['position_mm', 'interval_mm', 'dlp_mGycm', 'dose_note'])
  const cell = (row: string[], name: string) => row[header.indexOf(name)]
  t.same(
    rows.map((row) => [
      cell(row, 'frame'),
      cell(row, 'ImagePositionPatient'),
      cell(row, 'ImageOrientationPatient'),
      cell(row, 'CTDIvol'),
      cell(row, 'position_mm'),
      cell(row, 'interval_mm'),
      cell(row, 'dlp_mGycm'),
    ]),
    [0, 5, 10, 15, 20].map((z, i) => [String(i + 1), `-100\\-100\\${z}`, '1\\0\\0\\0\\1\\0', '10', `${z}`, '5', '5']),
    'a slice per frame: its position from its PlanePositionSequence, orientation and CTDIvol shared',
  )
  t.ok(
    rows.every((row) => cell(row, 'dose_note') === 'position from ImagePositionPatient (no SliceLocation)'),
    'Enhanced CT has no SliceLocation: the position is the projection, and says so',
  )

  const grouped = await runCli(['run', pipeline('series.yaml', 'rows: per_frame\ngroup_by: [SeriesInstanceUID]\n')])
  t.equal(grouped.code, 0, grouped.stderr)
  const series = parseCsv(grouped.stdout)
  const value = (name: string) => series[1][series[0].indexOf(name)]
  t.equal(series.length, 2, 'one series')
  t.equal(value('slices'), '5')
  t.equal(value('excluded'), '0')
  t.equal(value('scan_range_mm'), '25')
  t.equal(value('dlp_mGycm'), '25', 'DLP = 5 frames x 10 mGy x 0.5 cm')
  t.equal(value('region'), 'CHEST')
  t.match(grouped.stderr, '1 rows written from 1 headers')

  const perFile = await runCli(['run', pipeline('per-file.yaml', 'group_by: [SeriesInstanceUID]\n')])
  t.equal(perFile.code, 0, perFile.stderr)
  const excluded = parseCsv(perFile.stdout)
  t.equal(excluded[1][excluded[0].indexOf('excluded')], '1', 'a row per file: the file has no top-level position')
  t.equal(excluded[1][excluded[0].indexOf('dlp_mGycm')], '')
  t.match(excluded[1][excluded[0].indexOf('dose_notes')], /^excluded: 1 without position; no axial slices: no DLP/)
})

t.test('issue 11: incremental runs per frame', { skip: noCorpus() }, async (t) => {
  const dir = t.testdir({})
  const { enhanced, classic } = oracle()
  const files = [...enhanced, ...classic].map((e) => join(CORPUS, e.path))
  files.push(writeEnhancedCt(dir))
  const state = join(dir, 'frames.state')
  const columns = ['path', 'frame', 'ImagePositionPatient', 'CTDIvol', 'InStackPositionNumber']
  const run = (out: string, ...more: string[]) =>
    runCli(['extract', ...files, ...kArgs(columns), '--state', state, '-o', join(dir, out), ...more])
  const frames = enhanced.reduce((n, e) => n + e.frames.length, 0) + 2 + 1 + 15 + 5

  const first = await run('first.csv', '--rows', 'per_frame')
  t.equal(first.code, 0, first.stderr)
  t.match(first.stderr, `${files.length} files listed, ${frames} rows written`)
  const second = await run('second.csv', '--rows', 'per_frame')
  t.equal(second.code, 0, second.stderr)
  t.match(
    second.stderr,
    `${files.length} files listed (${files.length} unchanged, not read), ${frames} rows written`,
    'the second run reads nothing',
  )
  t.notMatch(second.stderr, /warning/, 'and so warns of nothing')
  t.equal(readFileSync(join(dir, 'second.csv'), 'utf8'), readFileSync(join(dir, 'first.csv'), 'utf8'), 'the same bytes')
  t.equal(parseCsv(readFileSync(join(dir, 'second.csv'), 'utf8')).length, 1 + frames)

  // A state of rows per frame is not one of rows per file: the files are read again.
  const perFile = await run('per-file.csv')
  t.equal(perFile.code, 0, perFile.stderr)
  t.match(perFile.stderr, /frames\.state: not used: it was made for other columns, cell formats or rows/)
  t.match(perFile.stderr, `${files.length} files listed, ${files.length} rows written`)
  const again = await run('per-frame-again.csv', '--rows', 'per_frame')
  t.match(again.stderr, /not used/, 'and back')
  t.equal(readFileSync(join(dir, 'per-frame-again.csv'), 'utf8'), readFileSync(join(dir, 'first.csv'), 'utf8'))
})
