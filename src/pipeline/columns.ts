/**
 * Column selection: the one parser behind `extract:` entries in YAML and `-k` on the command
 * line, so both accept exactly the same things and fail with the same messages.
 */
import { formatTag, lookupKeyword, lookupTag, parseTag, suggestKeyword } from '../dicom/keywords.js'
import { PSEUDO_COLUMNS, type ColumnSpec, type PseudoColumn } from './spec.js'

export type ColumnResult = { ok: true; column: ColumnSpec } | { ok: false; message: string }

/**
 * Parses what a user wrote to select a column: a DICOM keyword (`CTDIvol`), a tag
 * (`0018,9345` or `(0018,9345)`), or a pseudo-column (`path`, `size_bytes`, `mtime`).
 * `as` renames the column. Keywords are checked against the dictionary, with a suggestion.
 */
export function parseColumn(text: string, as?: string): ColumnResult {
  const trimmed = text.trim()
  if ((PSEUDO_COLUMNS as readonly string[]).includes(trimmed)) {
    return ok(as ?? trimmed, { kind: 'pseudo', name: trimmed as PseudoColumn })
  }
  const tag = parseTag(trimmed)
  if (tag !== undefined) {
    if (tag >>> 16 === 0xfffe) return fail(`${formatTag(tag)} is an item delimiter, not an attribute`)
    const keyword = lookupTag(tag)?.keyword
    return ok(as ?? keyword ?? formatTag(tag).slice(1, -1), { kind: 'element', tag, keyword })
  }
  const entry = lookupKeyword(trimmed)
  if (entry) return ok(as ?? entry.keyword, { kind: 'element', tag: entry.tag, keyword: entry.keyword })
  if (trimmed === '') return fail('empty column: expected a DICOM keyword, a tag like 0018,9345, or path')
  const suggestion = suggestKeyword(trimmed)
  const hint = suggestion ? ` (did you mean "${suggestion}"?)` : ''
  return fail(`unknown keyword "${trimmed}"${hint}`)
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
