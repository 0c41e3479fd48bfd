// The metric contract: a metric declared here, in the test, plugs into the pipeline's composition
// (rowStages, the grouper, the sink's typed header) without a line of run.ts or group-rows.ts
// knowing it; and the registry's metrics are the schema's keys.
import t from 'tap'
import { Readable, Transform } from 'node:stream'
import type { AnyMetric, MetricModule } from '../../src/metrics/metric.js'
import { METRICS } from '../../src/metrics/registry.js'
import { parsePipeline } from '../../src/pipeline/load.js'
import { rowStages } from '../../src/pipeline/run.js'
import { pipelineSchema } from '../../src/pipeline/schema.js'
import type { PipelineSpec } from '../../src/pipeline/spec.js'
import { valueNumber, type Row } from '../../src/values.js'
import { HEADER, axial, localizer } from '../fixtures/dose-rows.js'
import { textRows } from '../fixtures/typed.js'

const NEEDS = { series: { keyword: 'SeriesInstanceUID' }, ctdivol: { keyword: 'CTDIvol' } } as const
const FIELDS = {
  scale: {
    default: 1,
    doc: 'What each CTDIvol is multiplied by.',
    example: 'scale: 2',
    type: { kind: 'integer', min: 1, max: 10 },
  },
} as const

/** A toy metric: each row's CTDIvol scaled, and per group the sum of them. */
const ctdivolSum: MetricModule<'ctdivol_sum', typeof NEEDS, typeof FIELDS> = {
  key: 'ctdivol_sum',
  doc: 'The sum of CTDIvol.',
  example: 'ctdivol_sum: {scale: 1}',
  fields: FIELDS,
  needs: NEEDS,
  beforeColumns: [],
  rowColumns: [{ name: 'ctdivol_scaled', kind: 'number' }],
  groupColumns: [{ name: 'ctdivol_sum_mGy', kind: 'number' }],
  summary: 'CTDIvol per image',
  plan: ({ columns, config }) => {
    const scaled = (row: Row) => (valueNumber(row[columns.ctdivol]) ?? 0) * config.scale
    return {
      sortKeys: [{ index: columns.series, descending: false }],
      perRow: () =>
        new Transform({
          objectMode: true,
          transform: (row: Row, _encoding, callback) => callback(null, [...row, scaled(row)]),
        }),
      perGroup: () => {
        let sum = 0
        return { add: (row) => void (sum += scaled(row)), result: () => [sum] }
      },
    }
  },
}

/** A dose pipeline over the columns of the dose fixtures, with the toy's block beside it. */
function spec(lines: string[], toy: object = { scale: 2 }): PipelineSpec {
  const yaml = ['source: {paths: [.]}', `extract: [${HEADER.join(', ')}]`, ...lines].join('\n')
  const parsed = parsePipeline(yaml, '/tmp')
  if (!parsed.spec) throw new Error(JSON.stringify(parsed.problems))
  return { ...parsed.spec, ctdivol_sum: toy } as PipelineSpec
}

const onDisk = [axial('B', 5, 8), axial('A', 5, 10), axial('B', 0, 8), localizer('A'), axial('A', 0, 10)]

async function run(s: PipelineSpec, metrics: readonly AnyMetric[]) {
  const { stages, header, columns } = rowStages(s, undefined, metrics)
  const rows = await (
    stages.reduce((stream, stage) => stream.compose(stage), Readable.from(onDisk)) as Readable
  ).toArray()
  return { header, kinds: columns.map((c) => c.type.kind), rows: textRows(rows as Row[]) }
}

t.test('a metric from outside the registry: per row, sorted by what it needs', async (t) => {
  const { header, kinds, rows } = await run(spec([]), [ctdivolSum])
  t.strictSame(header, [...HEADER, 'ctdivol_scaled'])
  t.equal(kinds.at(-1), 'number')
  t.strictSame(
    rows.map((r) => [r[0], r.at(-1)]),
    [
      ['A', '20'],
      ['A', '0'],
      ['A', '20'],
      ['B', '16'],
      ['B', '16'],
    ],
    'sorted by series (stably), each CTDIvol times 2',
  )
})

t.test('per group: the grouper calls its accumulator', async (t) => {
  const { header, rows } = await run(spec(['group_by: SeriesInstanceUID']), [ctdivolSum])
  t.strictSame(header, ['SeriesInstanceUID', 'ctdivol_sum_mGy'])
  t.strictSame(rows, [
    ['A', '40'],
    ['B', '32'],
  ])
})

t.test('beside dose: each appends its columns, before-sorter ones first', async (t) => {
  const { header, rows } = await run(spec(['dose: {region: CHEST}']), [...METRICS, ctdivolSum])
  t.strictSame(header, [...HEADER, 'position_mm', 'interval_mm', 'dlp_mGycm', 'dose_note', 'ctdivol_scaled'])
  t.strictSame(
    rows.map((r) => [r[0], ...r.slice(HEADER.length)]),
    [
      ['A', '0', '5', '5', '', '20'],
      ['A', '5', '5', '5', '', '20'],
      ['A', '', '', '', 'excluded: localizer', '0'],
      ['B', '0', '5', '4', '', '16'],
      ['B', '5', '5', '4', '', '16'],
    ],
  )
  const grouped = await run(spec(['dose: {region: CHEST}', 'group_by: SeriesInstanceUID']), [...METRICS, ctdivolSum])
  t.strictSame(grouped.header.slice(-2), ['dose_notes', 'ctdivol_sum_mGy'])
  t.strictSame(
    grouped.rows.map((r) => [r[0], r[7], r.at(-1)]),
    [
      ['A', '10', '40'],
      ['B', '8', '32'],
    ],
    'DLP and the sum, per series',
  )
})

t.test('a metric whose attributes are not extracted is a config error', async (t) => {
  const s = { ...spec([]), columns: spec([]).columns.filter((c) => c.name !== 'CTDIvol') }
  t.throws(() => rowStages(s, undefined, [ctdivolSum]), {
    code: 'E_CONFIG',
    message: 'ctdivol_sum reads CTDIvol: extract them',
  })
})

t.test('the registry: each metric is a schema key whose fields are its own', async (t) => {
  const keys = pipelineSchema.fields as Record<string, { type: { fields?: unknown } }>
  for (const metric of METRICS) t.equal(keys[metric.key].type.fields, metric.fields, metric.key)
})
