// Parquet writers compared on a typical table, each in its own process (so peak RSS is its own):
// 1,000,000 rows of 10 columns (3 UIDs of ~60 chars, 2 doubles, 1 integer, a list of 3 doubles,
// a nullable text that is mostly null, a date text, a path of ~40 chars), fed row by row and
// written row group by row group to a file in the scratch folder.
//
//   node scripts/bench-parquet.mjs [scratch=/tmp] [--rows 1000000] [--group 16384]
//        [--lib none,hyparquet-writer,parquet-wasm,@dsnp/parquetjs] [--modules DIR]
//
// --modules is a folder whose node_modules holds the writers (default: this project's), so that
// candidates can be measured without being dependencies. A writer that is not installed is
// skipped. For each writer it prints seconds, peak RSS, file size, and whether the bytes stream:
// how many bytes reached the file before the last row was given to the writer (the 4-byte
// `PAR1` header alone does not count), and at which row the first row group came out.
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { ReadableStream } from 'node:stream/web'
import { setImmediate } from 'node:timers'
import { fileURLToPath, pathToFileURL } from 'node:url'

const argv = process.argv.slice(2)
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const [value] = argv.splice(i, 2).slice(1)
  return value
}
const rows = Number(option('rows', '1000000'))
const group = Number(option('group', '16384'))
const libs = option('lib', 'none,hyparquet-writer,parquet-wasm,@dsnp/parquetjs').split(',')
const modules = resolve(option('modules', fileURLToPath(new URL('..', import.meta.url))))
const child = option('child', undefined)
const scratch = argv[0] ?? '/tmp'

/** Imports a package as installed under `modules`. */
async function load(name) {
  const require = createRequire(join(modules, 'noop.js'))
  return import(pathToFileURL(require.resolve(name)).href)
}

// ---- the table -------------------------------------------------------------------------------

const UID = '1.2.826.0.1.3680043.8.498.'
/** Row i: the values as the sink receives them (numbers, strings, null, an array). */
function row(i) {
  const series = Math.floor(i / 200)
  return [
    `${UID}${10000000000 + Math.floor(series / 20)}.${1234567890123456}.1`, // study ~60
    `${UID}${10000000000 + series}.${1234567890123456}.2.${series % 7}`, // series ~62
    `${UID}${10000000000 + i}.${1234567890123456}.3.${i % 997}`, // sop ~64
    120 + (i % 3) * 10, // kvp
    Math.round((5 + (i % 1000) / 37) * 1000) / 1000, // ctdi
    (i % 200) + 1, // instance
    [-250.5 + (i % 7), -180.25, -40 + (i % 200) * 5], // position
    i % 10 === 0 ? `ACC${i}` : null, // accession, 90% null
    `2024${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}`, // date
    `/data/dicom/2024/${String(series).padStart(6, '0')}/IM${String(i).padStart(8, '0')}.dcm`, // path ~40
  ]
}
const NAMES = ['study', 'series', 'sop', 'kvp', 'ctdi', 'instance', 'position', 'accession', 'date', 'path']
const TYPES = ['text', 'text', 'text', 'number', 'number', 'integer', 'number[]', 'text', 'text', 'text']

// ---- one adapter per writer: (out) => { add(row), end() } ------------------------------------

const writers = {
  /** No writer: the rows made and dropped, the baseline of time and memory. */
  async none() {
    return { add() {}, end() {} }
  },

  /** hyparquet-writer: a ParquetWriter over a ByteWriter whose flush() hands out each row group. */
  async 'hyparquet-writer'(out) {
    const { ParquetWriter, ByteWriter } = await load('hyparquet-writer')
    const schema = [{ name: 'root', num_children: NAMES.length }]
    for (let c = 0; c < NAMES.length; c++) {
      const t = TYPES[c]
      if (t === 'number[]') {
        schema.push(
          { name: NAMES[c], repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          { name: 'element', repetition_type: 'OPTIONAL', type: 'DOUBLE' },
        )
      } else if (t === 'text') {
        schema.push({ name: NAMES[c], repetition_type: 'OPTIONAL', type: 'BYTE_ARRAY', converted_type: 'UTF8' })
      } else {
        schema.push({ name: NAMES[c], repetition_type: 'OPTIONAL', type: t === 'integer' ? 'INT64' : 'DOUBLE' })
      }
    }
    const bytes = new ByteWriter()
    bytes.flush = () => {
      out.write(new Uint8Array(bytes.buffer.slice(0, bytes.index)))
      bytes.index = 0
    }
    const writer = new ParquetWriter({ writer: bytes, schema })
    bytes.flush()
    let columns = NAMES.map(() => [])
    let count = 0
    const emit = () => {
      if (count === 0) return
      writer.write({ columnData: NAMES.map((name, c) => ({ name, data: columns[c] })), rowGroupSize: count })
      columns = NAMES.map(() => [])
      count = 0
    }
    return {
      add(r) {
        for (let c = 0; c < r.length; c++)
          columns[c].push(TYPES[c] === 'integer' && r[c] !== null ? BigInt(r[c]) : r[c])
        if (++count === group) emit()
      },
      end() {
        emit()
        writer.finish()
        bytes.flush()
      },
    }
  },

  /** parquet-wasm (arrow-rs in wasm): apache-arrow batches, IPC into wasm, transformParquetStream. */
  async 'parquet-wasm'(out) {
    const arrow = await load('apache-arrow')
    const wasm = await load('parquet-wasm/node')
    const types = TYPES.map((t) =>
      t === 'text'
        ? new arrow.Utf8()
        : t === 'integer'
          ? new arrow.Int64()
          : t === 'number'
            ? new arrow.Float64()
            : new arrow.List(new arrow.Field('item', new arrow.Float64(), true)),
    )
    const fields = NAMES.map((name, c) => new arrow.Field(name, types[c], true))
    const schema = new arrow.Schema(fields)
    const properties = new wasm.WriterPropertiesBuilder()
      .setCompression(wasm.Compression.SNAPPY)
      .setMaxRowGroupSize(group)
      .build()
    let pushBatch
    const batches = new ReadableStream({
      start(controller) {
        pushBatch = controller
      },
    })
    // transformParquetStream resolves only once the first batch is in: do not await it here.
    const pumped = (async () => {
      for await (const chunk of await wasm.transformParquetStream(batches, properties)) out.write(chunk)
    })()
    let columns = NAMES.map(() => [])
    let count = 0
    const emit = () => {
      if (count === 0) return
      const vectors = {}
      for (let c = 0; c < NAMES.length; c++) {
        vectors[NAMES[c]] = arrow.vectorFromArray(
          TYPES[c] === 'integer' ? columns[c].map((v) => (v === null ? null : BigInt(v))) : columns[c],
          types[c],
        )
      }
      const table = new arrow.Table(schema, vectors)
      const wasmTable = wasm.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'))
      for (const batch of wasmTable.recordBatches()) pushBatch.enqueue(batch)
      columns = NAMES.map(() => [])
      count = 0
    }
    return {
      add(r) {
        for (let c = 0; c < r.length; c++) columns[c].push(r[c])
        if (++count === group) emit()
      },
      async end() {
        emit()
        pushBatch.close()
        await pumped
      },
      // The wasm side writes in its own time: give it a turn after each batch.
      tick: () => new Promise((r) => setImmediate(r)),
    }
  },

  /** @dsnp/parquetjs: openStream + appendRow, which buffers rowGroupSize rows and writes them. */
  async '@dsnp/parquetjs'(out) {
    const parquet = await load('@dsnp/parquetjs')
    const { ParquetSchema, ParquetWriter } = parquet.default ?? parquet
    const spec = {}
    for (let c = 0; c < NAMES.length; c++) {
      const t = TYPES[c]
      spec[NAMES[c]] =
        t === 'number[]'
          ? { type: 'DOUBLE', repeated: true, compression: 'SNAPPY' }
          : {
              type: t === 'text' ? 'UTF8' : t === 'integer' ? 'INT64' : 'DOUBLE',
              optional: true,
              compression: 'SNAPPY',
            }
    }
    const writer = await ParquetWriter.openStream(new ParquetSchema(spec), out, { rowGroupSize: group })
    return {
      async add(r) {
        const record = {}
        for (let c = 0; c < r.length; c++) if (r[c] !== null) record[NAMES[c]] = r[c]
        await writer.appendRow(record)
      },
      end: () => writer.close(),
    }
  },
}

// ---- child: one writer, one file -------------------------------------------------------------

async function measure(name) {
  const file = join(scratch, `bench-${name.replace(/\W/g, '_')}.parquet`)
  const out = createWriteStream(file)
  let written = 0
  let firstGroupAt = -1
  let current = 0
  const write = out.write.bind(out)
  out.write = (chunk, ...rest) => {
    written += chunk.length
    if (written > 4 && firstGroupAt < 0) firstGroupAt = current
    return write(chunk, ...rest)
  }
  const started = performance.now()
  const writer = await writers[name](out)
  for (let i = 0; i < rows; i++) {
    current = i + 1
    const result = writer.add(row(i))
    if (result) await result
    if (out.writableNeedDrain) await new Promise((r) => out.once('drain', r))
    if (writer.tick && i % group === group - 1) await writer.tick()
  }
  const beforeEnd = written
  await writer.end()
  // @dsnp/parquetjs ends the stream itself on close().
  if (!out.writableEnded) out.end()
  if (!out.closed) await new Promise((r, j) => out.once('close', r).once('error', j))
  const seconds = (performance.now() - started) / 1000
  const size = statSync(file).size || 0
  rmSync(file)
  return {
    library: name,
    seconds: Number(seconds.toFixed(2)),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    fileMB: Number((size / 1e6).toFixed(1)),
    bytesBeforeLastRow: beforeEnd,
    firstRowGroupOutAtRow: firstGroupAt,
    streams: beforeEnd > 4,
  }
}

if (child) {
  process.stdout.write(JSON.stringify(await measure(child)))
} else {
  const dir = mkdtempSync(join(scratch, 'bench-parquet-'))
  const script = fileURLToPath(import.meta.url)
  const results = []
  for (const name of libs) {
    try {
      if (name !== 'none')
        createRequire(join(modules, 'noop.js')).resolve(name === 'parquet-wasm' ? 'parquet-wasm/node' : name)
    } catch {
      console.error(`${name}: not installed under ${modules}, skipped`)
      continue
    }
    const args = [script, dir, '--child', name, '--rows', String(rows), '--group', String(group), '--modules', modules]
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    if (run.status !== 0) {
      console.error(`${name}: exit ${run.status}`)
      continue
    }
    results.push(JSON.parse(run.stdout))
    console.error(`${name}: done`)
  }
  rmSync(dir, { recursive: true, force: true })
  console.log(`${rows} rows, row groups of ${group} rows`)
  console.table(results)
}
