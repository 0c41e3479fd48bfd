// Atomic files: whole or not at all, with the old file's mode, beside a link's target.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from 'node:fs'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AtomicFile, commitAll, resolveTarget } from '../../src/io/atomic-file.js'
import { formatCsv } from '../../src/sinks/csv.js'
import { ROOT } from '../fixtures/cli.js'

const SAMPLE = join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm')

const fileOf = (path: string) => new AtomicFile(resolveTarget(path, 'output', { devices: true }))

t.test('a file appears whole, replacing the old one only when committed', async (t) => {
  const dir = t.testdir({ 'out.csv': 'old,output\n' })
  const target = join(dir, 'out.csv')
  const file = fileOf(target)
  await pipeline(Readable.from([['1', '2']]), formatCsv(['a', 'b']), file)
  t.equal(readFileSync(target, 'utf8'), 'old,output\n', 'written but not committed: the old file is there')
  file.commit()
  t.equal(readFileSync(target, 'utf8'), 'a,b\n1,2\n')
  t.same(readdirSync(dir), ['out.csv'], 'no temporary file is left')

  const failing = new Transform({
    objectMode: true,
    transform(row: string[], _e, cb) {
      cb(row[0] === 'boom' ? new Error('the run failed half-way') : null, row)
    },
  })
  const writer = fileOf(target)
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
    { message: 'the run failed half-way' },
  )
  await writer.discard()
  t.equal(readFileSync(target, 'utf8'), 'a,b\n1,2\n', 'a failed run leaves the previous output intact')
  t.same(readdirSync(dir), ['out.csv'], 'and removes its temporary file')
})

t.test('issue 10: a set of files is committed together or not at all', async (t) => {
  const dir = t.testdir({ 'a.csv': 'old a\n', 'b.csv': 'old b\n' })
  const a = fileOf(join(dir, 'a.csv'))
  const b = fileOf(join(dir, 'b.csv'))
  await pipeline(Readable.from(['new a\n']), a)
  b.destroy(new Error('b failed'))
  await t.rejects(new Promise((_, reject) => b.once('error', reject)))
  t.throws(() => commitAll([a, b]), /committed before its stream finished/)
  t.equal(readFileSync(join(dir, 'b.csv'), 'utf8'), 'old b\n')
})

t.test('issue 10: a replaced file keeps its mode; a new one gets the umask', async (t) => {
  const dir = t.testdir({ 'secret.csv': 'old\n' })
  const target = join(dir, 'secret.csv')
  chmodSync(target, 0o600)
  const file = fileOf(target)
  t.equal(statSync(file.tempPath).mode & 0o777, 0o600, 'the temporary file is 0600 from the start')
  await pipeline(Readable.from(['new\n']), file)
  file.commit()
  t.equal(statSync(target).mode & 0o777, 0o600, 'still 0600 after the rename')
  chmodSync(target, 0o640)
  const again = fileOf(target)
  await pipeline(Readable.from(['newer\n']), again)
  again.commit()
  t.equal(statSync(target).mode & 0o777, 0o640)

  const fresh = join(dir, 'fresh.csv')
  const umask = process.umask()
  const created = fileOf(fresh)
  await pipeline(Readable.from(['x\n']), created)
  created.commit()
  t.equal(statSync(fresh).mode & 0o777, 0o666 & ~umask, `a new file: 0666 less the umask (${umask.toString(8)})`)
})

t.test('issue 10: an output that is a symbolic link stays a link; its target is replaced', async (t) => {
  const dir = t.testdir({ real: { 'out.csv': 'old\n' } })
  symlinkSync(join(dir, 'real/out.csv'), join(dir, 'link.csv'))
  const target = resolveTarget(join(dir, 'link.csv'), 'output')
  t.equal(target.path, join(dir, 'real/out.csv'), 'written beside the target')
  const file = new AtomicFile(target)
  t.equal(file.tempPath.startsWith(join(dir, 'real/')), true)
  await pipeline(Readable.from(['new\n']), file)
  file.commit()
  t.ok(lstatSync(join(dir, 'link.csv')).isSymbolicLink(), 'the link is still a link')
  t.equal(readFileSync(join(dir, 'link.csv'), 'utf8'), 'new\n')
  symlinkSync(join(dir, 'nowhere/x.csv'), join(dir, 'broken.csv'))
  t.throws(() => resolveTarget(join(dir, 'broken.csv'), 'output'), {
    code: 'E_OUTPUT',
    message: /broken symbolic link/,
  })
})

t.test('issue 10: what may not be replaced is refused before anything is written', async (t) => {
  const dir = t.testdir({ sub: {} })
  copyFileSync(SAMPLE, join(dir, 'image.dcm'))
  const cases: [string, string, { devices?: boolean }, RegExp][] = [
    ['a folder', join(dir, 'sub'), {}, /is a folder/],
    ['a device where a file must be', '/dev/zero', {}, /is not a regular file/],
    ['a DICOM file', join(dir, 'image.dcm'), { devices: true }, /is a DICOM file/],
  ]
  for (const [name, path, rules, message] of cases) {
    t.throws(() => resolveTarget(path, 'state file', rules), { code: 'E_USAGE', exitCode: 64, message }, name)
  }
  t.equal(statSync(join(dir, 'image.dcm')).size, statSync(SAMPLE).size, 'the DICOM file is untouched')
  t.throws(() => resolveTarget(join(dir, 'missing/out.csv'), 'output'), {
    code: 'E_OUTPUT',
    message: /cannot write output .*missing\/out\.csv: no such file or directory/,
  })
})

t.test('a device or FIFO is written in place, never replaced', async (t) => {
  const dir = t.testdir({})
  const fifo = join(dir, 'pipe')
  execFileSync('mkfifo', [fifo])
  const reader = new Promise<string>((resolve) => {
    let text = ''
    createReadStream(fifo, 'utf8')
      .on('data', (d) => (text += d))
      .on('end', () => resolve(text))
  })
  const toFifo = fileOf(fifo)
  await pipeline(Readable.from([['1']]), formatCsv(['a']), toFifo)
  toFifo.commit()
  t.equal(await reader, 'a\n1\n', 'the FIFO received the CSV')
  t.ok(statSync(fifo).isFIFO(), 'and is still a FIFO')
  const toNull = fileOf('/dev/null')
  await pipeline(Readable.from([['1']]), formatCsv(['a']), toNull)
  toNull.commit()
  t.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still a device')
  t.equal(existsSync('/dev/null.lock'), false)
})
