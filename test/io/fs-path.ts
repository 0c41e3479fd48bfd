import t from 'tap'
import { Worker } from 'node:worker_threads'
import { decodeFsName, displayPath, toFsPath } from '../../src/io/fs-path.js'

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
