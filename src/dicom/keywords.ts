/**
 * The DICOM data dictionary (PS3.6), as dcmjs ships it: keyword <-> tag <-> VR.
 *
 * Tags are numbers `(group << 16 | element) >>> 0` inside the program and "(GGGG,EEEE)" text
 * for people. Look-ups are cached, so the reader's hot path (implicit VR files need a VR for
 * every element) costs one Map access per tag.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { closest } from '../suggest.js'

/**
 * The dictionary's codes of VRs that depend on context, as PS3.6 spells them (`xs`: "US or SS");
 * `na`: none (an item delimiter, say).
 */
export const AMBIGUOUS_VR: Readonly<Record<string, string>> = {
  xs: 'US or SS',
  ox: 'OB or OW',
  lt: 'US or OW',
  up: 'UL',
  na: '',
}

/** A dictionary VR as PS3.6 spells it: "US or SS" for `xs`; others as they are. */
export function spelledVr(vr: string): string {
  return AMBIGUOUS_VR[vr] ?? vr
}

/** One dictionary entry. `vr` may be ambiguous in the dictionary ("US or SS" is `xs`, "OB or OW" `ox`). */
export interface DictEntry {
  keyword: string
  tag: number
  vr: string
  vm: string
  retired: boolean
}

interface DcmjsEntry {
  tag: string
  vr: string
  vm: string
  name: string
}

/** [name, "(GGGG,EEEE)", VR, VM], as scripts/make-dictionary.mjs writes them from dcmjs. */
type CompactEntry = [string, string, string, string]

let dcmjsDictionary: Record<string, DcmjsEntry | undefined> | undefined

/**
 * dcmjs's tag look-up, loaded only for tags the compact dictionary lacks (repeating groups
 * such as 60xx). dcmjs's ESM build is a .js file in a package without "type": "module"; loaders
 * that hook require() (the test runner's TypeScript loader) cannot load it, so take its
 * CommonJS build.
 */
function dcmjsLookup(tag: number): DcmjsEntry | undefined {
  dcmjsDictionary ??= (
    createRequire(import.meta.url)('dcmjs') as {
      data: { DicomMetaDictionary: { dictionary: Record<string, DcmjsEntry | undefined> } }
    }
  ).data.DicomMetaDictionary.dictionary
  return dcmjsDictionary[formatTag(tag)]
}

const byTag = new Map<number, DictEntry | null>()
let keywordIndex: Map<string, DictEntry> | undefined

function toEntry(e: DcmjsEntry): DictEntry {
  const retired = e.name.startsWith('RETIRED_')
  return {
    keyword: retired ? e.name.slice('RETIRED_'.length) : e.name,
    // "(GGGG,EEEE)" as dcmjs writes it; ranges such as (60xx,3000) keep their first group.
    tag:
      parseInt(e.tag.slice(1, 5).replace(/x/gi, '0'), 16) * 0x10000 +
      parseInt(e.tag.slice(6, 10).replace(/x/gi, '0'), 16),
    vr: e.vr,
    vm: e.vm,
    retired,
  }
}

function keywords(): Map<string, DictEntry> {
  if (!keywordIndex) {
    keywordIndex = new Map()
    const compact = JSON.parse(readFileSync(new URL('./dictionary.json', import.meta.url), 'utf8')) as CompactEntry[]
    for (const [name, tag, vr, vm] of compact) {
      const entry = toEntry({ name, tag, vr, vm })
      byTag.set(entry.tag, entry)
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(entry.keyword)) continue
      keywordIndex.set(entry.keyword, entry)
    }
  }
  return keywordIndex
}

/** The entry of a DICOM keyword (case-sensitive, as the standard spells it), or undefined. */
export function lookupKeyword(keyword: string): DictEntry | undefined {
  return keywords().get(keyword)
}

/** The entry of a tag, repeating groups (60xx) included; undefined for private and unknown tags. */
export function lookupTag(tag: number): DictEntry | undefined {
  let entry = byTag.get(tag)
  if (entry === undefined) {
    keywords()
    if (byTag.has(tag)) return byTag.get(tag) ?? undefined
    // An odd group is private (PS3.5 7.8): never a repeating group's entry, whose masks (60xx,
    // 7Fxx) would otherwise match (6001,0010) as OverlayRows and (7FE1,0010) as pixel data.
    const raw = (tag >>> 16) % 2 === 1 ? undefined : dcmjsLookup(tag)
    entry = raw ? { ...toEntry(raw), tag } : null
    byTag.set(tag, entry)
  }
  return entry ?? undefined
}

/** Every keyword of the dictionary (for search and suggestions). */
export function allEntries(): Iterable<DictEntry> {
  return keywords().values()
}

/** The keyword a user most likely meant ("CTDIVol" -> "CTDIvol", "SliceLocaton" -> "SliceLocation"). */
export function suggestKeyword(text: string): string | undefined {
  return closest(text, keywords().keys())
}

/**
 * Parses a tag written as "0018,9345", "(0018,9345)", "0018 9345" or "00189345".
 * Returns undefined for anything else.
 */
export function parseTag(text: string): number | undefined {
  const m = /^\(?\s*([0-9A-Fa-f]{4})\s*[, ]?\s*([0-9A-Fa-f]{4})\s*\)?$/.exec(text.trim())
  if (!m) return undefined
  return ((parseInt(m[1], 16) << 16) | parseInt(m[2], 16)) >>> 0
}

/** "(0018,9345)" */
export function formatTag(tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0')
  return `(${hex.slice(0, 4)},${hex.slice(4)})`
}

/** Tag numbers the reader needs by name. */
export const Tags = {
  SpecificCharacterSet: 0x00080005,
  SOPInstanceUID: 0x00080018,
  TransferSyntaxUID: 0x00020010,
  PixelData: 0x7fe00010,
  Item: 0xfffee000,
  ItemDelimitation: 0xfffee00d,
  SequenceDelimitation: 0xfffee0dd,
} as const
