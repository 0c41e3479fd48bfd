/**
 * What `etl keywords` prints of a dictionary search: an aligned table or CSV on stdout, or
 * "no match" with a hint on stderr.
 */
import { parseTag, suggestKeyword } from '../dicom/keywords.js'
import { searchKeywords, words, type KeywordRow } from '../dicom/search-keywords.js'

/** Aligned columns for people; the name last, with "(retired)" after retired ones. */
export function formatTable(rows: readonly KeywordRow[]): string {
  const head = ['keyword', 'tag', 'VR', 'VM', 'name']
  const lines = [head, ...rows.map((r) => [r.keyword, r.tag, r.vr, r.vm, r.retired ? `${r.name} (retired)` : r.name])]
  const widths = head.map((_, i) => Math.max(...lines.map((line) => line[i].length)))
  return (
    lines.map((line) => line.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]) : cell)).join('  ')).join('\n') + '\n'
  )
}

/** CSV for machines: keyword,tag,vr,vm,name,retired (true or false). */
export function formatCsv(rows: readonly KeywordRow[]): string {
  const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)
  const lines = ['keyword,tag,vr,vm,name,retired']
  for (const r of rows) lines.push([r.keyword, r.tag, r.vr, r.vm, r.name, String(r.retired)].map(quote).join(','))
  return lines.join('\n') + '\n'
}

/** What `etl keywords` prints: the table on stdout, or "no match" on stderr and exit code 1. */
export function keywordsReport(
  text: string | undefined,
  options: { csv?: boolean } = {},
): { stdout: string; stderr: string; exitCode: 0 | 1 } {
  const rows = searchKeywords(text)
  if (rows.length > 0) return { stdout: (options.csv ? formatCsv : formatTable)(rows), stderr: '', exitCode: 0 }
  const tag = parseTag(text ?? '')
  let hint = ''
  if (tag !== undefined && (tag >>> 16) % 2 === 1) hint = ' (odd groups are private tags: no dictionary has them)'
  else if (tag === undefined) {
    const near = suggestKeyword(words(text ?? '').join(''))
    if (near) hint = ` (did you mean "${near}"?)`
  }
  return { stdout: '', stderr: `etl: no match for "${text}"${hint}\n`, exitCode: 1 }
}
