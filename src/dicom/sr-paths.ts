/**
 * The short form of paths into SR content trees: `sr:` and the concept name codes of the
 * content items, from the document's ContentSequence down, separated by `/`.
 *
 *   sr:113811/113813            CT Accumulated Dose Data > CT Dose Length Product Total
 *   sr:113819[*]/113829/113830  Mean CTDIvol of every CT Acquisition (one value per acquisition)
 *   sr:113819[1]/113820         the second CT Acquisition's Acquisition Protocol
 *   sr:SCT:116152004            a code with its scheme (without one, any scheme matches)
 *   sr:113876/*                 any concept: the first item inside
 *   sr:113819/113820@code       ...@code: the code value of a CODE item; @unit: a NUM's unit
 *   sr:113811/113813@mGy.cm     a NUM converted to a unit (see units.ts)
 *
 * Each step is `ContentSequence[code=...]` of the long form (`dicom/paths.ts`): the first item
 * whose concept name is the code, `[n]` the n-th such item (from 0), `[*]` every one.
 */
import { codeText, CODE_HINT, parseCode, type PathStep } from './paths.js'
import { SrTags, type ContentSpec } from './sr-content.js'
import { isKnownUnit, UNIT_NAMES } from './units.js'

export const SR_PREFIX = 'sr:'

/** A parsed `sr:` path: ContentSequence steps, and what to take of the items reached. */
export interface SrPath {
  steps: PathStep[]
  content: ContentSpec
}

export type SrPathResult = { ok: true; path: SrPath } | { ok: false; message: string }

const STEP = /^(.*?)(?:\[([^\]]*)\])?$/

/**
 * Parses `sr:CODE/CODE...` with an optional `@code`, `@unit` or `@UNIT` at the end; `unit`
 * (the YAML `unit:`) asks for a unit conversion too.
 */
export function parseSrPath(text: string, unit?: string): SrPathResult {
  const written = text.trim()
  const fail = (why: string): SrPathResult => ({ ok: false, message: `${written}: ${why}` })
  if (!written.startsWith(SR_PREFIX)) return fail(`an SR path starts with "${SR_PREFIX}"`)
  let body = written.slice(SR_PREFIX.length).trim()
  const content: ContentSpec = { part: 'value' }
  const at = body.lastIndexOf('@')
  if (at >= 0) {
    const suffix = body.slice(at + 1).trim()
    body = body.slice(0, at).trim()
    if (suffix === 'code' || suffix === 'unit') content.part = suffix
    else if (isKnownUnit(suffix)) content.unit = suffix
    else return fail(`"@${suffix}": expected @code, @unit or a unit to convert to (${UNIT_NAMES.join(', ')})`)
  }
  if (unit !== undefined) {
    if (!isKnownUnit(unit)) return fail(`unit "${unit}" is not one that converts (${UNIT_NAMES.join(', ')})`)
    if (content.part !== 'value') return fail(`a unit converts values, not "@${content.part}"`)
    if (content.unit !== undefined && content.unit !== unit) return fail(`two units: @${content.unit} and ${unit}`)
    content.unit = unit
  }
  if (body === '') return fail('no codes: expected codes separated by "/", e.g. sr:113811/113813')
  const steps: PathStep[] = []
  for (const [i, part] of body.split('/').entries()) {
    const m = STEP.exec(part.trim()) as RegExpExecArray
    const code = m[1].trim()
    if (code === '') return fail(`step ${i + 1} is empty: expected ${CODE_HINT}, or * for any`)
    const selector = m[2]?.trim()
    const item = selector === undefined ? 0 : selector === '*' ? '*' : /^\d+$/.test(selector) ? Number(selector) : NaN
    if (Number.isNaN(item)) return fail(`"[${selector}]" after ${code}: expected [n] (from 0) or [*]`)
    if (code === '*') {
      steps.push({ tag: SrTags.ContentSequence, item })
      continue
    }
    const parsed = parseCode(code)
    if (!parsed) return fail(`"${code}" is not a code: expected ${CODE_HINT}, or * for any`)
    steps.push({ tag: SrTags.ContentSequence, item, code: parsed })
  }
  return { ok: true, path: { steps, content } }
}

/** The short form of ContentSequence steps, as {@link parseSrPath} reads it back. */
export function srPathText(steps: readonly PathStep[], content: ContentSpec = { part: 'value' }): string {
  const codes = steps.map((step) => {
    const code = step.code ? codeText(step.code) : '*'
    return step.item === 0 ? code : `${code}[${step.item}]`
  })
  const suffix = content.part !== 'value' ? `@${content.part}` : content.unit ? `@${content.unit}` : ''
  return `${SR_PREFIX}${codes.join('/')}${suffix}`
}

/**
 * The path of `rows: {per_item: ...}`: an `sr:` path to content items, without a suffix (the
 * rows are the items, not one of their values).
 */
export function parseItemPath(
  text: string,
): { ok: true; path: { text: string; steps: PathStep[] } } | { ok: false; message: string } {
  const parsed = parseSrPath(text)
  if (!parsed.ok) return parsed
  if (parsed.path.content.part !== 'value' || parsed.path.content.unit !== undefined) {
    return { ok: false, message: `${text.trim()}: the items themselves, without @code, @unit or a unit` }
  }
  return { ok: true, path: { text: text.trim(), steps: parsed.path.steps } }
}
