/**
 * Parquet sink: typed rows in, the bytes of one Parquet file out, row group by row group.
 *
 * State: the values of the row group being filled, one array per column (converted as each row
 * comes, so rows are not kept), and hyparquet-writer's `ParquetWriter`, which keeps only the
 * metadata of the row groups written (sizes, offsets, statistics) for the footer. When a group
 * holds `rowGroupRows` rows it is encoded and its bytes are pushed; the footer follows the last
 * group on end. Memory is bounded by one row group, whatever the number of rows.
 *
 * Columns (every one nullable), from {@link ColumnType}:
 * - `number`: DOUBLE; `integer`: INT64; `text`: BYTE_ARRAY annotated STRING (UTF-8); `bytes`:
 *   BYTE_ARRAY; `list: true`: a three-level LIST of that type, its elements nullable.
 *
 * Values never make the sink throw; one that the column's type cannot hold is written as null:
 * - `number`: a number as is (NaN and infinities too), a {@link Decimal} as its nearest double,
 *   text that is a decimal number as that number; a single value in an array as that value;
 * - `integer`: an integer in INT64 range, exactly, whether a number, a {@link Decimal} (an IS
 *   beyond 2^53) or text; a fraction is null, not rounded: the column type comes from the VR, so a
 *   fraction is a malformed value, and a rounded one would be a wrong one;
 * - `text`: strings as they are, anything else as {@link valueText} with `context.format`;
 * - `bytes`: a {@link Binary}'s bytes, anything else the UTF-8 of its text;
 * - a list column takes an array element by element, and any other value as a one-element list.
 */
import { Transform } from 'node:stream'
import type { SchemaElement, Writer } from 'hyparquet-writer'
import { Binary, Decimal, valueNumber, valueText, type Row, type TextOptions, type Value } from '../values.js'
import type { ColumnType, SinkContext } from './sink.js'

/** hyparquet-writer, loaded on first use: a run that writes no Parquet never parses it. */
let library: typeof import('hyparquet-writer') | undefined

/** Loads the Parquet library; {@link parquetSink} needs it. */
export async function loadParquetLibrary(): Promise<void> {
  library ??= await import('hyparquet-writer')
}

/** Options of {@link parquetSink}. */
export interface ParquetOptions {
  /**
   * Rows per row group: the sink holds this many rows' values before it writes them. Default
   * 16,384: for 1M rows of 10 columns (`scripts/bench-parquet.mjs`) a peak RSS of 210 MB (the rows
   * alone: 109 MB), where 65,536 took 430 MB, and a file only 5% larger (15.0 against 14.3 MB).
   */
  rowGroupRows?: number
}

/** One value as a column of a given kind stores it (null for none). */
type Cell = number | bigint | string | Uint8Array | null
type Converter = (value: Value) => Cell | Cell[]

/**
 * Rows (one typed {@link Value} per column of `context.columns`) to the bytes of a Parquet file:
 * the schema from the columns' types, a row group per `rowGroupRows` rows, the footer on end. Zero
 * rows give a file with the schema and no row group.
 */
export function parquetSink(context: SinkContext, options: ParquetOptions = {}): Transform {
  if (!library) throw new Error('loadParquetLibrary() must be awaited before parquetSink()')
  const { ByteWriter, ParquetWriter } = library
  const rowGroupRows = options.rowGroupRows ?? 16384
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) {
    throw new TypeError(`Expected \`rowGroupRows\` to be a positive integer, got ${rowGroupRows}`)
  }
  const names = context.columns.map((column) => column.name)
  const converters = context.columns.map((column) => converter(column.type, context.format))

  const bytes = new ByteWriter()
  // Called by the writer after each row group: the bytes so far go out, the buffer is reused.
  const flushBytes = () => {
    if (bytes.index > 0) stream.push(Buffer.from(bytes.buffer.slice(0, bytes.index)))
    bytes.index = 0
  }
  const output: Writer = Object.assign(bytes, { flush: flushBytes })
  const writer = new ParquetWriter({ writer: output, schema: parquetSchema(context), createdBy: 'dicom-etl' })

  let values: Cell[][] = names.map(() => [])
  let count = 0
  const writeGroup = () => {
    if (count === 0) return
    const columnData = names.map((name, c) => ({ name, data: values[c] }))
    values = names.map(() => [])
    void writer.write({ columnData, rowGroupSize: count })
    count = 0
  }

  const stream = new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 64,
    transform(row: Row, _encoding, callback) {
      try {
        for (let c = 0; c < converters.length; c++) values[c].push(converters[c](row[c] ?? null) as Cell)
        if (++count === rowGroupRows) writeGroup()
        callback()
      } catch (error) {
        callback(error as Error)
      }
    },
    flush(callback) {
      try {
        writeGroup()
        void writer.finish()
        flushBytes()
        callback()
      } catch (error) {
        callback(error as Error)
      }
    },
  })
  return stream
}

/** The Parquet schema of the columns: a root, then each column (a list as three levels). */
function parquetSchema(context: SinkContext): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'schema', num_children: context.columns.length }]
  for (const { name, type } of context.columns) {
    if (!type.list) {
      schema.push({ name, repetition_type: 'OPTIONAL', ...PHYSICAL[type.kind] })
      continue
    }
    // parquet-format LogicalTypes.md, "Lists": optional group <name> (LIST) { repeated group list { <element> } }.
    schema.push(
      { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', ...PHYSICAL[type.kind] },
    )
  }
  return schema
}

const PHYSICAL: Record<ColumnType['kind'], Omit<SchemaElement, 'name'>> = {
  number: { type: 'DOUBLE' },
  integer: { type: 'INT64' },
  text: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  bytes: { type: 'BYTE_ARRAY' },
}

/** How a column of the given type converts each value. */
function converter(type: ColumnType, format: TextOptions): Converter {
  const scalar = SCALAR[type.kind]
  const one = (value: Value) => scalar(value, format)
  if (!type.list) return one
  return (value) => (value === null ? null : Array.isArray(value) ? value.map(one) : [one(value)])
}

const SCALAR: Record<ColumnType['kind'], (value: Value, format: TextOptions) => Cell> = {
  number(value) {
    if (Array.isArray(value)) return value.length === 1 ? SCALAR.number(value[0], {}) : null
    return valueNumber(value) ?? null
  },
  integer(value) {
    if (Array.isArray(value)) return value.length === 1 ? SCALAR.integer(value[0], {}) : null
    if (typeof value === 'number') return Number.isInteger(value) ? int64(BigInt(value)) : null
    if (typeof value === 'string') return integerOfText(value)
    if (value instanceof Decimal) return integerOfText(value.text)
    return null
  },
  text(value, format) {
    return value === null ? null : typeof value === 'string' ? value : valueText(value, format)
  },
  bytes(value, format) {
    if (value === null) return null
    if (value instanceof Binary) return value.bytes
    return Buffer.from(valueText(value, format))
  },
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** The integer if it fits INT64, else null. */
function int64(n: bigint): bigint | null {
  return n >= INT64_MIN && n <= INT64_MAX ? n : null
}

/** A decimal number as text (`12345678901234567890`, `-7`, `1.5E3`, `20.0`), exactly, if an integer. */
const DECIMAL_TEXT = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/

/** The exact integer a decimal text holds, if it holds one within INT64; else null. */
function integerOfText(text: string): bigint | null {
  const m = DECIMAL_TEXT.exec(text)
  if (!m || (m[2] === '' && !m[3])) return null
  const fraction = m[3] ?? ''
  const exponent = Number(m[4] ?? 0) - fraction.length
  let digits = (m[2] + fraction).replace(/^0+(?=\d)/, '')
  if (exponent < 0) {
    // The digits past the decimal point must all be zeros.
    const cut = digits.length + exponent
    if (!/^0*$/.test(digits.slice(Math.max(cut, 0)))) return null
    digits = cut > 0 ? digits.slice(0, cut) : '0'
  } else if (digits !== '0') {
    // More than 19 digits is beyond INT64 anyway: no need to build 10^exponent.
    if (digits.length + exponent > 20) return null
    digits += '0'.repeat(exponent)
  }
  return int64(BigInt(m[1] === '-' ? `-${digits}` : digits))
}
