/**
 * Reference levels (`reference_levels:` of `dose_audit` and `exam_dose`): per examination a name,
 * the pattern of the protocols it applies to, its Diagnostic Reference Levels and notification
 * values. The first level whose pattern matches a protocol applies.
 */

export const LEVEL_FIELDS = {
  name: {
    required: true,
    doc: 'The name of the level, as the source of the levels names the examination.',
    example: 'name: Head',
    type: { kind: 'string' },
  },
  match: {
    required: true,
    doc:
      "A regular expression (case-insensitive) the protocol column's value must match for the level to " +
      'apply; the first level that matches applies.',
    example: "match: 'head|brain'",
    type: { kind: 'string' },
  },
  ctdivol_mGy: {
    doc: 'The DRL of CTDIvol per series (sequence), in mGy: compared with the median of the group.',
    example: 'ctdivol_mGy: 47',
    type: { kind: 'number', min: 0, max: 10000 },
  },
  dlp_mGycm: {
    doc: 'The DRL of DLP per exam (complete examination), in mGy.cm: compared with the median of the group.',
    example: 'dlp_mGycm: 790',
    type: { kind: 'number', min: 0, max: 1000000 },
  },
  notification_ctdivol_mGy: {
    doc: 'A series whose CTDIvol is above this raises an alert.',
    example: 'notification_ctdivol_mGy: 80',
    type: { kind: 'number', min: 0, max: 10000 },
  },
  notification_dlp_mGycm: {
    doc: 'An exam whose DLP is above this raises an alert.',
    example: 'notification_dlp_mGycm: 1580',
    type: { kind: 'number', min: 0, max: 1000000 },
  },
} as const

/** One reference level, as its block checks to. */
export interface Level {
  name: string
  match: string
  ctdivol_mGy?: number
  dlp_mGycm?: number
  notification_ctdivol_mGy?: number
  notification_dlp_mGycm?: number
}

/** A level with its pattern compiled. */
export type CompiledLevel = Level & { regex: RegExp }

/** The `reference_levels` field of a metric's block; `unmatched` says what a protocol no level matches gets. */
export function referenceLevelsField(unmatched: string) {
  return {
    default: [],
    doc:
      'The reference levels, each with its name, the pattern of the protocols it applies to (`match`), its DRLs ' +
      `and notification values. ${unmatched}`,
    example: 'reference_levels: [{name: Head, match: head, ctdivol_mGy: 47, dlp_mGycm: 790}]',
    type: { kind: 'list', noun: 'a list of reference levels', items: { kind: 'mapping', fields: LEVEL_FIELDS } },
  } as const
}

/** Reports each `match` that is no regular expression, at its key. */
export function checkLevels(
  key: string,
  levels: readonly (Partial<Level> | undefined)[] | undefined,
  report: (path: string, message: string) => void,
): void {
  for (const [i, level] of (levels ?? []).entries()) {
    if (level?.match === undefined) continue
    try {
      new RegExp(level.match, 'i')
    } catch (err) {
      report(`${key}.reference_levels[${i}].match`, `not a regular expression: ${(err as Error).message}`)
    }
  }
}

/** The levels with their patterns compiled (case-insensitive). */
export function compileLevels(levels: readonly Level[]): CompiledLevel[] {
  return levels.map((level) => ({ ...level, regex: new RegExp(level.match, 'i') }))
}

/** The first level whose pattern matches the protocol. */
export function levelOf(levels: readonly CompiledLevel[], protocol: string): CompiledLevel | undefined {
  return levels.find((level) => level.regex.test(protocol))
}
