// Aggregates fold a group's cells one at a time: empty cells skipped, numbers by value.
import t from 'tap'
import { AGGREGATE_OPS, aggregator, type AggregateOp } from '../../src/metrics/aggregate.js'
import { valueText } from '../../src/values.js'

const fold = (op: AggregateOp, cells: string[]) => {
  const a = aggregator(op)
  for (const cell of cells) a.add(cell)
  return valueText(a.result())
}

t.test('each operation over the same cells', async (t) => {
  const cells = ['10', '', '2.5', '-1', '1e1']
  const cases: [AggregateOp, string][] = [
    ['count', '4'],
    ['sum', '21.5'],
    ['min', '-1'],
    ['max', '10'],
    ['mean', '5.375'],
    ['first', '10'],
    ['last', '1e1'],
  ]
  t.strictSame(
    cases.map(([op]) => op),
    [...AGGREGATE_OPS],
    'every operation is tested',
  )
  for (const [op, expected] of cases) t.equal(fold(op, cells), expected, op)
})

t.test('nothing to aggregate: empty, except count', async (t) => {
  for (const op of AGGREGATE_OPS) t.equal(fold(op, ['', '']), op === 'count' ? '0' : '', op)
})

t.test('text: min and max in natural order; sum and mean empty', async (t) => {
  const cells = ['IM10', 'IM2', 'CT', '7']
  t.equal(fold('min', cells), '7', 'numbers before text')
  t.equal(fold('max', cells), 'IM10', 'IM10 after IM2')
  t.equal(fold('sum', cells), '')
  t.equal(fold('mean', cells), '')
  t.equal(fold('first', ['', 'Head 5.0', 'Head 3.0']), 'Head 5.0', 'the first non-empty cell')
})

t.test('sums drop binary noise', async (t) => {
  t.equal(fold('sum', ['0.1', '0.2']), '0.3')
  t.equal(fold('mean', ['0.1', '0.2', '0.3']), '0.2')
})
