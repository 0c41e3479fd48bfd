/**
 * Attribute paths: how a column names an element inside sequences, or a private element by its
 * creator, and how a path is followed through a header.
 *
 *   CTDIvol                                        a top-level attribute
 *   ExposureDoseSequence[0].CTDIvol                inside the first item of a sequence
 *   PerFrameFunctionalGroupsSequence[*].CTExposureSequence[0].CTDIvol   one value per frame
 *   0019,xx23@GEMS_ACQU_01                         a private element, block found by its creator
 *   ContentSequence[code=113811].ContentSequence[code=DCM:113813].MeasuredValueSequence[0].NumericValue
 *
 * Steps are keywords or tags, separated by dots; a sequence step names its items with `[n]`
 * (from 0) or `[*]` (all, values joined). Private blocks are resolved per data set from the
 * Private Creator elements (gggg,0010-00FF), never assumed (PS3.5 section 7.8.1).
 *
 * Items of SR content (and any item with a ConceptNameCodeSequence) are chosen by their concept
 * name code, never by position: `[code=113811]` is the first item whose concept name is 113811
 * (any coding scheme), `[code=DCM:113811]` with that scheme; `[*,code=113819]` every such item,
 * `[1,code=113819]` the second. Code meanings are never matched: they are labels.
 */
import { formatTag, lookupKeyword, lookupTag, suggestKeyword } from './keywords.js'
import { latin1, type DataElement } from './data-element.js'

/** One step of a path. */
export interface PathStep {
  /** The tag; for a private element named by its creator, with block byte 00: (0019,0023) for (0019,xx23). */
  tag: number
  /** The Private Creator whose block holds this element. */
  creator?: string
  /** The items of this sequence to go into: one by index, or all (of those matching `code`, if given). */
  item?: number | '*'
  /** Only the items whose concept name (ConceptNameCodeSequence[0]) is this code. */
  code?: ConceptCode
}

/** A concept name code to select items by; without a scheme, any coding scheme matches. */
export interface ConceptCode {
  value: string
  scheme?: string
}

export type PathResult = { ok: true; steps: PathStep[] } | { ok: false; message: string }

const STEP =
  /^(?:\(([0-9A-Fa-f]{4}),\s*([0-9A-Fa-fxX]{4})(?:@([^)]+))?\)|([0-9A-Fa-f]{4}),?([0-9A-Fa-fxX]{4})(?:@([^.[]+))?|([A-Za-z][A-Za-z0-9]*))(?:\[([^\]]*)\])?/

/** Parses a path, checking keywords against the dictionary and sequence steps against their VR. */
export function parsePath(text: string): PathResult {
  const steps: PathStep[] = []
  let rest = text.trim()
  while (rest.length > 0) {
    const m = STEP.exec(rest)
    if (!m) return fail(`cannot read "${rest}" in "${text}": expected a keyword or a tag like 0018,9345`)
    const step = toStep(m)
    if (typeof step === 'string') return fail(step)
    steps.push(step)
    rest = rest.slice(m[0].length)
    if (rest.startsWith('.')) rest = rest.slice(1)
    else if (rest.length > 0) return fail(`expected "." or the end after "${m[0]}" in "${text}"`)
  }
  if (steps.length === 0) return fail('empty column: expected a DICOM keyword, a tag like 0018,9345, or path')
  for (let i = 0; i < steps.length; i++) {
    const last = i === steps.length - 1
    const name = stepName(steps[i])
    const vr = steps[i].creator ? undefined : lookupTag(steps[i].tag)?.vr
    if (!last && steps[i].item === undefined) {
      return fail(`${name} is followed by more steps: say which items, e.g. ${name}[0] or ${name}[*]`)
    }
    if (!last && vr !== undefined && vr !== 'SQ') return fail(`${name} is not a sequence (VR ${vr})`)
    if (last && steps[i].item !== undefined)
      return fail(`${name}[${selectorText(steps[i])}] selects items: add the attribute inside them`)
    if (last && vr === 'SQ') {
      return fail(`${name} is a sequence: select an attribute inside it, e.g. ${name}[0].CodeValue`)
    }
  }
  return { ok: true, steps }
}

function toStep(m: RegExpExecArray): PathStep | string {
  const selector = m[8] === undefined ? undefined : parseSelector(m[8])
  if (typeof selector === 'string') return selector
  const item = selector
  if (m[7] !== undefined) {
    const entry = lookupKeyword(m[7])
    if (!entry) {
      const suggestion = suggestKeyword(m[7])
      return `unknown keyword "${m[7]}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`
    }
    return withItem({ tag: entry.tag }, item)
  }
  const group = m[1] ?? m[4]
  const element = m[2] ?? m[5]
  const creator = (m[3] ?? m[6])?.trim()
  const g = parseInt(group, 16)
  const placeholder = /^xx/i.test(element)
  if (/x/i.test(element) && !placeholder)
    return `tag ${group},${element}: only the block byte can be xx (as in 0019,xx23)`
  if (placeholder && !creator)
    return `${group},${element} needs its private creator, as in ${group},${element}@GEMS_ACQU_01`
  if (creator && g % 2 === 0) return `${group},${element}@${creator}: a private creator names an odd (private) group`
  const e = parseInt(placeholder ? element.slice(2) : element, 16)
  const tag = g * 0x10000 + (creator ? e & 0xff : e)
  if (g === 0xfffe) return `${formatTag(tag)} is an item delimiter, not an attribute`
  return withItem(creator ? { tag, creator } : { tag }, item)
}

interface Selector {
  item: number | '*'
  code?: ConceptCode
}

/** A code as written: `113811`, `DCM:113811`, `SCT:116152004`. */
const CODE = /^(?:([A-Za-z0-9_.-]+):)?([^\s:/[\]@,*]+)$/

/** What a code looks like, for messages. */
export const CODE_HINT = 'a code like 113811 or DCM:113811'

/** A concept code as written, or undefined when it is not one. */
export function parseCode(text: string): ConceptCode | undefined {
  const m = CODE.exec(text.trim())
  if (!m) return undefined
  return m[1] === undefined ? { value: m[2] } : { value: m[2], scheme: m[1] }
}

/** The text between brackets: `0`, `*`, `code=113811`, `*,code=DCM:113819`, `1,code=113819`. */
function parseSelector(text: string): Selector | string {
  let item: number | '*' | undefined
  let code: ConceptCode | undefined
  for (const part of text.split(',').map((p) => p.trim())) {
    if (/^\d+$/.test(part) && item === undefined) item = Number(part)
    else if (part === '*' && item === undefined) item = '*'
    else if (part.startsWith('code=') && code === undefined) {
      code = parseCode(part.slice(5))
      if (!code) return `[${text}]: expected ${CODE_HINT} after "code=", got "${part.slice(5)}"`
    } else {
      return `[${text}]: expected [n], [*], [code=113811] or [*,code=113811]`
    }
  }
  return code ? { item: item ?? 0, code } : { item: item ?? 0 }
}

/** The selector of a step as written between brackets. */
export function selectorText(step: PathStep): string {
  const code = step.code ? `code=${codeText(step.code)}` : ''
  if (!code) return String(step.item)
  return step.item === 0 ? code : `${step.item},${code}`
}

/** A code as written in a path: `113811`, `SCT:116152004`. */
export function codeText(code: ConceptCode): string {
  return code.scheme === undefined ? code.value : `${code.scheme}:${code.value}`
}

function withItem(step: PathStep, selector: Selector | undefined): PathStep {
  if (selector === undefined) return step
  return selector.code ? { ...step, item: selector.item, code: selector.code } : { ...step, item: selector.item }
}

function stepName(step: PathStep): string {
  if (step.creator) return `${formatTag(step.tag).slice(1, 6)}xx${formatTag(step.tag).slice(8, 10)}@${step.creator}`
  return lookupTag(step.tag)?.keyword ?? formatTag(step.tag).slice(1, -1)
}

function fail(message: string): PathResult {
  return { ok: false, message }
}

/**
 * The element a step names in one data set or item: for a private step, in the block whose
 * Private Creator (gggg,00bb) holds the step's creator.
 */
export function findElement(elements: ReadonlyMap<number, DataElement>, step: PathStep): DataElement | undefined {
  if (!step.creator) return elements.get(step.tag)
  const group = Math.floor(step.tag / 0x10000)
  for (let block = 0x10; block <= 0xff; block++) {
    const creator = elements.get(group * 0x10000 + block)
    if (
      creator &&
      latin1(creator.value)
        .replace(/[\0 ]+$/, '')
        .trim() === step.creator
    ) {
      return elements.get(group * 0x10000 + block * 0x100 + (step.tag & 0xff))
    }
  }
  return undefined
}
