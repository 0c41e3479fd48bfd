/**
 * Decoding of DICOM text values (SH, LO, ST, LT, PN, UC, UT) per Specific Character Set
 * (0008,0005), with the results of pydicom for conformant data.
 *
 * References: PS3.5 6.1 (character repertoires), 6.1.2.4 and 6.1.2.5 (ISO 2022 code
 * extensions; 6.1.2.5.3: the value-1 set is active again after each delimiter), PS3.3
 * C.12.1.1.2 (defined terms and escape sequences, Tables C.12-2 to C.12-5), and the
 * examples of PS3.5 Annex H (Japanese), I (Korean), J (UTF-8, GB18030, GBK) and K (GB2312).
 *
 * Model: every term except the stand-alone ones (ISO_IR 192, GB18030, GBK) is read as ISO 2022
 * 8-bit code. G0 (bytes 0x21-0x7E) holds ASCII, or a 94x94 set (JIS X 0208/0212) after
 * `ESC $ B` / `ESC $ ( D`; G1 (bytes 0xA0-0xFF) holds the set of the first term, or the one
 * designated by an escape (`ESC - A`, `ESC ) I`, `ESC $ ) C`, ...). Every recognised escape
 * is obeyed, whether or not (0008,0005) lists its set. Where the standard leaves a choice,
 * pydicom's is taken: the default repertoire reads G1 as ISO 8859-1, and JIS X 0201 romaji
 * reads as ASCII (0x5C is '\', not YEN SIGN). Stand-alone sets use the WHATWG decoders; for
 * GB18030 that is its 2022 mapping, which gives real characters for 18 codes that Python
 * maps to private-use ones.
 */

type Decode = (bytes: Uint8Array) => string

/** How a (0008,0005) term starts: a stand-alone set decodes a value whole; any other term gives the initial G1 set. */
interface Term {
  readonly decode: Decode
  readonly standAlone: boolean
}

const ESC = 0x1b
const REPLACEMENT = 0xfffd

/** ISO 8859-1, byte for byte (WHATWG's 'latin1' label is windows-1252). */
const latin1: Decode = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')

/** UTF-16 code units to a string, through little-endian bytes whatever the platform's order. */
function fromUnits(units: Uint16Array): string {
  const le = Buffer.allocUnsafe(units.length * 2)
  for (let i = 0; i < units.length; i++) {
    le[2 * i] = units[i] & 0xff
    le[2 * i + 1] = units[i] >> 8
  }
  return le.toString('utf16le')
}

/** Decode with `use`, given a table (or decoder) that `build` makes once, on first use. */
function lazy<T>(build: () => T, use: (table: T, bytes: Uint8Array) => string): Decode {
  let table: T | undefined
  return (bytes) => use((table ??= build()), bytes)
}

/** ASCII in 0x00-0x7F, C1 controls in 0x80-0x9F, `upper(b)` (a UTF-16 code unit) in 0xA0-0xFF. */
function singleByte(upper: (byte: number) => number): Decode {
  return lazy(
    () => Uint16Array.from({ length: 256 }, (_, b) => (b < 0xa0 ? b : upper(b))),
    (table, bytes) => {
      const units = new Uint16Array(bytes.length)
      for (let i = 0; i < bytes.length; i++) units[i] = table[bytes[i]]
      return fromUnits(units)
    },
  )
}

/** ISO 8859-n from the WHATWG decoder, whose 0xA0-0xFF agree with ISO and Python for these labels. */
function iso8859(label: string): Decode {
  let high = ''
  return singleByte((b) => {
    high ||= new TextDecoder(label).decode(Uint8Array.from({ length: 96 }, (_, i) => 0xa0 + i))
    return high.charCodeAt(b - 0xa0)
  })
}

/** TIS 620 (ISO-IR 166): 0xA1-0xDA and 0xDF-0xFB are U+0E01-U+0E5B. */
const thai = singleByte((b) => ((b > 0xa0 && b < 0xdb) || (b > 0xde && b < 0xfc) ? b + 0x0d60 : REPLACEMENT))

/** JIS X 0201 katakana (ISO-IR 13): 0xA1-0xDF are the half-width forms U+FF61-U+FF9F. */
const katakana = singleByte((b) => (b > 0xa0 && b < 0xe0 ? b + 0xfec0 : REPLACEMENT))

/**
 * A 94x94 set. In G0 (`gr` false) its characters are byte pairs in 0x21-0x7E, in G1 pairs in
 * 0xA1-0xFE; other bytes below 0x80 are ASCII. The table is read from a WHATWG EUC decoder
 * (`prefix` selects JIS X 0212 in EUC-JP), but `overrides` (row and column as 0x2141) keep
 * Python's mapping (that of the national standards) where WHATWG's index follows Windows.
 */
function doubleByte(label: string, prefix: number[], overrides: [number, number][], gr: boolean): Decode {
  const offset = gr ? 0xa1 : 0x21
  const index = (b: number | undefined) => (b !== undefined && b >= offset && b < offset + 94 ? b - offset : -1)
  const build = () => {
    const bytes: number[] = []
    for (let row = 0; row < 94; row++) for (let col = 0; col < 94; col++) bytes.push(...prefix, 0xa1 + row, 0xa1 + col)
    const table = Uint16Array.from(new TextDecoder(label).decode(Uint8Array.from(bytes)), (c) => c.charCodeAt(0))
    for (const [code, unit] of overrides) table[((code >> 8) - 0x21) * 94 + (code & 0xff) - 0x21] = unit
    return table
  }
  return lazy(build, (table, bytes) => {
    const units = new Uint16Array(bytes.length)
    let n = 0
    for (let i = 0; i < bytes.length; i++) {
      const row = index(bytes[i])
      const col = row < 0 ? -1 : index(bytes[i + 1])
      if (col >= 0) {
        units[n++] = table[row * 94 + col]
        i++
      } else {
        // not of the set (ASCII below 0x80), or half a character
        units[n++] = row < 0 && bytes[i] < 0x80 ? bytes[i] : REPLACEMENT
      }
    }
    return fromUnits(units.subarray(0, n))
  })
}

/** A WHATWG decoder for whole values; a BOM is kept as U+FEFF, as Python does. */
const whatwg = (label: string) =>
  lazy(
    () => new TextDecoder(label, { ignoreBOM: true }),
    (decoder, bytes) => decoder.decode(bytes),
  )

const jisX0208 = doubleByte(
  'euc-jp',
  [],
  [
    [0x2141, 0x301c],
    [0x2142, 0x2016],
    [0x215d, 0x2212],
    [0x2171, 0xa2],
    [0x2172, 0xa3],
    [0x224c, 0xac],
  ],
  false,
)
const jisX0212 = doubleByte('euc-jp', [0x8f], [[0x2237, 0x7e]], false)
const ksX1001 = doubleByte(
  'euc-kr',
  [],
  [
    [0x2266, 0x20ac],
    [0x2267, 0xae],
  ],
  true,
)
const gb2312 = doubleByte(
  'gbk',
  [],
  [
    [0x2124, 0x30fb],
    [0x212a, 0x2015],
  ],
  true,
)

/** G0 designations (final bytes after ESC): undefined means ASCII or JIS X 0201 romaji. */
const G0 = new Map<string, Decode | undefined>([
  ['(B', undefined],
  ['(J', undefined],
  ['$B', jisX0208],
  ['$(D', jisX0212],
])

/** G1 designations and the ISO-IR number of each set (PS3.3 Tables C.12-3 and C.12-4). */
const G1 = new Map<string, [number, Decode]>([
  [')I', [13, katakana]],
  ['-A', [100, latin1]],
  ['-B', [101, iso8859('iso-8859-2')]],
  ['-C', [109, iso8859('iso-8859-3')]],
  ['-D', [110, iso8859('iso-8859-4')]],
  ['-F', [126, iso8859('iso-8859-7')]],
  ['-G', [127, iso8859('iso-8859-6')]],
  ['-H', [138, iso8859('iso-8859-8')]],
  ['-L', [144, iso8859('iso-8859-5')]],
  ['-M', [148, iso8859('iso-8859-9')]],
  ['-T', [166, thai]],
  ['-b', [203, iso8859('iso-8859-15')]],
  ['$)C', [149, ksX1001]],
  ['$)A', [58, gb2312]],
])

/** ISO 8859-1 in G1: ISO_IR 100, and pydicom's reading of the default repertoire. */
const LATIN1: Term = { decode: latin1, standAlone: false }

const TERMS = new Map<string, Term>([
  ['', LATIN1],
  ['ISO_IR 6', LATIN1],
  ['ISO 2022 IR 6', LATIN1],
  // 94x94 sets in G0 need an escape: a value starts in ASCII whatever the first term
  ['ISO 2022 IR 87', LATIN1],
  ['ISO 2022 IR 159', LATIN1],
  ['ISO_IR 192', { decode: whatwg('utf-8'), standAlone: true }],
  ['GB18030', { decode: whatwg('gb18030'), standAlone: true }],
  ['GBK', { decode: whatwg('gbk'), standAlone: true }],
])
for (const [ir, decode] of G1.values()) {
  if (ir !== 149 && ir !== 58) TERMS.set(`ISO_IR ${ir}`, { decode, standAlone: false })
  TERMS.set(`ISO 2022 IR ${ir}`, { decode, standAlone: false })
}

/** Spelling-tolerant lookup: 'ISO IR 100', 'iso_ir_100' and 'ISO-IR 100' all find 'ISO_IR 100'. */
const spelling = (term: string) =>
  term
    .trim()
    .toUpperCase()
    .replace(/[\s_-]+/g, ' ')
const SPELLINGS = new Map([...TERMS.keys()].map((term) => [spelling(term), term]))

function lookup(term: string, report: (message: string) => void): Term | undefined {
  const exact = TERMS.get(term)
  if (exact) return exact
  const standard = SPELLINGS.get(spelling(term))
  if (standard === undefined) return undefined
  report(`non-standard character set '${term}', read as '${standard}'`)
  return TERMS.get(standard)
}

function resolve(term: string, fallback: string, report: (message: string) => void): Term {
  const found = lookup(term, report)
  if (found) return found
  const substitute = fallback === 'latin1' ? undefined : lookup(fallback, report)
  report(`unknown character set '${term}', decoded as ${substitute ? fallback : 'latin1'}`)
  return substitute ?? LATIN1
}

/** Terms that declare only the default repertoire (ASCII). */
const DEFAULT_REPERTOIRE = new Set(['', 'ISO_IR 6', 'ISO 2022 IR 6'])

// Bytes after which the first term's state is restored (PS3.5 6.1.2.5.3): control characters
// always, '\' between values, and '^' and '=' between PN components and groups.
const resetsPN = (b: number) => b < 0x20 || b === 0x5c || b === 0x5e || b === 0x3d
const resetsMultiValued = (b: number) => b < 0x20 || b === 0x5c
const resetsSingleValued = (b: number) => b < 0x20
const SINGLE_VALUED = new Set(['LT', 'ST', 'UT', 'UR'])

/** Parse the raw (0008,0005) value into its terms: split on backslash, trim spaces; an empty first term means the default repertoire. */
export function parseCharsets(raw: string): string[] {
  return raw.split('\\').map((term) => term.replace(/^[ \0]+|[ \0]+$/g, ''))
}

/** Fast path predicate: true when every byte < 0x80 and no ESC (0x1b): caller may then decode as ASCII/latin1 directly. */
export function isPlainAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80 || bytes[i] === ESC) return false
  return true
}

/**
 * Decode one text value's bytes, as stored (padding is kept), per the (0008,0005) terms in
 * force (see {@link parseCharsets}; none means the default repertoire). The whole value is
 * decoded, backslashes included: the code extension state returns to the first term's at each
 * control character, at '\' (except for LT, ST, UT and UR, which have a single value), and for
 * PN at '^' and '='. Inside a JIS X 0208/0212 character these bytes are part of the character.
 *
 * An unknown term is reported via `warn` and, if first, replaced by `fallback` ('latin1', i.e.
 * ISO 8859-1 and not windows-1252, or any defined term); an unknown escape sequence is reported
 * and skipped. Each message is reported once per call. Undecodable bytes become U+FFFD. Never throws.
 */
export function decodeText(
  bytes: Uint8Array,
  charsets: readonly string[],
  vr: string,
  fallback = 'latin1',
  warn?: (message: string) => void,
): string {
  // Most values are plain ASCII, which every DICOM character set decodes alike.
  if (isPlainAscii(bytes)) return latin1(bytes)
  const reported = new Set<string>()
  const report = (message: string) => {
    if (!reported.has(message)) warn?.(message)
    reported.add(message)
  }
  const terms = charsets.length > 0 ? charsets : ['']
  if (terms.length === 1 && DEFAULT_REPERTOIRE.has(terms[0]) && !bytes.includes(ESC)) {
    // Bytes beyond ASCII that no Specific Character Set declares: decoded with the fallback.
    const substitute = fallback === 'latin1' ? LATIN1 : resolve(fallback, 'latin1', report)
    report(`text beyond ASCII but no Specific Character Set declares it: decoded as ${fallback}`)
    if (substitute.standAlone) return substitute.decode(bytes)
  }
  const [first] = terms.map((term) => resolve(term, fallback, report))
  if (first.standAlone) return first.decode(bytes)
  const resets = vr === 'PN' ? resetsPN : SINGLE_VALUED.has(vr) ? resetsSingleValued : resetsMultiValued
  return decodeIso2022(bytes, first.decode, resets, report)
}

/** Walk the escapes and delimiters of a value, decoding each stretch of constant G0/G1 at once. */
function decodeIso2022(
  bytes: Uint8Array,
  initial: Decode,
  resets: (b: number) => boolean,
  report: (message: string) => void,
): string {
  let g0: Decode | undefined
  let g1 = initial
  let text = ''
  let start = 0
  const flush = (end: number) => {
    if (end > start) text += decodeStretch(bytes.subarray(start, end), g0, g1)
  }
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (b === ESC) {
      flush(i)
      let final = i + 1
      while (bytes[final] >= 0x20 && bytes[final] < 0x30) final++
      const sequence = latin1(bytes.subarray(i + 1, final + 1))
      if (G0.has(sequence)) g0 = G0.get(sequence)
      else if (G1.has(sequence)) g1 = G1.get(sequence)![1]
      else report(`unknown escape sequence ${['ESC', ...sequence].join(' ')}, ignored`)
      i = final
      start = final + 1
    } else if (resets(b) && (g0 !== undefined || g1 !== initial)) {
      if (g0 !== undefined && b >= 0x20) continue // half of a JIS X 0208/0212 character
      flush(i + 1)
      g0 = undefined
      g1 = initial
      start = i + 1
    }
  }
  flush(bytes.length)
  return text
}

/** Bytes under one G0/G1 state: with ASCII in G0 the G1 decoder takes them all, else GL and GR runs part. */
function decodeStretch(bytes: Uint8Array, g0: Decode | undefined, g1: Decode): string {
  if (g0 === undefined) return g1(bytes)
  let text = ''
  let i = 0
  while (i < bytes.length) {
    const high = bytes[i] >= 0x80
    let end = i + 1
    while (end < bytes.length && bytes[end] >= 0x80 === high) end++
    text += (high ? g1 : g0)(bytes.subarray(i, end))
    i = end
  }
  return text
}
