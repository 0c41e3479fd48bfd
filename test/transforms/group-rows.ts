// The grouper: one row per group of rows sorted by the keys, with aggregates and the cells of
// per-group accumulators (a metric's: dose's are tested in test/metrics/dose.ts); it never holds
// a group's rows.
import t from 'tap'
import { Readable } from 'node:stream'
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
