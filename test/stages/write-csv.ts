import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AtomicFileWriter, formatCsv } from '../../src/stages/write-csv.js'

async function csvText(headers: string[], rows: string[][]): Promise<string> {
  let out = ''
  for await (const chunk of Readable.from(rows).compose(formatCsv(headers))) out += String(chunk)
  return out
}

t.test('CSV text: header always, final newline, quoting', async (t) => {
  t.equal(await csvText(['a', 'b'], []), 'a,b\n', 'zero rows still give the header row')
  t.equal(await csvText(['a', 'b'], [['1', '']]), 'a,b\n1,\n', 'empty cells, final newline')
  t.equal(
    await csvText(
      ['name', 'note'],
      [
        ['Doe^Jane', 'said "hi", twice\nthen left'],
        ['山田^太郎', 'ORIGINAL\\PRIMARY'],
      ],
    ),
    'name,note\nDoe^Jane,"said ""hi"", twice\nthen left"\n山田^太郎,ORIGINAL\\PRIMARY\n',
  )
})

t.test('a file appears whole, replacing the old one only on success', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etl-csv-'))
  const target = join(dir, 'out.csv')
  writeFileSync(target, 'old,output\n')
  await pipeline(Readable.from([['1', '2']]), formatCsv(['a', 'b']), new AtomicFileWriter(target))
  t.equal(readFileSync(target, 'utf8'), 'a,b\n1,2\n')
  t.same(readdirSync(dir), ['out.csv'], 'no temporary file is left')

  const failing = new Transform({
    objectMode: true,
    transform(row: string[], _e, cb) {
      cb(row[0] === 'boom' ? new Error('the run failed half-way') : null, row)
    },
  })
  const writer = new AtomicFileWriter(target)
  await t.rejects(
    pipeline(
      Readable.from([
        ['1', '2'],
        ['boom', ''],
      ]),
      failing,
      formatCsv(['a', 'b']),
      writer,
    ),
    {
      message: 'the run failed half-way',
    },
  )
  await writer.discard()
  t.equal(readFileSync(target, 'utf8'), 'a,b\n1,2\n', 'a failed run leaves the previous output intact')
  t.same(readdirSync(dir), ['out.csv'], 'and removes its temporary file')
})

t.test('an output folder that does not exist fails before any row', async (t) => {
  const target = join(mkdtempSync(join(tmpdir(), 'etl-csv-')), 'missing', 'out.csv')
  await t.rejects(pipeline(Readable.from([['1']]), formatCsv(['a']), new AtomicFileWriter(target)), { code: 'ENOENT' })
  t.equal(existsSync(target), false)
})

t.test('a device or FIFO is written in place, never replaced; a folder is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etl-csv-'))
  const fifo = join(dir, 'pipe')
  execFileSync('mkfifo', [fifo])
  const reader = new Promise<string>((resolve) => {
    let text = ''
    createReadStream(fifo, 'utf8')
      .on('data', (d) => (text += d))
      .on('end', () => resolve(text))
  })
  await pipeline(Readable.from([['1']]), formatCsv(['a']), new AtomicFileWriter(fifo))
  t.equal(await reader, 'a\n1\n', 'the FIFO received the CSV')
  t.ok(statSync(fifo).isFIFO(), 'and is still a FIFO')
  await pipeline(Readable.from([['1']]), formatCsv(['a']), new AtomicFileWriter('/dev/null'))
  t.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still a device')
  await t.rejects(pipeline(Readable.from([['1']]), formatCsv(['a']), new AtomicFileWriter(dir)), { code: 'EISDIR' })
})
