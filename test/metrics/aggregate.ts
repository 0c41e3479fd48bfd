// Aggregates fold a group's cells: empty cells skipped, numbers by value; percentiles and
// count_distinct exact, their values held in memory within a budget and spilled to disk beyond.
import t from 'tap'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AGGREGATE_DOCS,
  AGGREGATE_OPS,
  aggregator,
  groupAggregates,
  isAggregateOp,
  isFoldOp,
  percentiles,
  type AggregateColumn,
  type AggregateOp,
  type GroupAggregatesOptions,
} from '../../src/metrics/aggregate.js'
import { HeldValues } from '../../src/metrics/held-values.js'
import { Decimal, PersonName, valueText, type Value } from '../../src/values.js'
import { typed } from '../fixtures/typed.js'

/** The aggregates of one group of rows, as groupRows computes them. */
async function aggregate(
  rows: readonly (readonly Value[])[],
  columns: readonly AggregateColumn[],
  options: GroupAggregatesOptions = {},
): Promise<Value[]> {
  const group = groupAggregates(columns, options)()
  for (const row of rows) await group.add([...row])
  return group.result()
}

/** One operation over one column of cells (text cells made typed as the reader makes them). */
const fold = async (op: AggregateOp, cells: readonly (string | Value)[], options: GroupAggregatesOptions = {}) => {
  const rows = cells.map((cell) => [typeof cell === 'string' ? typed(cell) : cell])
  return valueText((await aggregate(rows, [{ index: 0, op }], options))[0])
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
    ['last', '10'],
    ['median', '6.25'],
    ['stddev', '5.528'],
    ['count_distinct', '3'],
  ]
  t.strictSame(
    cases.map(([op]) => op),
    [...AGGREGATE_OPS],
    'every operation is tested',
  )
  for (const [op, expected] of cases) t.equal(await fold(op, cells), expected, op)
  t.equal(await fold('p25', cells), '1.625', 'p25: -1 + 0.75 x (2.5 - -1)')
  t.strictSame(Object.keys(AGGREGATE_DOCS).sort(), [...AGGREGATE_OPS, 'pNN'].sort(), 'every operation is documented')
})

t.test('pNN: p0 to p100, without leading zeros', async (t) => {
  const cases: [string, boolean][] = [
    ['p0', true],
    ['p5', true],
    ['p50', true],
    ['p95', true],
    ['p100', true],
    ['p101', false],
    ['p05', false],
    ['p', false],
    ['p9.5', false],
    ['P95', false],
    ['median', true],
    ['mode', false],
  ]
  for (const [op, ok] of cases) t.equal(isAggregateOp(op), ok, op)
  t.notOk(isFoldOp('p95'))
  t.notOk(isFoldOp('count_distinct'))
  t.ok(isFoldOp('stddev'), 'stddev folds in constant memory')
})

t.test("percentiles and stddev: numpy's values (numpy.percentile, numpy.std(ddof=1))", async (t) => {
  // python3 -c "import numpy as np; print(np.percentile(xs, [0, 25, 50, 75, 95, 100]), np.std(xs, ddof=1))"
  const cases: [number[], number[], number | null][] = [
    [[1, 2, 3, 4], [1, 1.75, 2.5, 3.25, 3.85, 4], 1.2909944487358056],
    [[7], [7, 7, 7, 7, 7, 7], null],
    [[3, 1, 2], [1, 1.5, 2, 2.5, 2.9, 3], 1],
    [[1, 1, 1, 5, 5, 9], [1, 1, 3, 5, 8, 9], 3.265986323710904],
    [[0.1, 0.2, 0.3, 0.4, 0.5], [0.1, 0.2, 0.3, 0.4, 0.48, 0.5], 0.15811388300841897],
  ]
  const ops: AggregateOp[] = ['p0', 'p25', 'median', 'p75', 'p95', 'p100', 'stddev']
  for (const [xs, expected, sd] of cases) {
    const got = await aggregate(
      xs.map((x) => [x]),
      ops.map((op) => ({ index: 0, op })),
      { precision: 'full' },
    )
    const want = [...expected, sd]
    for (const [i, op] of ops.entries()) {
      const close = want[i] === null ? got[i] === null : Math.abs((got[i] as number) - (want[i] as number)) < 1e-12
      t.ok(close, `${op} of [${xs.join(', ')}]: ${String(got[i])}, numpy ${String(want[i])}`)
    }
  }
})

/** A random generator with a seed, so that a failure can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** The percentile as the definition says it (numpy's linear method), for the sorted numbers. */
function oracle(sorted: readonly number[], p: number): number {
  const h = ((sorted.length - 1) * p) / 100
  const low = Math.floor(h)
  const high = Math.min(low + 1, sorted.length - 1)
  return sorted[low] + (h - low) * (sorted[high] - sorted[low])
}

t.test('percentiles, stddev and count_distinct on random data with ties, in memory and spilled', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'etl-test-aggregate-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const ops: AggregateOp[] = ['p0', 'p1', 'p25', 'median', 'p75', 'p95', 'p99', 'p100', 'stddev', 'count_distinct']
  const columns = ops.map((op) => ({ index: 0, op }))
  for (const seed of [1, 2, 3, 4, 5]) {
    const next = random(seed)
    const size = 200 + Math.floor(next() * (seed === 5 ? 20000 : 3000))
    // Few different values (ties), some negative, some with a fraction.
    const levels = 1 + Math.floor(next() * 50)
    const xs = Array.from({ length: size }, () => Math.floor(next() * levels) * 0.5 - 3)
    const rows = xs.map((x): Value[] => [x])
    const sorted = [...xs].sort((a, b) => a - b)
    const info = { runs: 0, intermediateMerges: 0 }
    const inMemory = await aggregate(rows, columns, { precision: 'full' })
    const spilled = await aggregate(rows, columns, {
      precision: 'full',
      memoryBytes: seed === 5 ? 65536 : 4096,
      tempDir: folder,
      info,
    })
    t.ok(info.runs > 1, `seed ${seed}: ${size} values spilled in ${info.runs} runs`)
    t.strictSame(spilled, inMemory, `seed ${seed}: spilled and in memory agree exactly`)
    for (const [i, op] of ops.entries()) {
      if (op === 'stddev' || op === 'count_distinct') continue
      const p = op === 'median' ? 50 : Number(op.slice(1))
      const want = oracle(sorted, p)
      t.ok(Math.abs((inMemory[i] as number) - want) <= 1e-12 * Math.max(1, Math.abs(want)), `seed ${seed}: ${op}`)
    }
    t.equal(inMemory[ops.indexOf('count_distinct')], new Set(xs).size, `seed ${seed}: count_distinct`)
    const mean = xs.reduce((a, b) => a + b, 0) / size
    const sd = size < 2 ? null : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (size - 1))
    const got = inMemory[ops.indexOf('stddev')]
    t.ok(sd === null ? got === null : Math.abs((got as number) - sd) <= 1e-9 * Math.max(1, sd), `seed ${seed}: stddev`)
    t.strictSame(readdirSync(folder), [], `seed ${seed}: the spilled runs are removed`)
  }
})

t.test('percentiles of several columns in one group, each column spilled on its share of the budget', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'etl-test-aggregate-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const rows = Array.from({ length: 3000 }, (_, i): Value[] => [i % 97, (i * 7919) % 1000, `UID.${i % 313}`])
  const columns: AggregateColumn[] = [
    { index: 0, op: 'median' },
    { index: 1, op: 'p95' },
    { index: 0, op: 'p5' },
    { index: 2, op: 'count_distinct' },
    { index: 1, op: 'count' },
  ]
  const info = { runs: 0, intermediateMerges: 0 }
  const spilled = await aggregate(rows, columns, { precision: 'full', memoryBytes: 8192, tempDir: folder, info })
  t.ok(info.runs > 0, 'spilled')
  t.strictSame(spilled, await aggregate(rows, columns, { precision: 'full' }))
  const [a, b] = [rows.map((r) => r[0] as number), rows.map((r) => r[1] as number)]
  t.strictSame(spilled, [...percentiles(a, [50]), ...percentiles(b, [95]), ...percentiles(a, [5]), 313, 3000])
  t.strictSame(readdirSync(folder), [])
})

t.test('typed numbers only: text, a list or NaN in the column gives no percentile or stddev', async (t) => {
  const cases: [string, Value[], string][] = [
    ['a Decimal counts as its double', [1, new Decimal('12345678901234567890'), 3], '3'],
    ['text that looks like a number is text', [1, '2', 3], ''],
    ['a list', [1, [2, 3], 4], ''],
    ['NaN', [1, NaN, 3], ''],
    ['a name', [1, new PersonName('Doe^John')], ''],
    ['empty cells are skipped', [null, 4, '', 2], '3'],
    ['nothing', [null, ''], ''],
  ]
  const one = async (op: AggregateOp, cells: Value[]) =>
    valueText(
      (
        await aggregate(
          cells.map((cell) => [cell]),
          [{ index: 0, op }],
        )
      )[0],
    )
  for (const [message, cells, median] of cases) {
    t.equal(await one('median', cells), median, `median: ${message}`)
    if (median === '') t.equal(await one('stddev', cells), '', `stddev: ${message}`)
  }
  t.equal(await fold('count_distinct', [null, '', null]), '0', 'count_distinct of nothing is 0')
})

t.test('count_distinct: values equal as group_by compares them', async (t) => {
  const cases: [string, Value[], number][] = [
    ['numbers by value', [2, 2.0, 2.5, 3], 3],
    ['a Decimal by value; text of a number is that number, as in group_by', [1, new Decimal('1e20'), '1', 'a'], 3],
    ['case counts', ['Head', 'HEAD', 'head', 'Head'], 3],
    ['names as stored', [new PersonName('Doe^John'), new PersonName('Doe^John'), new PersonName('Roe^Jane')], 2],
    [
      'lists by their values',
      [
        [1, 2],
        [1, 2],
        [2, 1],
      ],
      2,
    ],
  ]
  for (const [message, cells, count] of cases) {
    const [got] = await aggregate(
      cells.map((cell) => [cell]),
      [{ index: 0, op: 'count_distinct' }],
    )
    t.equal(got, count, message)
  }
})

t.test('precision: computed numbers rounded, picked cells and counts exact', async (t) => {
  const cells: Value[] = [56.3005799204214, 65.9373835494637, 46.66478]
  const cases: [AggregateOp, GroupAggregatesOptions['precision'], string][] = [
    ['mean', 4, '56.3'],
    ['mean', 6, '56.3009'],
    ['mean', 'full', String((56.3005799204214 + 65.9373835494637 + 46.66478) / 3)],
    ['mean', 17, String((56.3005799204214 + 65.9373835494637 + 46.66478) / 3)],
    ['sum', 4, '168.9'],
    ['sum', 1, '200'],
    ['median', 4, '56.3'],
    ['p95', 4, '64.97'],
    ['p95', 3, '65'],
    ['stddev', 4, '9.636'],
    ['max', 1, '65.9373835494637'],
    ['first', 2, '56.3005799204214'],
  ]
  for (const [op, precision, expected] of cases) {
    t.equal(await fold(op, cells, { precision }), expected, `${op}, precision ${String(precision)}`)
  }
  t.equal(await fold('mean', cells), '56.3', 'the default: 4 significant digits')
  t.equal(await fold('sum', [123456, 654321, 1], { precision: 2 }), '777778', 'a sum of whole numbers is exact')
  t.equal(await fold('count', Array<Value>(12345).fill(1), { precision: 1 }), '12345', 'counts are exact')
})

t.test('HeldValues: within the budget in memory; beyond, through the sorter; destroy removes the runs', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'etl-test-held-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const small = new HeldValues({ memoryBytes: 1024, tempDir: folder })
  for (const x of [3, 1, 2]) await small.add(x)
  t.notOk(small.spilled, 'three numbers fit 1 KiB')
  const info = { runs: 0, intermediateMerges: 0 }
  const big = new HeldValues({ memoryBytes: 256, tempDir: folder, info })
  for (let i = 0; i < 2000; i++) await big.add(`text ${2000 - i}`)
  t.ok(big.spilled && info.runs > 0, 'spilled to runs on disk')
  const runs = readdirSync(folder)
  t.equal(runs.length, 1, "one folder of runs, the sorter's")
  t.match(runs[0], /^etl-sort-\d+-\d+-/, 'named as the sorter names its folders (stale ones are found)')
  t.equal(statSync(join(folder, runs[0])).mode & 0o777, 0o700, 'private: mode 0700')
  big.destroy()
  await new Promise((resolve) => setImmediate(resolve))
  t.strictSame(readdirSync(folder), [], 'destroyed: the folder is removed')
  const sorted: Value[] = []
  for await (const batch of small.sorted()) sorted.push(...batch)
  t.strictSame(sorted, [1, 2, 3])
})

t.test('constant-memory folds', async (t) => {
  t.equal(valueText(aggregator('stddev').result()), '', 'stddev of nothing')
})

t.test('nothing to aggregate: empty, except the counts', async (t) => {
  for (const op of [...AGGREGATE_OPS, 'p95'] as AggregateOp[]) {
    t.equal(await fold(op, ['', '']), op === 'count' || op === 'count_distinct' ? '0' : '', op)
  }
})

t.test('text: min and max in natural order; sum and mean empty', async (t) => {
  const cells = ['IM10', 'IM2', 'CT', '7']
  t.equal(await fold('min', cells), '7', 'numbers before text')
  t.equal(await fold('max', cells), 'IM10', 'IM10 after IM2')
  t.equal(await fold('sum', cells), '')
  t.equal(await fold('mean', cells), '')
  t.equal(await fold('median', cells), '')
  t.equal(await fold('count_distinct', cells), '4')
  t.equal(await fold('first', ['', 'Head 5.0', 'Head 3.0']), 'Head 5.0', 'the first non-empty cell')
})

t.test('sums drop binary noise', async (t) => {
  t.equal(await fold('sum', ['0.1', '0.2']), '0.3')
  t.equal(await fold('mean', ['0.1', '0.2', '0.3']), '0.2')
  t.equal(await fold('sum', ['0.1', '0.2'], { precision: 'full' }), '0.30000000000000004', 'full: every digit')
})
