/**
 * Column selection: the one parser behind `extract:` entries in YAML and `-k` on the command
 * line, so both accept exactly the same things and fail with the same messages.
 */
import { formatTag, lookupTag } from '../dicom/keywords.js'
import { parsePath } from '../dicom/paths.js'
import { parseSrPath, SR_PREFIX } from '../dicom/sr-paths.js'
import { PSEUDO_COLUMNS, type ColumnSpec, type PseudoColumn } from './spec.js'

export type ColumnResult = { ok: true; column: ColumnSpec } | { ok: false; message: string }

/**
 * Parses what a user wrote to select a column: a DICOM keyword (`CTDIvol`), a tag (`0018,9345`
 * or `(0018,9345)`), a path into sequences (`ExposureDoseSequence[0].CTDIvol`), a private element
 * by its creator (`0019,xx23@GEMS_ACQU_01`), an SR content item by concept name codes
 * (`sr:113811/113813`, see `dicom/sr-paths.ts`), or a pseudo-column (`path`, `size_bytes`, `mtime`).
 * `as` renames the column. Keywords are checked against the dictionary, with a suggestion.
 */
export function parseColumn(text: string, as?: string): ColumnResult {
  const trimmed = text.trim()
  if (trimmed.startsWith(SR_PREFIX)) {
    const parsed = parseSrPath(trimmed)
    if (!parsed.ok) return fail(parsed.message)
    const { steps, content } = parsed.path
    return ok(as ?? trimmed, { kind: 'element', tag: steps[0].tag, path: steps, content })
  }
  if ((PSEUDO_COLUMNS as readonly string[]).includes(trimmed)) {
    return ok(as ?? trimmed, { kind: 'pseudo', name: trimmed as PseudoColumn })
  }
  const parsed = parsePath(trimmed)
  if (!parsed.ok) return fail(parsed.message)
  const [first] = parsed.steps
  if (parsed.steps.length === 1 && !first.creator) {
    const keyword = lookupTag(first.tag)?.keyword
    return ok(as ?? keyword ?? formatTag(first.tag).slice(1, -1), { kind: 'element', tag: first.tag, keyword })
  }
  return ok(as ?? trimmed, { kind: 'element', tag: first.tag, path: parsed.steps })
}

/** Problems with a whole column list: duplicate names. */
export function checkColumnNames(columns: readonly ColumnSpec[]): string[] {
  const seen = new Set<string>()
  const problems: string[] = []
  for (const c of columns) {
    if (seen.has(c.name)) problems.push(`duplicate column "${c.name}" (rename one with "as")`)
    seen.add(c.name)
  }
  return problems
}

function ok(name: string, source: ColumnSpec['source']): ColumnResult {
  return { ok: true, column: { name, source } }
}

function fail(message: string): ColumnResult {
  return { ok: false, message }
}
