// The Parquet sink: files read back by DuckDB (an independent reader), their column types,
// values, nulls and row groups.
import t, { type Test } from 'tap'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createRequire, register } from 'node:module'
import { duckdb } from '../fixtures/duckdb.js'
import type { ColumnType, SinkColumn, SinkContext } from '../../src/sinks/sink.js'
import { Binary, Decimal, DicomDate, PersonName, type Row } from '../../src/values.js'

// tap's TypeScript loader (a ts-node fork) resolves package exports as Node 16 did, without
// subpath patterns that go on after the `*`: hyparquet's `"./src/*.js"`, which hyparquet-writer
// imports (`hyparquet/src/schema.js`), fails there with ERR_PACKAGE_PATH_NOT_EXPORTED, where Node
// itself resolves it. A resolve hook registered after tap's runs first and resolves those.
const hyparquet = new URL('.', pathToFileURL(createRequire(import.meta.url).resolve('hyparquet'))).href
const hook = `export function resolve(specifier, context, next) {
  const m = /^hyparquet\\/src\\/([\\w-]+\\.js)$/.exec(specifier)
  return m ? { url: new URL(m[1], ${JSON.stringify(hyparquet)}).href, shortCircuit: true } : next(specifier, context)
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
const { loadParquetLibrary, parquetSink } = await import('../../src/sinks/parquet.js')
await loadParquetLibrary()

const duck = duckdb(t)

const type = (kind: ColumnType['kind'], list = false): ColumnType => ({ kind, list })
const contextOf = (columns: Record<string, ColumnType>, format: SinkContext['format'] = {}): SinkContext => ({
  columns: Object.entries(columns).map(([name, type]): SinkColumn => ({ name, type })),
  format,
})

/** Writes the rows through the sink into a file of the test's folder; returns its path. */
async function write(t: Test, context: SinkContext, rows: Row[], rowGroupRows?: number): Promise<string> {
  const file = join(t.testdir(), 'out.parquet')
  await pipeline(Readable.from(rows), parquetSink(context, { rowGroupRows }), createWriteStream(file))
  return file
}

/** The rows DuckDB reads from the file, as JS values. */
async function read(file: string): Promise<unknown[][]> {
  return (await duck().runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowsJS()
}

/** DuckDB's name and type of each column of the file. */
async function describe(file: string): Promise<string[][]> {
  const result = await duck().runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)
  return result.getRowsJS().map((r) => [String(r[0]), String(r[1])])
}

const ALL_KINDS = contextOf({
  n: type('number'),
  i: type('integer'),
  t: type('text'),
  b: type('bytes'),
  ns: type('number', true),
  is: type('integer', true),
  ts: type('text', true),
})

t.test('column types as DuckDB reads them, every kind and its list', async (t) => {
  const file = await write(t, ALL_KINDS, [
    [1.5, 7, 'a', new Binary(Uint8Array.of(0, 255)), [1, 2.5, -3], [1, 2], ['x', 'y']],
  ])
  t.strictSame(await describe(file), [
    ['n', 'DOUBLE'],
    ['i', 'BIGINT'],
    ['t', 'VARCHAR'],
    ['b', 'BLOB'],
    ['ns', 'DOUBLE[]'],
    ['is', 'BIGINT[]'],
    ['ts', 'VARCHAR[]'],
  ])
  t.strictSame(await read(file), [[1.5, 7n, 'a', Buffer.of(0, 255), [1, 2.5, -3], [1n, 2n], ['x', 'y']]])
})

t.test('nulls in every kind of column, and inside lists', async (t) => {
  const rows: Row[] = [
    [null, null, null, null, null, null, null],
    [null, 1, null, null, [1, null, 3], [null], [null, 'b']],
    [2, null, 'c', null, [], null, []],
  ]
  t.strictSame(await read(await write(t, ALL_KINDS, rows)), [
    [null, null, null, null, null, null, null],
    [null, 1n, null, null, [1, null, 3], [null], [null, 'b']],
    [2, null, 'c', null, [], null, []],
  ])
})

t.test('zero rows: a valid file with the schema and no row group', async (t) => {
  const file = await write(t, ALL_KINDS, [])
  t.strictSame(await read(file), [])
  t.equal((await describe(file)).length, 7)
  t.equal((await describe(file))[5][1], 'BIGINT[]')
  const groups = await duck().runAndReadAll(`SELECT count(*) FROM parquet_metadata('${file}')`)
  t.strictSame(groups.getRowsJS(), [[0n]])
})

t.test('typed values: decimals, names, dates, bytes, by the text format options', async (t) => {
  const context = contextOf(
    { n: type('number'), i: type('integer'), t: type('text'), b: type('bytes'), ts: type('text', true) },
    { names: 'alphabetic', dates: 'iso', separator: '|' },
  )
  const name = new PersonName('Yamada^Tarou=山田^太郎')
  const date = new DicomDate('DA', '20240312')
  const rows: Row[] = [
    [new Decimal('12345678901234567890'), new Decimal('9007199254740993'), name, 'plain', [name, date]],
    [new Decimal('-1.5e3'), new Decimal('-9223372036854775808'), date, new Binary(Buffer.from('abc')), date],
    ['42.5', '42', [1, 2.5, 'x'], ['t', 'u'], 'one'],
  ]
  t.strictSame(await read(await write(t, context, rows)), [
    [12345678901234567000, 9007199254740993n, 'Yamada^Tarou', Buffer.from('plain'), ['Yamada^Tarou', '2024-03-12']],
    [-1500, -9223372036854775808n, '2024-03-12', Buffer.from('abc'), ['2024-03-12']],
    [42.5, 42n, '1|2.5|x', Buffer.from('t|u'), ['one']],
  ])
})

t.test('an integer column writes exact integers in INT64 range, and null for anything else', async (t) => {
  const cases: [string, Row[number], bigint | null][] = [
    ['a Decimal beyond 2^53', new Decimal('9007199254740993'), 9007199254740993n],
    ['the INT64 maximum', new Decimal('9223372036854775807'), 9223372036854775807n],
    ['one over the INT64 maximum', new Decimal('9223372036854775808'), null],
    ['a double beyond INT64', 1e20, null],
    ['a double integer beyond 2^53', 2 ** 60, 2n ** 60n],
    ['an exponent', new Decimal('1.5E3'), 1500n],
    ['trailing zeros', '20.000', 20n],
    ['a fraction', 1.5, null],
    ['a fraction as text', '2.5', null],
    ['a tiny exponent', new Decimal('1E-5'), null],
    ['zero with an exponent', '0E-400', 0n],
    ['text', 'abc', null],
    ['a name', new PersonName('7'), null],
    ['one value in an array', [12], 12n],
    ['two values', [1, 2], null],
    ['NaN', NaN, null],
    ['negative zero', -0, 0n],
  ]
  const file = await write(
    t,
    contextOf({ i: type('integer') }),
    cases.map(([, value]) => [value]),
  )
  const got = await read(file)
  cases.forEach(([message, , want], k) => t.strictSame(got[k][0], want, message))
})

t.test('unicode text, of every plane, and text with NUL characters', async (t) => {
  const texts = ['山田^太郎', 'Ünïcödé', '🩻 x-ray', 'a\0b', '']
  const file = await write(
    t,
    contextOf({ t: type('text') }),
    texts.map((text) => [text]),
  )
  t.strictSame(
    (await read(file)).map((r) => r[0]),
    texts,
  )
})

t.test('more rows than a row group: one row group per rowGroupRows rows', async (t) => {
  const rows: Row[] = Array.from({ length: 2500 }, (_, i) => [i, `r${i}`, [i, i + 0.5]])
  const context = contextOf({ i: type('integer'), t: type('text'), ns: type('number', true) })
  const file = await write(t, context, rows, 1000)
  const groups = await duck().runAndReadAll(
    `SELECT row_group_id, row_group_num_rows FROM parquet_metadata('${file}') GROUP BY ALL ORDER BY 1`,
  )
  t.strictSame(groups.getRowsJS(), [
    [0n, 1000n],
    [1n, 1000n],
    [2n, 500n],
  ])
  const back = await duck().runAndReadAll(`SELECT count(*), sum(i), max(t), sum(ns[2]) FROM read_parquet('${file}')`)
  t.strictSame(back.getRowsJS(), [[2500n, 3123750n, 'r999', 3123750 + 1250]])
})

t.test('bytes come out as each row group completes, not only at the end', async (t) => {
  const sink = parquetSink(contextOf({ i: type('integer') }), { rowGroupRows: 10 })
  const chunks: Buffer[] = []
  sink.on('data', (chunk: Buffer) => chunks.push(chunk))
  for (let i = 0; i < 9; i++) sink.write([i])
  await new Promise(setImmediate)
  t.equal(chunks.length, 0, 'nothing before the first row group is full')
  sink.write([9])
  await new Promise(setImmediate)
  t.equal(chunks.length, 1, 'the header and the first row group')
  t.equal(chunks[0].subarray(0, 4).toString(), 'PAR1')
  sink.end()
  await new Promise((resolve) => sink.on('end', resolve))
  t.equal(chunks.length, 2, 'then the footer')
  t.equal(chunks[1].subarray(-4).toString(), 'PAR1')
})

t.test('rowGroupRows must be a positive integer', async (t) => {
  for (const rowGroupRows of [0, -1, 1.5, NaN]) {
    t.throws(() => parquetSink(contextOf({ i: type('integer') }), { rowGroupRows }), {
      name: 'TypeError',
      message: `Expected \`rowGroupRows\` to be a positive integer, got ${rowGroupRows}`,
    })
  }
})
