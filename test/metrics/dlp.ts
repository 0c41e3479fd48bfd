// The DLP method on hand-computed cases: positions, the length each slice stands for, and the
// series' DLP and notes. Expected values are worked out in the comments, not by the code.
import t from 'tap'
import { typed } from '../fixtures/typed.js'
import {
  SliceWindow,
  locateSlice,
  seriesDose,
  sliceNormal,
  type PositionedSlice,
  type SliceCells,
} from '../../src/metrics/dlp.js'

const AXIAL = '1\\0\\0\\0\\1\\0'

/** Chest slices at these positions (mm), each with CTDIvol `ctdivol(i)` (mGy). */
const slices = (positions: number[], ctdivol: (i: number) => number | undefined = () => 10): PositionedSlice[] =>
  positions.map((position, i) => ({ position, ctdivol: ctdivol(i), bodyPart: 'CHEST' }))

const intervals = (input: PositionedSlice[]) => seriesDose(input).slices.map((s) => s.intervalMm)
const close = (actual: number | undefined, expected: number) =>
  actual !== undefined && Math.abs(actual - expected) < 1e-9

t.test('uniform spacing: every slice stands for the interval, first and last too', async (t) => {
  // 5 slices 5 mm apart at 10 mGy: L = 5 mm each, DLP = 10 x 0.5 cm x 5 = 25 mGy·cm
  const { slices: placed, result } = seriesDose(slices([0, 5, 10, 15, 20]))
  t.strictSame(
    placed.map((s) => s.intervalMm),
    [5, 5, 5, 5, 5],
  )
  t.equal(result.dlpMGyCm, 25)
  t.equal(result.intervalMm, 5)
  t.equal(result.scanRangeMm, 25, 'from 2.5 mm before the first to 2.5 mm after the last')
  t.equal(result.slices, 5)
  t.strictSame(result.notes, [])
})

t.test("the seed's example: 99 slices at 3 mm give DLP = 0.3 cm x sum of CTDIvol", async (t) => {
  const ctdivol = (i: number) => 8 + ((i * 37) % 11) / 4 // varying, as with tube current modulation
  const { result } = seriesDose(
    slices(
      Array.from({ length: 99 }, (_, i) => 100 - 3 * i),
      ctdivol,
    ),
  )
  let sum = 0
  for (let i = 0; i < 99; i++) sum += ctdivol(i)
  t.ok(close(result.dlpMGyCm, 0.3 * sum), `${result.dlpMGyCm} = 0.3 x ${sum}`)
  t.equal(result.scanRangeMm, 297)
  t.equal(result.intervalMm, 3)
  t.ok(close(result.ctdivolMeanMGy, sum / 99))
})

t.test('a gap counts as the neighbouring interval and is flagged', async (t) => {
  // 0 5 10 | 25 30 35: the 15 mm spacing is over 1.5 x 5 mm, so only 5 mm of it counts:
  // every slice stands for 5 mm, and the range still spans the gap: 35 + 5 = 40 mm.
  const { slices: placed, result } = seriesDose(slices([0, 5, 10, 25, 30, 35]))
  t.strictSame(
    placed.map((s) => s.intervalMm),
    [5, 5, 5, 5, 5, 5],
  )
  t.equal(placed[2].gapAfterMm, 15)
  t.equal(result.dlpMGyCm, 30, '10 mGy x 0.5 cm x 6')
  t.equal(result.scanRangeMm, 40)
  t.strictSame(result.notes, ['1 gap in positions (largest 15 mm, after 10 mm): counted as the neighbouring interval'])

  // A gap in the first spacing has only one neighbour: 0 | 20 25 30
  t.strictSame(intervals(slices([0, 20, 25, 30])), [5, 5, 5, 5])
  // Two slices have no neighbouring spacing to judge by: the spacing counts whole.
  t.strictSame(intervals(slices([0, 20])), [20, 20])
  // Sparse but regular is not a gap: 0 50 100
  t.strictSame(intervals(slices([0, 50, 100])), [50, 50, 50])
})

t.test('an uneven spacing below the gap factor counts whole, split between its slices', async (t) => {
  // 0 5 12 17: L = 5, (5 + 7) / 2, (7 + 5) / 2, 5 = 5 6 6 5: 22 mm = 17 + 5
  const { result } = seriesDose(slices([0, 5, 12, 17]))
  t.strictSame(intervals(slices([0, 5, 12, 17])), [5, 6, 6, 5])
  t.equal(result.dlpMGyCm, 22)
  t.strictSame(result.notes, ['interval varies from 5 to 7 mm'])
})

t.test('overlaps: the interval counts, not the thickness; interleaved positions are not counted twice', async (t) => {
  // 48 slices 3 mm thick every 2.5 mm (the thorax sample): L = 2.5 mm
  const overlapping = slices(Array.from({ length: 48 }, (_, i) => -250 - 2.5 * i)).map((s) => ({
    ...s,
    thicknessMm: 3,
  }))
  const { result } = seriesDose(overlapping)
  t.equal(result.intervalMm, 2.5)
  t.ok(close(result.dlpMGyCm, 10 * 0.25 * 48))
  t.strictSame(result.notes, ['overlapping reconstruction: interval 2.5 mm < thickness 3 mm'])

  // 0 2 5 7 10: spacings 2 3 2 3, L = 2, 2.5, 2.5, 2.5, 3: 12.5 mm = 10 + (2 + 3) / 2
  t.strictSame(intervals(slices([0, 2, 5, 7, 10])), [2, 2.5, 2.5, 2.5, 3])
})

t.test('repeated positions: the first image stands for the position, the others for nothing', async (t) => {
  // 0 5 5 10 at 10, 20, 30, 40 mGy: L = 5 5 0 5, DLP = (10 + 20 + 40) x 0.5 = 35
  const { slices: placed, result } = seriesDose(slices([0, 5, 5, 10], (i) => 10 * (i + 1)))
  t.strictSame(
    placed.map((s) => [s.intervalMm, s.repeated]),
    [
      [5, false],
      [5, false],
      [0, true],
      [5, false],
    ],
  )
  t.equal(result.dlpMGyCm, 35)
  t.equal(result.slices, 4)
  t.equal(result.intervalMm, 5, 'over the 3 positions')
  t.strictSame(result.notes, ['1 image at a repeated position: not counted'])
  t.strictSame(intervals(slices([5, 5.004, 10])), [5, 0, 5], 'within 0.01 mm is the same position')
})

t.test('unsorted input gives the same as sorted', async (t) => {
  const sorted = slices([0, 5, 10, 25, 30], (i) => i + 1)
  const shuffled = [sorted[3], sorted[0], sorted[4], sorted[2], sorted[1]]
  t.strictSame(seriesDose(shuffled).result, seriesDose(sorted).result)
})

t.test('no DLP, with a reason, rather than a wrong number', async (t) => {
  const cases: [string, PositionedSlice[], string][] = [
    ['a single slice', slices([0]), 'single slice: no interval, no DLP'],
    ['no CTDIvol', slices([0, 5, 10], () => undefined), 'no CTDIvol: no DLP'],
    [
      'CTDIvol on some slices only',
      slices([0, 5, 10], (i) => (i === 1 ? undefined : 10)),
      'no CTDIvol on 1 of 3 slices: no DLP',
    ],
    ['no slices', [], 'no axial slices: no DLP'],
  ]
  for (const [name, input, note] of cases) {
    const { result } = seriesDose(input)
    t.equal(result.dlpMGyCm, undefined, name)
    t.equal(result.effectiveDoseMSv, undefined, name)
    t.ok(result.notes.includes(note), `${name}: ${result.notes.join('; ')}`)
  }
  t.strictSame(intervals(slices([0])), [undefined], 'a single slice has no interval')
})

t.test('the effective dose estimate: k of the region x DLP', async (t) => {
  const chest = slices([0, 5, 10, 15])
  const auto = seriesDose(chest).result
  t.equal(auto.dlpMGyCm, 20)
  t.equal(auto.region, 'CHEST')
  t.equal(auto.k, 0.014)
  t.ok(close(auto.effectiveDoseMSv, 0.28), 'E = 0.014 x 20 mSv')
  const head = seriesDose(chest, 'HEAD').result
  t.equal(head.region, 'HEAD', 'a region set in the pipeline wins over BodyPartExamined')
  t.ok(close(head.effectiveDoseMSv, 0.042), 'E = 0.0021 x 20 mSv')
  const foot = seriesDose(slices([0, 5]).map((s) => ({ ...s, bodyPart: 'FOOT' }))).result
  t.equal(foot.effectiveDoseMSv, undefined)
  t.strictSame(foot.notes, ['no k-factor for BodyPartExamined "FOOT": no effective dose'])
  const unknown = slices([0, 5]).map((s) => ({ ...s, bodyPart: undefined }))
  t.strictSame(seriesDose(unknown).result.notes, ['no BodyPartExamined: no effective dose (set dose.region)'])
})

t.test('SliceWindow streams: it holds three positions, and refuses descending ones', async (t) => {
  const window = new SliceWindow<string>()
  t.strictSame(window.push(0, 'a'), [])
  t.strictSame(window.push(5, 'b'), [])
  t.strictSame(
    window.push(10, 'c').map((s) => [s.item, s.intervalMm]),
    [['a', 5]],
    'the first slice comes out once the spacing after its neighbour is known',
  )
  t.strictSame(
    window.push(15, 'd').map((s) => s.item),
    ['b'],
  )
  t.throws(() => window.push(12, 'e'), RangeError)
  t.strictSame(
    window.end().map((s) => [s.item, s.intervalMm]),
    [
      ['c', 5],
      ['d', 5],
    ],
  )
  t.strictSame(window.push(100, 'x'), [], 'after end, a new series starts')
  t.strictSame(
    window.end().map((s) => s.intervalMm),
    [undefined],
  )
})

t.test('locateSlice: which images count, and where', async (t) => {
  // Written as cell text, made typed as the reader makes them.
  const cells = (over: Partial<Record<keyof SliceCells, string>>): SliceCells => {
    const text = {
      imageType: 'ORIGINAL\\PRIMARY\\AXIAL',
      orientation: AXIAL,
      imagePosition: '-125\\-125\\-40',
      sliceLocation: '-40',
      ...over,
    }
    return {
      imageType: typed(text.imageType),
      orientation: typed(text.orientation),
      imagePosition: typed(text.imagePosition),
      sliceLocation: typed(text.sliceLocation),
    }
  }
  const tilt = (degrees: number) => {
    const r = (degrees * Math.PI) / 180
    return `1\\0\\0\\0\\${Math.cos(r)}\\${Math.sin(r)}`
  }
  const cases: [string, Partial<Record<keyof SliceCells, string>>, ReturnType<typeof locateSlice>][] = [
    ['axial, SliceLocation agrees with the position', {}, { position: -40 }],
    ['a localizer', { imageType: 'ORIGINAL\\PRIMARY\\LOCALIZER' }, { excluded: 'localizer' }],
    ['a sagittal reformat', { orientation: '0\\1\\0\\0\\0\\-1' }, { excluded: 'not axial' }],
    ['a coronal reformat', { orientation: '1\\0\\0\\0\\0\\-1' }, { excluded: 'not axial' }],
    ['a 60° oblique', { orientation: tilt(60), sliceLocation: '' }, { excluded: 'not axial' }],
    [
      'a 20° gantry tilt: the projection on the normal',
      { orientation: tilt(20), imagePosition: '0\\0\\-40', sliceLocation: '' },
      { position: -40 * Math.cos((20 * Math.PI) / 180), note: 'position from ImagePositionPatient (no SliceLocation)' },
    ],
    [
      'no SliceLocation',
      { sliceLocation: '' },
      { position: -40, note: 'position from ImagePositionPatient (no SliceLocation)' },
    ],
    [
      'feet first: SliceLocation is z, the normal points to -z',
      { orientation: '-1\\0\\0\\0\\1\\0' },
      { position: 40, note: 'position from ImagePositionPatient (SliceLocation differs by 80 mm)' },
    ],
    ['no orientation: SliceLocation', { orientation: '', imagePosition: '' }, { position: -40 }],
    ['neither', { sliceLocation: '', imagePosition: '' }, { excluded: 'no position' }],
    ['SliceLocation within 0.01 mm of the position', { sliceLocation: '-40.005' }, { position: -40.005 }],
  ]
  for (const [name, over, expected] of cases) {
    const location = locateSlice(cells(over))
    if (expected.position === undefined) t.strictSame(location, expected, name)
    else {
      t.ok(close(location.position, expected.position), `${name}: ${location.position}`)
      t.equal(location.excluded ? undefined : location.note, expected.note, name)
    }
  }
  t.strictSame(sliceNormal(typed(AXIAL)), [0, 0, 1])
  t.equal(sliceNormal(typed('1\\0\\0\\1\\0\\0')), undefined, 'parallel row and column: no plane')
  t.equal(sliceNormal(typed('1\\0\\0')), undefined)
})
