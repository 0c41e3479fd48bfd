/**
 * The dictionary searched by keyword, name or tag, the look-up users otherwise do in an online
 * DICOM browser: rows of keyword, tag, VR, VM and a name derived from the keyword, best first.
 */
import { allEntries, formatTag, lookupKeyword, lookupTag, parseTag, spelledVr, type DictEntry } from './keywords.js'

/** One line of the table. */
export interface KeywordRow {
  keyword: string
  /** "(0018,9345)"; repeating groups as PS3.6 writes them, "(60xx,3000)". */
  tag: string
  /** The VR, ambiguous ones spelled out ("US or SS"). */
  vr: string
  vm: string
  /** Derived from the keyword (dcmjs has no names): "X-Ray Tube Current". */
  name: string
  retired: boolean
}

/**
 * Tokens of a keyword, in order of preference: words the camel case would split wrongly
 * (CTDIvol, CIELab, units after "In", X-Ray inside an acronym run), acronyms with a plural s
 * (IDs), acronym runs, capitalised words, digits with a dimension (3D) or unit (35mm).
 */
const TOKEN = new RegExp(
  [
    'CTDIvol|CIE(?:Lab|xy)|DateTime|dBdt|XRay|(?:Two|Three)D(?![a-z])',
    'In(?=(?:mAs|mA|mGy|ms|ppm|uAs|uA|uS)(?:[A-Z]|$))|mAs|mA|mGy|ms|ppm|uAs|uA|uS',
    '[A-Z]+?(?=XRay)|[A-Z]+s(?=[A-Z]|$)|[A-Z]+(?![a-z])|[A-Z][a-z]+|[a-z]+|[0-9]+(?:D(?![a-z])|[a-z]*)',
  ].join('|'),
  'g',
)
const SPELLED = new Map([
  ['XRay', 'X-Ray'],
  ['dBdt', 'dB/dt'],
  ['TwoD', '2D'],
  ['ThreeD', '3D'],
  ['In', 'in'],
])
/** Words PS3.6 writes in lower case inside a name. */
const SMALL_WORDS = new Set('of to and or in for from the by at on with as per'.split(' '))
/** Acronym runs ending in one of these are two acronyms ("VOILUT" -> "VOI LUT", "RTROI" -> "RT ROI"). */
const TRAILING_ACRONYM = /^([A-Z]{2,}?)(LUT|ROI)$/

/**
 * The name of a keyword, as PS3.6 would print it: `SliceLocation` -> `Slice Location`,
 * `XRayTubeCurrentInmA` -> `X-Ray Tube Current in mA`, `CTDIvol` stays `CTDIvol`. It matches
 * PS3.6 but for punctuation that keywords drop ("Patient's Name" is `Patient Name` here).
 */
export function keywordName(keyword: string): string {
  const tokens = keyword.match(TOKEN) ?? [keyword]
  const words: string[] = []
  tokens.forEach((token, i) => {
    const spelled = SPELLED.get(token)
    const acronyms = TRAILING_ACRONYM.exec(token)
    if (spelled) words.push(spelled)
    else if (i > 0 && /^[A-Z][a-z]+$/.test(token) && SMALL_WORDS.has(token.toLowerCase())) {
      words.push(token.toLowerCase())
    } else if (i > 0 && /^[0-9]+$/.test(token) && /^[A-Z]$/.test(tokens[i - 1])) words[words.length - 1] += token
    else if (acronyms) words.push(acronyms[1], acronyms[2])
    else words.push(token)
  })
  return words.join(' ')
}

/** First groups of the repeating groups (PS3.5 section 7.6): curves 50xx, overlays 60xx, variable pixel data 7Fxx. */
const REPEATING_GROUPS = new Set([0x5000, 0x6000, 0x7f00])

function toRow(entry: DictEntry): KeywordRow {
  let tag = formatTag(entry.tag)
  if (REPEATING_GROUPS.has(entry.tag >>> 16)) tag = `${tag.slice(0, 3)}xx${tag.slice(5)}`
  return {
    keyword: entry.keyword,
    tag,
    vr: spelledVr(entry.vr),
    vm: entry.vm,
    name: keywordName(entry.keyword),
    retired: entry.retired,
  }
}

/** How an entry matches, best first. */
const EXACT = 0
const PREFIX = 1
const WORD_START = 2
const WORDS = 3
const INSIDE = 4

/** Where the words of a keyword start ("XRayTubeCurrent": 0, 4, 8). */
function wordStarts(keyword: string): number[] {
  return [...keyword.matchAll(TOKEN)].map((m) => m.index)
}

/** Lower case, possessive 's and punctuation dropped: "Patient's Name" -> "patient name". */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['’]s\b/g, '')
    .split(/[^a-z0-9µ]+/)
    .filter(Boolean)
}

/**
 * The dictionary entries matching `text`, best first. A tag (`0018,9345`, `(0018,9345)`,
 * `00189345`, `60xx,3000`) gives its entry. Other text matches keywords case-insensitively,
 * ignoring spaces and punctuation (`slice location` is `SliceLocation`), ranked: the whole
 * keyword; its start; the start of one of its words (`tube` in `XRayTubeCurrent`); words that
 * each start a word of the name, in any order (`current tube`); anywhere (`ctdi` in
 * `SubjectDistance`). Within a rank, current entries come before retired ones, then tag order.
 * No text (or blank text) lists the whole dictionary in tag order.
 */
export function searchKeywords(text?: string): KeywordRow[] {
  const entries = [...allEntries()]
  const byTag = (a: DictEntry, b: DictEntry) => a.tag - b.tag
  if (text === undefined || text.trim() === '') return entries.sort(byTag).map(toRow)
  // A repeating group as PS3.6 writes it, (60xx,3000), is looked up by its first group.
  const tag = parseTag(text.replace(/^(\s*\(?\s*[0-9A-Fa-f]{2})xx/i, '$100'))
  if (tag !== undefined) {
    const hit = lookupTag(tag)
    const entry = hit && lookupKeyword(hit.keyword)
    return entry ? [toRow(entry)] : []
  }
  const query = words(text)
  const folded = query.join('')
  if (folded === '') return []
  const ranked: { entry: DictEntry; rank: number; row: KeywordRow }[] = []
  for (const entry of entries) {
    const keyword = entry.keyword.toLowerCase()
    let rank: number
    const at = keyword.indexOf(folded)
    if (keyword === folded) rank = EXACT
    else if (at === 0) rank = PREFIX
    else if (at > 0) {
      const starts = wordStarts(entry.keyword)
      let word = false
      for (let i = at; i >= 0 && !word; i = keyword.indexOf(folded, i + 1)) word = starts.includes(i)
      rank = word ? WORD_START : INSIDE
    } else if (query.length > 1) {
      const nameWords = words(keywordName(entry.keyword))
      if (!query.every((q) => nameWords.some((w) => w.startsWith(q)))) continue
      rank = WORDS
    } else continue
    ranked.push({ entry, rank, row: toRow(entry) })
  }
  ranked.sort((a, b) => a.rank - b.rank || Number(a.entry.retired) - Number(b.entry.retired) || byTag(a.entry, b.entry))
  return ranked.map((r) => r.row)
}
