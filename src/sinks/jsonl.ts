/**
 * JSON Lines sink: one JSON object per row, keyed by column name, `\n` after each. Numbers are
 * JSON numbers (a {@link Decimal} with its exact digits), multiple values arrays, empty values
 * null; names, dates and binary values are strings as the `format:` options write them.
 */
import { Transform } from 'node:stream'
import { valueJson, type Row } from '../values.js'
import type { SinkContext } from './sink.js'

/** Rows (typed values in column order) to JSON Lines text, in chunks of about 64 KiB. */
export function jsonlSink(context: SinkContext): Transform {
  const keys = context.columns.map((column) => `${JSON.stringify(column.name)}:`)
  const format = context.format
  let chunk = ''
  return new Transform({
    writableObjectMode: true,
    readableObjectMode: false,
    transform(row: Row, _encoding, callback) {
      let line = '{'
      for (let i = 0; i < keys.length; i++) line += (i === 0 ? '' : ',') + keys[i] + valueJson(row[i] ?? null, format)
      chunk += `${line}}\n`
      if (chunk.length >= 65536) {
        this.push(chunk)
        chunk = ''
      }
      callback()
    },
    flush(callback) {
      if (chunk) this.push(chunk)
      callback()
    },
  })
}
