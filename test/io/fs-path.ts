import t from 'tap'
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { decodeFsName, displayPath, escapeControls, toFsPath } from '../../src/io/fs-path.js'
import { ROOT, parseCsv, runCli } from '../fixtures/cli.js'

const bytes = (...b: number[]) => Buffer.from(b)

t.test('names keep their bytes: valid UTF-8 decoded, other bytes as lone surrogates', async (t) => {
  const cases: [string, Buffer, string, string][] = [
    // name, its bytes, the path string, its display form
    ['ASCII', Buffer.from('IM1.dcm'), 'IM1.dcm', 'IM1.dcm'],
    ['UTF-8 ü', Buffer.from('Müller.dcm'), 'Müller.dcm', 'Müller.dcm'],
    ['Latin-1 ü (issue 10)', bytes(0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72), 'M\udcfcller', 'M\\xfcller'],
    ['a real U+FFFD (EF BF BD)', bytes(0x4d, 0xef, 0xbf, 0xbd, 0x6c), 'M\ufffdl', 'M\ufffdl'],
    ['a lone continuation byte', bytes(0x80), '\udc80', '\\x80'],
    ['a truncated sequence', bytes(0xe2, 0x82, 0x41), '\udce2\udc82A', '\\xe2\\x82A'],
    ['an overlong slash (C0 AF)', bytes(0xc0, 0xaf), '\udcc0\udcaf', '\\xc0\\xaf'],
    ['an encoded surrogate (ED A0 80)', bytes(0xed, 0xa0, 0x80), '\udced\udca0\udc80', '\\xed\\xa0\\x80'],
    ['an emoji (a surrogate pair)', Buffer.from('CT😀'), 'CT😀', 'CT😀'],
    ['a backslash', Buffer.from('a\\b'), 'a\\b', 'a\\\\b'],
    ['a backslash then x', Buffer.from('M\\xfcller'), 'M\\xfcller', 'M\\\\xfcller'],
    // Review finding: control characters reached stderr and the terminal as they were.
    ['a line feed', Buffer.from('z\netl: done\n'), 'z\netl: done\n', 'z\\x0aetl: done\\x0a'],
    ['an escape sequence', Buffer.from('\x1b[31mred'), '\x1b[31mred', '\\x1b[31mred'],
    ['a tab, a carriage return, DEL', Buffer.from('a\tb\rc\x7f'), 'a\tb\rc\x7f', 'a\\x09b\\x0dc\\x7f'],
    ['C1 CSI U+009B (C2 9B), not the byte 9B', bytes(0xc2, 0x9b, 0x9b), '\u009b\udc9b', '\\u009b\\x9b'],
    ['NEL U+0085 (C2 85)', bytes(0x41, 0xc2, 0x85), 'A\u0085', 'A\\u0085'],
    ['U+00A0, past C1: as it is', bytes(0xc2, 0xa0), '\u00a0', '\u00a0'],
  ]
  for (const [what, raw, path, shown] of cases) {
    const escaped = /[\udc80-\udcff]/.test(path) && !/[\ud800-\udbff]/.test(path)
    t.equal(decodeFsName(raw), path, `${what}: decoded`)
    const back = toFsPath(path)
    t.same(Buffer.from(back), raw, `${what}: the same bytes back`)
    t.equal(typeof back !== 'string', escaped, `${what}: a Buffer only when the string holds escapes`)
    t.equal(displayPath(path), shown, `${what}: shown`)
  }
})

t.test('every byte string comes back: decode then encode is the identity, display is one to one', async (t) => {
  let seed = 7
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256
  const shown = new Map<string, string>()
  const wrong: string[] = []
  for (let n = 0; n < 2000; n++) {
    // Bytes biased toward UTF-8 lead and continuation bytes and backslashes.
    const raw = Buffer.from(
      Array.from({ length: 1 + (n % 9) }, () => {
        const r = random()
        if (r < 20) return r % 32 // C0 controls, and C2 below makes C1 ones
        return r < 40 ? 0x5c : r < 80 ? 0x78 : r < 140 ? 0x80 + (r % 64) : r < 200 ? 0xc0 + (r % 64) : r
      }).filter((b) => b !== 0 && b !== 0x2f),
    )
    const path = decodeFsName(raw)
    const hex = raw.toString('hex')
    if (!Buffer.from(toFsPath(path)).equals(raw)) wrong.push(`${hex} came back as another name`)
    const text = displayPath(path)
    const other = shown.get(text)
    if (other !== undefined && other !== hex) wrong.push(`${other} and ${hex} both show as ${text}`)
    shown.set(text, hex)
  }
  t.same(wrong, [], `2000 random names`)
})

t.test('structured clone (worker messages) keeps lone surrogates', async (t) => {
  const worker = new Worker(
    "const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m))",
    { eval: true },
  )
  const sent = ['/data/M\udcfcller.dcm', '/data/M\ufffdller.dcm']
  const back = await new Promise<string[]>((resolve) => {
    worker.once('message', resolve)
    worker.postMessage(sent)
  })
  await worker.terminate()
  t.same(back, sent)
  t.same(Buffer.from(toFsPath(back[0])), Buffer.from('/data/M\xfcller.dcm', 'latin1'))
})

t.test('review finding: names with control characters cannot fake log lines or drive the terminal', async (t) => {
  // Before: a file named "z\netl: done, nothing failed\n" printed a fake line on stderr, and an
  // escape sequence in a name reached the terminal; the path cell carried them too.
  const dir = t.testdir({})
  const fake = 'z\netl: done, nothing failed\n'
  const red = '\x1b[31mred.dcm'
  const empty = Buffer.alloc(132)
  empty.write('DICM', 128) // fails: a DICM marker with nothing after it
  writeFileSync(join(dir, fake), empty)
  writeFileSync(join(dir, red), empty)
  copyFileSync(join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm'), join(dir, 'ok\x1b]0;title\x07'))
  const r = await runCli(['extract', dir, '-k', 'path', '--threads', '0', '--errors', join(dir, '..', 'errors.csv')])
  t.equal(r.code, 65)
  t.notMatch(r.stderr, /\x1b/, 'no escape character on stderr')
  t.notMatch(r.stderr, /^etl: done/m, 'no fake line')
  t.match(r.stderr, `etl: failed: ${dir}/z\\x0aetl: done, nothing failed\\x0a: `)
  t.match(r.stderr, `etl: failed: ${dir}/\\x1b[31mred.dcm: `)
  t.same(parseCsv(r.stdout), [['path'], [`${dir}/ok\\x1b]0;title\\x07`]], 'the path cell escaped the same way')
  t.equal(escapeControls('a\x1b[2J\u009bb\\'), 'a\\x1b[2J\\u009bb\\', 'escapeControls leaves backslashes')
})
