/**
 * Attribute paths: how a column names an element inside sequences, or a private element by its
 * creator, and how a path is followed through a header.
 *
 *   CTDIvol                                        a top-level attribute
 *   ExposureDoseSequence[0].CTDIvol                inside the first item of a sequence
 *   PerFrameFunctionalGroupsSequence[*].CTExposureSequence[0].CTDIvol   one value per frame
 *   0019,xx23@GEMS_ACQU_01                         a private element, block found by its creator
 *
 * Steps are keywords or tags, separated by dots; a sequence step names its items with `[n]`
 * (from 0) or `[*]` (all, values joined). Private blocks are resolved per data set from the
 * Private Creator elements (gggg,0010-00FF), never assumed (PS3.5 section 7.8.1).
 */
import { formatTag, lookupKeyword, lookupTag, suggestKeyword } from './keywords.js'
import { latin1, type DataElement } from './data-element.js'

/** One step of a path. */
export interface PathStep {
  /** The tag; for a private element named by its creator, with block byte 00: (0019,0023) for (0019,xx23). */
  tag: number
  /** The Private Creator whose block holds this element. */
  creator?: string
  /** The items of this sequence to go into: one by index, or all. */
  item?: number | '*'
}

export type PathResult = { ok: true; steps: PathStep[] } | { ok: false; message: string }

const STEP =
  /^(?:\(([0-9A-Fa-f]{4}),\s*([0-9A-Fa-fxX]{4})(?:@([^)]+))?\)|([0-9A-Fa-f]{4}),?([0-9A-Fa-fxX]{4})(?:@([^.[]+))?|([A-Za-z][A-Za-z0-9]*))(?:\[(\d+|\*)\])?/

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
      return fail(`${name}[${steps[i].item}] selects items: add the attribute inside them`)
    if (last && vr === 'SQ') {
      return fail(`${name} is a sequence: select an attribute inside it, e.g. ${name}[0].CodeValue`)
    }
  }
  return { ok: true, steps }
}

function toStep(m: RegExpExecArray): PathStep | string {
  const item = m[8] === undefined ? undefined : m[8] === '*' ? '*' : Number(m[8])
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

function withItem(step: PathStep, item: number | '*' | undefined): PathStep {
  return item === undefined ? step : { ...step, item }
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
