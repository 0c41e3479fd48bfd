import t from 'tap'
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib'
import { Inflater } from '../../src/dicom/inflate.js'

/** A seeded generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
}

/** Inflates `compressed` fed in random slices, as the header reader feeds it. */
function inflateInSlices(compressed: Buffer, random: () => number): { out: Buffer; cut: boolean } {
  const inflater = new Inflater()
  const parts: Buffer[] = []
  let pos = 0
  for (;;) {
    const piece = inflater.next()
    if (piece.length > 0) {
      if (piece.length > 65536 + 258) throw new Error(`a piece of ${piece.length} bytes`)
      parts.push(Buffer.from(piece))
      continue
    }
    if (inflater.ended) break
    const step = 1 + Math.floor(random() * 5000)
    inflater.push(compressed.subarray(pos, pos + step), pos + step >= compressed.length)
    pos += step
  }
  return { out: Buffer.concat(parts), cut: inflater.cut }
}

t.test('inflates what zlib deflates, fed in slices: every level and strategy', async (t) => {
  const random = rng(20261129)
  const strategies = [constants.Z_DEFAULT_STRATEGY, constants.Z_FIXED, constants.Z_HUFFMAN_ONLY, constants.Z_RLE]
  const kinds = ['random', 'runs', 'text'] as const
  for (let i = 0; i < 36; i++) {
    const kind = kinds[i % 3]
    const data = Buffer.alloc(Math.floor(random() * 200_000))
    for (let k = 0; k < data.length; k++) {
      if (kind === 'random') data[k] = random() * 256
      else if (kind === 'runs') data[k] = random() < 0.05 ? random() * 4 : (data[k - 3] ?? 1)
      else data[k] = 'DICOM header text '.charCodeAt(Math.floor(k / 3) % 18)
    }
    const level = [0, 1, 6, 9][i % 4]
    const strategy = strategies[Math.floor(i / 4) % 4]
    const { out, cut } = inflateInSlices(deflateRawSync(data, { level, strategy }), random)
    t.ok(out.equals(data) && !cut, `${kind} ${data.length} bytes, level ${level}, strategy ${strategy}`)
  }
})

t.test('a cut stream ends early; garbage is E_CORRUPT', async (t) => {
  const data = Buffer.from('x'.repeat(100_000) + 'y'.repeat(1000))
  const compressed = deflateRawSync(data)
  const { out, cut } = inflateInSlices(compressed.subarray(0, compressed.length - 10), rng(1))
  t.ok(cut, 'cut')
  t.same(out, data.subarray(0, out.length), 'the output up to the cut is right')
  const bad = new Inflater()
  bad.push(Buffer.from([0xff, 0xff, 0xff, 0xff]), true)
  t.throws(() => bad.next(), { code: 'E_CORRUPT', message: /cannot be inflated: invalid block type/ })
})

t.test('review of issue 10: damaged streams are judged as zlib judges them', async (t) => {
  // Mutated deflate streams, fed in slices: where zlib inflates, ours gives the same bytes;
  // where zlib finds the stream invalid (incomplete or over-subscribed codes, bad distances...),
  // ours throws E_CORRUPT or, where the damage makes the stream end early, says it was cut.
  const random = rng(10)
  const seeds: Buffer[] = []
  for (let i = 0; i < 8; i++) {
    const data = Buffer.alloc([100, 5000, 40000, 120000][i % 4])
    for (let k = 0; k < data.length; k++) data[k] = i % 2 ? 97 + Math.floor(random() * 6) : Math.floor(random() * 256)
    seeds.push(deflateRawSync(data, { level: (i % 9) + 1, strategy: i % 4 === 3 ? constants.Z_FIXED : 0 }))
  }
  let agreed = 0
  for (let n = 0; n < 3000; n++) {
    const stream = Buffer.from(seeds[n % seeds.length])
    // Most damage goes where the dynamic blocks' code lengths are (the stream's first bytes).
    const span = n % 2 ? Math.min(stream.length, 64) : stream.length
    for (let k = 0; k <= n % 3; k++) stream[Math.floor(random() * span)] = Math.floor(random() * 256)
    let theirs: Buffer | Error
    try {
      theirs = inflateRawSync(stream)
    } catch (e) {
      theirs = e as Error
    }
    let ours: { out: Buffer; cut: boolean } | Error
    try {
      ours = inflateInSlices(stream, random)
    } catch (e) {
      ours = e as Error
    }
    if (theirs instanceof Error) {
      const same = ours instanceof Error ? (ours as { code?: string }).code === 'E_CORRUPT' : ours.cut
      if (!same) t.fail(`stream ${n}: zlib says "${theirs.message}", ours inflates it`)
      else agreed++
    } else if (ours instanceof Error || !ours.out.equals(theirs)) {
      t.fail(`stream ${n}: zlib inflates it, ours ${ours instanceof Error ? `says ${ours.message}` : 'differs'}`)
    } else agreed++
  }
  t.equal(agreed, 3000, 'every stream judged alike')
})
