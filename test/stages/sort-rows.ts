import t from 'tap'
import { Readable } from 'node:stream'
import { compareCells, sortRows, sortRowsInMemory } from '../../src/stages/sort-rows.js'

t.test('cells: numbers by value, text naturally, empty last', async (t) => {
  const cases: [string, string, number][] = [
    ['2', '10', -1],
    ['-66.25', '-7', -1],
    ['1e2', '99', 1],
    ['1.0', '1', 1],
    ['IM2', 'IM10', -1],
    ['5', 'abc', -1],
    ['', '0', 1],
    ['a', '', -1],
    ['x', 'x', 0],
  ]
  for (const [a, b, sign] of cases) t.equal(Math.sign(compareCells(a, b)), sign, `${a} vs ${b}`)
})

t.test('rows: multi-key, stable, descending keeps empty cells last', async (t) => {
  const rows = [
    ['s2', '10', 'a'],
    ['s1', '', 'b'],
    ['s1', '2.5', 'c'],
    ['s2', '-5', 'd'],
    ['s1', '2.5', 'e'],
    ['s1', '-1', 'f'],
  ]
  t.same(
    sortRowsInMemory(
      rows.map((r) => [...r]),
      [
        { index: 0, descending: false },
        { index: 1, descending: false },
      ],
    ).map((r) => r[2]),
    ['f', 'c', 'e', 'b', 'd', 'a'],
  )
  t.same(
    sortRowsInMemory(
      rows.map((r) => [...r]),
      [{ index: 1, descending: true }],
    ).map((r) => r[2]),
    ['a', 'c', 'e', 'f', 'd', 'b'],
    'descending: equal keys keep their order, empty last',
  )
})

t.test('as a stream it emits every row once, sorted', async (t) => {
  const input = Array.from({ length: 1000 }, (_, i) => [String((i * 7919) % 1000)])
  const out: string[][] = []
  for await (const row of Readable.from(input).compose(sortRows([{ index: 0, descending: false }])))
    out.push(row as string[])
  t.same(
    out.map((r) => Number(r[0])),
    Array.from({ length: 1000 }, (_, i) => i),
  )
})
