/**
 * Raw inflate (RFC 1951) that stops when its input runs low and goes on when given more, with
 * output in bounded pieces: the reader of a deflated data set (PS3.5 section A.5) inflates only
 * as far as the last wanted tag, and drops the pieces it does not want. Node's zlib offers that
 * only asynchronously; the header reader's synchronous path needs it too.
 *
 * State between calls: the bit buffer, the block being decoded (stored bytes left, or its
 * Huffman tables), and the last 32 KiB of output (the window that back-references reach).
 * Each unit (a block header, a symbol with its extra bits) is decoded only when enough input is
 * there for the longest one, so a unit never stops halfway, except at the end of the input.
 */
import { EtlError } from '../errors.js'

/** Back-references reach 32 KiB back (RFC 1951 section 3.2.5). */
const WINDOW = 32768
/** Output of one call, at least (a last match may add 257 bytes). */
const PIECE = 65536
/** The longest symbol with its extra bits: 15 + 5 + 15 + 13 bits. Input below this waits for more. */
const SYMBOL_INPUT = 8
/** The longest dynamic block header (about 570 bytes). */
const HEADER_INPUT = 1024

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
].concat([163, 195, 227, 258])
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
const DISTANCE_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
].concat([2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577])
const DISTANCE_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
].concat([13, 13])
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

/**
 * A canonical Huffman code: a lookup table indexed by the next `root` input bits (entries
 * symbol << 4 | length) for codes of up to ROOT bits, and the code's counts and symbols for
 * longer ones, decoded bit by bit. Building is linear in the symbols, so a stream of many small
 * blocks with 15-bit codes costs what zlib's two-level tables cost, not a 32768-entry table each.
 */
interface Huffman {
  table: Uint32Array
  root: number
  /** The longest code. */
  bits: number
  /** Codes of each length, and the symbols ordered by code (RFC 1951 section 3.2.2). */
  count: Uint16Array
  symbols: Uint16Array
}

/** Bits of the lookup table. */
const ROOT = 9

function corrupt(message: string): EtlError {
  return new EtlError('E_CORRUPT', `deflated data set cannot be inflated: ${message}`)
}

/**
 * The code of the given code lengths (RFC 1951 section 3.2.2). An over-subscribed set is
 * corrupt, and so is an incomplete one, but for a code of one symbol of one bit (a distance
 * code of a block with a single distance) where `single` allows it: as zlib rules, never for
 * the code of the code lengths.
 */
function huffman(lengths: ArrayLike<number>, single = true): Huffman {
  const count = new Uint16Array(16)
  let bits = 0
  for (let s = 0; s < lengths.length; s++) {
    count[lengths[s]]++
    if (lengths[s] > bits) bits = lengths[s]
  }
  count[0] = 0
  let left = 1
  for (let len = 1; len <= 15; len++) {
    left = left * 2 - count[len]
    if (left < 0) throw corrupt('over-subscribed Huffman code')
  }
  if (left > 0 && (bits > 1 || !single)) throw corrupt('incomplete Huffman code')
  const offsets = new Uint16Array(16)
  for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len] + count[len]
  const symbols = new Uint16Array(lengths.length)
  for (let s = 0; s < lengths.length; s++) if (lengths[s] !== 0) symbols[offsets[lengths[s]]++] = s
  const next = new Uint16Array(16)
  for (let len = 1, code = 0; len <= 15; len++) {
    code = (code + count[len - 1]) << 1
    next[len] = code
  }
  const root = Math.max(1, Math.min(bits, ROOT))
  const table = new Uint32Array(1 << root)
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s]
    if (len === 0) continue
    const code = next[len]++
    if (len > root) continue
    // Codes are sent most significant bit first, the table is indexed by bits as they come.
    let reversed = 0
    for (let i = 0, c = code; i < len; i++, c >>= 1) reversed = (reversed << 1) | (c & 1)
    for (let i = reversed; i < table.length; i += 1 << len) table[i] = (s << 4) | len
  }
  return { table, root, bits: Math.max(bits, 1), count, symbols }
}

const FIXED_LENGTHS = huffman(Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8)))
// 32 codes of 5 bits, so the fixed code is complete; 30 and 31 never occur in valid data (checked as they come).
const FIXED_DISTANCES = huffman(new Array<number>(32).fill(5))

/** Thrown when the input ends inside a unit (only once all input was given). */
class OutOfInput {}
const OUT_OF_INPUT = new OutOfInput()

/** An inflater fed compressed bytes with {@link push} and drained with {@link next}. */
export class Inflater {
  /** The stream's last block is done. */
  ended = false
  /** The input ended before the stream did (a cut file). */
  cut = false
  /** Bytes of output so far. */
  total = 0
  private input: Buffer = Buffer.alloc(0)
  private inPos = 0
  private final = false
  private bitBuf = 0
  private bitCnt = 0
  private lastBlock = false
  private mode: 'header' | 'stored' | 'codes' = 'header'
  private storedLeft = 0
  private lengths: Huffman = FIXED_LENGTHS
  private distances: Huffman = FIXED_DISTANCES
  /** [0, WINDOW): the last output of earlier calls; then this call's output. */
  private readonly out = Buffer.alloc(WINDOW + PIECE + 258)
  private outPos = WINDOW

  /** Adds compressed bytes (copied: the caller may reuse `chunk`); `final` says there are no more. */
  push(chunk: Uint8Array, final: boolean): void {
    this.input = Buffer.concat([this.input.subarray(this.inPos), chunk])
    this.inPos = 0
    this.final = final
  }

  /**
   * The next piece of output (up to 64 KiB and a match), empty when the input ran low or the
   * stream ended. A view, valid until the next call.
   */
  next(): Buffer {
    const out = this.out
    if (this.outPos > WINDOW) {
      out.copyWithin(0, this.outPos - WINDOW, this.outPos)
      this.outPos = WINDOW
    }
    try {
      while (!this.ended && this.outPos < WINDOW + PIECE && this.step());
    } catch (e) {
      if (e !== OUT_OF_INPUT) throw e
      this.ended = true
      this.cut = true
    }
    this.total += this.outPos - WINDOW
    return out.subarray(WINDOW, this.outPos)
  }

  /** Decodes one unit; false when the input is too low to go on. */
  private step(): boolean {
    const available = this.input.length - this.inPos
    if (this.mode === 'codes') {
      if (available < SYMBOL_INPUT && !this.final) return false
      this.symbol()
      return true
    }
    if (this.mode === 'stored') {
      if (available === 0 && this.bitCnt === 0) {
        if (this.final) throw OUT_OF_INPUT
        return false
      }
      this.copyStored()
      return true
    }
    if (this.lastBlock) {
      this.ended = true
      return false
    }
    if (available < HEADER_INPUT && !this.final) return false
    this.blockHeader()
    return true
  }

  private need(n: number): void {
    while (this.bitCnt < n) {
      if (this.inPos >= this.input.length) throw OUT_OF_INPUT
      this.bitBuf |= this.input[this.inPos++] << this.bitCnt
      this.bitCnt += 8
    }
  }

  private bits(n: number): number {
    this.need(n)
    const v = this.bitBuf & ((1 << n) - 1)
    this.bitBuf >>>= n
    this.bitCnt -= n
    return v
  }

  private decode(h: Huffman): number {
    while (this.bitCnt < h.bits && this.inPos < this.input.length) {
      this.bitBuf |= this.input[this.inPos++] << this.bitCnt
      this.bitCnt += 8
    }
    const entry = h.table[this.bitBuf & ((1 << h.root) - 1)]
    const len = entry & 15
    if (len === 0) return this.decodeLong(h)
    if (len > this.bitCnt) throw OUT_OF_INPUT
    this.bitBuf >>>= len
    this.bitCnt -= len
    return entry >>> 4
  }

  /** A code longer than the table's bits, decoded a bit at a time (canonical codes, RFC 1951 3.2.2). */
  private decodeLong(h: Huffman): number {
    let code = 0
    let first = 0
    let index = 0
    for (let len = 1; len <= h.bits; len++) {
      if (len > this.bitCnt) throw OUT_OF_INPUT
      code |= (this.bitBuf >>> (len - 1)) & 1
      const count = h.count[len]
      if (code - first < count) {
        this.bitBuf >>>= len
        this.bitCnt -= len
        return h.symbols[index + code - first]
      }
      index += count
      first = (first + count) << 1
      code <<= 1
    }
    throw corrupt('invalid Huffman code')
  }

  private blockHeader(): void {
    this.lastBlock = this.bits(1) === 1
    const type = this.bits(2)
    if (type === 0) {
      this.bitBuf >>>= this.bitCnt & 7
      this.bitCnt -= this.bitCnt & 7
      const length = this.bits(16)
      if ((this.bits(16) ^ 0xffff) !== length) throw corrupt('stored block length does not match its complement')
      this.storedLeft = length
      this.mode = 'stored'
    } else if (type === 1) {
      this.lengths = FIXED_LENGTHS
      this.distances = FIXED_DISTANCES
      this.mode = 'codes'
    } else if (type === 2) {
      this.dynamicTables()
      this.mode = 'codes'
    } else {
      throw corrupt('invalid block type')
    }
    if (this.mode === 'stored' && this.storedLeft === 0) this.mode = 'header'
  }

  private dynamicTables(): void {
    const nlen = this.bits(5) + 257
    const ndist = this.bits(5) + 1
    const ncode = this.bits(4) + 4
    if (nlen > 286 || ndist > 30) throw corrupt('too many length or distance codes')
    const codeLengths = new Uint8Array(19)
    for (let i = 0; i < ncode; i++) codeLengths[CODE_LENGTH_ORDER[i]] = this.bits(3)
    const lencode = huffman(codeLengths, false)
    const lengths = new Uint8Array(nlen + ndist)
    for (let i = 0; i < nlen + ndist;) {
      const sym = this.decode(lencode)
      if (sym < 16) {
        lengths[i++] = sym
        continue
      }
      let repeat: number
      let value = 0
      if (sym === 16) {
        if (i === 0) throw corrupt('repeat with no previous length')
        value = lengths[i - 1]
        repeat = 3 + this.bits(2)
      } else if (sym === 17) repeat = 3 + this.bits(3)
      else repeat = 11 + this.bits(7)
      if (i + repeat > nlen + ndist) throw corrupt('too many code lengths')
      lengths.fill(value, i, i + repeat)
      i += repeat
    }
    if (lengths[256] === 0) throw corrupt('no end-of-block code')
    this.lengths = huffman(lengths.subarray(0, nlen))
    this.distances = huffman(lengths.subarray(nlen))
  }

  private copyStored(): void {
    const out = this.out
    // Whole bytes left in the bit buffer come first.
    while (this.bitCnt >= 8 && this.storedLeft > 0) {
      out[this.outPos++] = this.bitBuf & 0xff
      this.bitBuf >>>= 8
      this.bitCnt -= 8
      this.storedLeft--
    }
    const n = Math.min(this.storedLeft, this.input.length - this.inPos, WINDOW + PIECE - this.outPos)
    this.input.copy(out, this.outPos, this.inPos, this.inPos + n)
    this.inPos += n
    this.outPos += n
    this.storedLeft -= n
    if (this.storedLeft === 0) this.mode = 'header'
  }

  private symbol(): void {
    const out = this.out
    const sym = this.decode(this.lengths)
    if (sym < 256) {
      out[this.outPos++] = sym
      return
    }
    if (sym === 256) {
      this.mode = 'header'
      return
    }
    const li = sym - 257
    if (li >= 29) throw corrupt('invalid length code')
    const length = LENGTH_BASE[li] + this.bits(LENGTH_EXTRA[li])
    const di = this.decode(this.distances)
    if (di >= 30) throw corrupt('invalid distance code')
    const distance = DISTANCE_BASE[di] + this.bits(DISTANCE_EXTRA[di])
    if (distance > this.total + this.outPos - WINDOW) throw corrupt('distance too far back')
    const from = this.outPos - distance
    if (distance >= length) out.copyWithin(this.outPos, from, from + length)
    else if (distance === 1) out.fill(out[from], this.outPos, this.outPos + length)
    else for (let i = 0; i < length; i++) out[this.outPos + i] = out[from + i]
    this.outPos += length
  }
}
