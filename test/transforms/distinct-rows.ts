// Repeated rows left out: the first of each run of rows equal on the columns kept.
import t from 'tap'
import { Readable } from 'node:stream'
import { distinctRows } from '../../src/transforms/distinct-rows.js'
import { groupRows } from '../../src/transforms/group-rows.js'
import { sortRows } from '../../src/transforms/sort-rows.js'

const rows = [
  ['e2', 20, 'first report'],
  ['e1', 10, 'first report'],
  ['e1', 10, 'second report'],
  ['e3', 30, 'second report'],
  ['e2', 20, 'second report'],
]

t.test('sorted by the columns, each value once, the first kept; the dropped ones counted', async (t) => {
  const info = { dropped: 0 }
  const out = await Readable.from(rows.map((r) => [...r]))
    .compose(sortRows([{ index: 0, descending: false }]))
    .compose(distinctRows([0], { info }))
    .toArray()
  t.same(out, [
    ['e1', 10, 'first report'],
    ['e2', 20, 'first report'],
    ['e3', 30, 'second report'],
  ])
  t.equal(info.dropped, 2)
})

t.test('within groups: a repeat counts once in every aggregate', async (t) => {
  const keyed = rows.map((r) => ['study', ...r])
  const out = await Readable.from(keyed)
    .compose(
      sortRows([
        { index: 0, descending: false },
        { index: 1, descending: false },
      ]),
    )
    .compose(
      groupRows({
        keys: [0],
        distinct: [1],
        aggregates: [
          { index: 1, op: 'count' },
          { index: 2, op: 'sum' },
        ],
      }),
    )
    .toArray()
  t.same(out, [['study', 3, 60]])
})
