// The grouper: one row per group of rows sorted by the keys, with aggregates and the cells of
// per-group accumulators (a metric's: dose's are tested in test/metrics/dose.ts); it never holds
// a group's rows, and holds the values of percentiles within a budget, spilling beyond it.
import t from 'tap'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { percentiles } from '../../src/metrics/aggregate.js'
import { groupRows } from '../../src/transforms/group-rows.js'
import { textRows, typedRow } from '../fixtures/typed.js'
import type { Row } from '../../src/values.js'

t.test('aggregates per group, groups in key order', async (t) => {
  const rows = [
    ['CT', 'head', '10'],
    ['CT', 'chest', '2.5'],
    ['CT', '', ''],
    ['MR', 'knee', '7'],
  ]
  const info = { groups: 0 }
  const out = await Readable.from(rows.map(typedRow))
    .compose(
      groupRows({
        keys: [0],
        aggregates: [
          { index: 1, op: 'first' },
          { index: 1, op: 'count' },
          { index: 2, op: 'sum' },
          { index: 2, op: 'max' },
        ],
        info,
      }),
    )
    .toArray()
  t.strictSame(textRows(out as Row[]), [
    ['CT', 'head', '2', '12.5', '10'],
    ['MR', 'knee', '1', '7', '7'],
  ])
  t.equal(info.groups, 2)
  t.strictSame(
    await Readable.from([])
      .compose(groupRows({ keys: [0] }))
      .toArray(),
    [],
    'no rows, no groups',
  )
})

t.test('rows out of key order are an error', async (t) => {
  await t.rejects(
    Readable.from([['b'], ['a']])
      .compose(groupRows({ keys: [0] }))
      .toArray(),
    { message: /sorted by the group keys/ },
  )
})

t.test(
  'percentiles and count_distinct per group: a group past the budget spills, the others stay in memory',
  async (t) => {
    const folder = mkdtempSync(join(tmpdir(), 'etl-test-group-'))
    t.teardown(() => rmSync(folder, { recursive: true, force: true }))
    // Group 'a' small, 'b' large (spilled at a budget of 4 KiB), 'c' small.
    const rows: Row[] = [
      ...[3, 1, 2].map((x) => ['a', x, `u${x}`]),
      ...Array.from({ length: 3000 }, (_, i) => ['b', (i * 7) % 101, `u${i % 17}`]),
      ...[10, 10].map((x) => ['c', x, 'u']),
    ]
    const aggregates = [
      { index: 1, op: 'median' },
      { index: 1, op: 'p95' },
      { index: 2, op: 'count_distinct' },
      { index: 1, op: 'stddev' },
    ] as const
    const run = (memoryBytes?: number, spillInfo?: { runs: number; intermediateMerges: number }) =>
      Readable.from(rows)
        .compose(
          groupRows({
            keys: [0],
            aggregates,
            precision: 'full',
            tempDir: folder,
            ...(memoryBytes !== undefined && { memoryBytes }),
            ...(spillInfo && { spillInfo }),
          }),
        )
        .toArray()
    const info = { runs: 0, intermediateMerges: 0 }
    const spilled = (await run(4096, info)) as Row[]
    t.ok(info.runs > 0, `group b spilled: ${info.runs} runs`)
    t.strictSame(spilled, await run(), 'the same rows as in memory')
    const b = rows.filter((r) => r[0] === 'b').map((r) => r[1] as number)
    t.strictSame(
      spilled.map((r) => r.slice(0, 4)),
      [
        ['a', 2, 2.9, 3],
        ['b', ...percentiles(b, [50, 95]), 17],
        ['c', 10, 10, 1],
      ],
    )
    t.equal(spilled[2][4], 0, 'stddev of equal values')
    t.strictSame(readdirSync(folder), [], 'no run left')
  },
)

t.test('a grouper destroyed while a group is spilled removes its runs', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'etl-test-group-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const grouper = groupRows({ keys: [0], aggregates: [{ index: 1, op: 'median' }], memoryBytes: 256, tempDir: folder })
  for (let i = 0; i < 2000; i++) {
    if (!grouper.write(['a', i])) await once(grouper, 'drain')
  }
  t.equal(readdirSync(folder).length, 1, 'the runs of group a')
  grouper.destroy()
  await once(grouper, 'close')
  t.strictSame(readdirSync(folder), [], 'removed')
})
