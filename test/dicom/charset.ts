// Tests of src/dicom/charset.ts. The corpus cases (test/fixtures/charset-cases.json) are pydicom
// 2.3.1's decoding of every text element of the character-set samples in shared/corpus, made
// once by test/fixtures/make-charset-cases.py: this test needs neither Python nor the corpus.
// The other cases are small values written for one rule each; their expected values are
// pydicom's too, except where a comment says why pydicom is wrong.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { decodeText, isPlainAscii, parseCharsets } from '../../src/dicom/charset.js'

interface Case {
  file: string
  tag: string
  vr: string
  charsets: string[]
  hex: string
  expected: string
}

const corpus: Case[] = JSON.parse(readFileSync(new URL('../fixtures/charset-cases.json', import.meta.url), 'utf8'))

// Where pydicom is wrong, the intended value (see shared/corpus/README.md): pydicom hands the
// escape sequence ESC $ ) A to Python's GB2312 codec, which keeps it in the text.
const INTENDED: Record<string, string> = {
  'fo-dicom/charset/chrGB2312.dcm (0010,0010)': 'Zhang^XiaoDong=张^小东= ',
}

const bytes = (hex: string) => Buffer.from(hex, 'hex')

/** Decode and collect the warnings. */
function decode(hex: string, charsets: string[], vr: string, fallback?: string) {
  const warnings: string[] = []
  const text = decodeText(bytes(hex), charsets, vr, fallback, (message) => warnings.push(message))
  return { text, warnings }
}

t.test('corpus: every text element decodes as pydicom reads it', async (t) => {
  t.ok(corpus.length > 100, `${corpus.length} cases`)
  for (const c of corpus) {
    const name = `${c.file} ${c.tag}`
    const { text, warnings } = decode(c.hex, c.charsets, c.vr)
    if (name in INTENDED) {
      t.ok(c.expected.includes('\u001b'), `${name}: pydicom keeps the escape sequence`)
      t.equal(text, INTENDED[name], `${name} (intended value, not pydicom's)`)
    } else {
      t.equal(text, c.expected, name)
    }
    t.same(warnings, [], `${name}: no warning`)
    t.same(parseCharsets(c.charsets.join('\\')), c.charsets, `${name}: charsets round trip`)
  }
})

t.test('single-byte sets, ISO 2022 switching and delimiters', async (t) => {
  const cases: [string[], string, string, string, string][] = [
    // [charsets, VR, hex, expected, what]
    [['ISO_IR 100'], 'LO', '93636166e994', '\x93café\x94', 'ISO 8859-1, not windows-1252'],
    [['ISO_IR 148'], 'LO', '80d0ddfe', '\x80Ğİş', 'ISO 8859-9, not windows-1254'],
    [['ISO_IR 101'], 'LO', 'a3f364bc', 'Łódź', 'ISO 8859-2'],
    [['ISO_IR 109'], 'LO', 'a1', 'Ħ', 'ISO 8859-3'],
    [['ISO_IR 110'], 'LO', 'ab', 'Ģ', 'ISO 8859-4'],
    // pydicom 2.3.1 does not know ISO_IR 203 and reads it as ISO 8859-1 ('¤¦')
    [['ISO_IR 203'], 'LO', 'a4a6', '€Š', 'ISO 8859-15'],
    [['ISO_IR 166'], 'LO', 'cac7d1cab4d5', 'สวัสดี', 'TIS 620'],
    [['ISO_IR 13'], 'SH', 'd4cfc0de', 'ﾔﾏﾀﾞ', 'JIS X 0201 katakana'],
    [['ISO_IR 192'], 'LT', 'efbbbf6f6b', '\ufeffok', 'UTF-8 keeps a BOM'],
    // pydicom splits the bytes at 0x5C before decoding, and so breaks this character
    [['GBK'], 'LO', '815c5c31', '乗\\1', 'GBK: a 0x5C trail byte is no value delimiter'],
    [['ISO 2022 IR 149'], 'PN', 'b1e8c8f1c1df', '김희중', 'KS X 1001 as first term, no escape'],
    [['', 'ISO 2022 IR 159'], 'LO', '1b24284430211b2842', '丂', 'JIS X 0212'],
    [['', 'ISO 2022 IR 87'], 'LO', '1b244221411b2842', '〜', 'JIS X 0208 0x2141 is WAVE DASH'],
    [['ISO 2022 IR 6', 'ISO 2022 IR 13'], 'LO', '1b2949b11b2842', 'ｱ', 'ESC ) I'],
    [['ISO 2022 IR 100', 'ISO 2022 IR 126'], 'PN', '1b2d46c4e95ee9', 'Δι^é', "PN resets at '^'"],
    [['ISO 2022 IR 100', 'ISO 2022 IR 126'], 'LO', '1b2d46c45cc4', 'Δ\\Ä', "LO resets at '\\'"],
    [['ISO 2022 IR 100', 'ISO 2022 IR 126'], 'LT', '1b2d46c45cc4', 'Δ\\Δ', 'LT is single-valued'],
    [['ISO 2022 IR 100', 'ISO 2022 IR 126'], 'LT', '1b2d46c40dc4', 'Δ\rÄ', 'LT resets at CR'],
    // pydicom splits PN bytes at '=' first and so garbles ソ (0x253D), 表, 能, 申, ...
    [['', 'ISO 2022 IR 87'], 'PN', '1b2442253d1b28425e5461726f', 'ソ^Taro', "'=' inside a kanji"],
  ]
  for (const [charsets, vr, hex, expected, what] of cases) {
    t.same(decode(hex, charsets, vr), { text: expected, warnings: [] }, what)
  }
})

t.test('unknown and misspelled terms', async (t) => {
  t.same(decode('e980', ['ISO_IR 999'], 'LO'), {
    text: 'é\x80',
    warnings: ["unknown character set 'ISO_IR 999', decoded as latin1"],
  })
  t.same(
    decode('c3a9', ['ISO_IR 999', 'ISO_IR 999'], 'LO', 'ISO_IR 192').warnings,
    ["unknown character set 'ISO_IR 999', decoded as ISO_IR 192"],
    'reported once',
  )
  t.equal(decode('c3a9', ['ISO_IR 999'], 'LO', 'ISO_IR 192').text, 'é', 'fallback term')
  t.same(decode('e9', ['ISO_IR 999'], 'LO', 'nonsense'), {
    text: 'é',
    warnings: ["unknown character set 'ISO_IR 999', decoded as latin1"],
  })
  t.same(
    decode('41', ['ISO_IR 999'], 'LO'),
    { text: 'A', warnings: [] },
    'ASCII decodes alike in every set: nothing to warn about',
  )
  t.same(decode('e9', ['ISO IR 100'], 'LO'), {
    text: 'é',
    warnings: ["non-standard character set 'ISO IR 100', read as 'ISO_IR 100'"],
  })
  t.same(decode('1b285a41', ['', 'ISO 2022 IR 87'], 'LO'), {
    text: 'A',
    warnings: ['unknown escape sequence ESC ( Z, ignored'],
  })
})

t.test('empty values and the ASCII fast path', async (t) => {
  t.equal(decodeText(new Uint8Array(), ['ISO 2022 IR 87'], 'PN'), '')
  t.equal(isPlainAscii(new Uint8Array()), true)
  t.equal(isPlainAscii(bytes('446f63746f725e57686f')), true)
  t.equal(isPlainAscii(bytes('1b2842')), false, 'ESC')
  t.equal(isPlainAscii(bytes('41e9')), false)
  for (const term of ['', 'ISO_IR 192', 'GB18030', 'ISO 2022 IR 149', 'ISO_IR 13']) {
    t.equal(decodeText(bytes('446f63746f725e57686f20'), [term], 'PN'), 'Doctor^Who ', term)
  }
})

t.test('parseCharsets', async (t) => {
  t.same(parseCharsets(''), [''])
  t.same(parseCharsets('ISO_IR 100 '), ['ISO_IR 100'])
  t.same(parseCharsets('\\ISO 2022 IR 87 '), ['', 'ISO 2022 IR 87'])
  t.same(parseCharsets(' ISO 2022 IR 13\\ISO 2022 IR 87\0'), ['ISO 2022 IR 13', 'ISO 2022 IR 87'])
})

t.test('bytes invalid in the declared set do not throw', async (t) => {
  const terms = [
    '',
    'ISO_IR 100',
    'ISO_IR 127',
    'ISO_IR 166',
    'ISO_IR 13',
    'ISO_IR 192',
    'GB18030',
    'GBK',
    'ISO 2022 IR 87',
    'ISO 2022 IR 149',
    'ISO 2022 IR 58',
  ]
  const values = ['ff', '1b', '1b24', '1b2442', '1b244230', '1b2442305c', '1b242943b1', '80a0dbfe']
  for (const term of terms) {
    t.doesNotThrow(() => {
      for (const hex of values) {
        for (const vr of ['PN', 'LO', 'UT']) {
          decodeText(bytes(hex), [term], vr)
          decodeText(bytes(hex), ['', term], vr)
        }
      }
    }, `'${term}'`)
  }
  t.equal(decodeText(bytes('ff41'), ['ISO_IR 192'], 'LO'), '\ufffdA')
  t.equal(decodeText(bytes('1b244230'), ['', 'ISO 2022 IR 87'], 'LO'), '\ufffd', 'half a kanji')
  t.equal(decodeText(bytes('b141'), ['ISO 2022 IR 149'], 'LO'), '\ufffdA', 'half a hangul')
})
