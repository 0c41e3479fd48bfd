/** "Did you mean ...?": the closest of some candidates to what a user typed. */

/**
 * The candidate closest to `text`: the same letters in another case or spelling
 * (`followSymlinks` -> `follow_symlinks`, `CTDIVol` -> `CTDIvol`) first, then the closest by
 * edit distance, at most a third of the length away. Undefined when none is close.
 */
export function closest(text: string, candidates: Iterable<string>): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, '')
  const folded = fold(text)
  const lower = text.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(text.length / 3)) + 1
  for (const candidate of candidates) {
    if (fold(candidate) === folded) return candidate
    if (Math.abs(candidate.length - text.length) >= bestDistance) continue
    const d = editDistance(lower, candidate.toLowerCase(), bestDistance)
    if (d < bestDistance) {
      bestDistance = d
      best = candidate
    }
  }
  return best
}

/** Levenshtein distance, giving up (returning `cap`) once every path reaches `cap`. */
export function editDistance(a: string, b: string, cap = Infinity): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      rowMin = Math.min(rowMin, current[j])
    }
    if (rowMin >= cap) return cap
    previous = current
  }
  return previous[b.length]
}
