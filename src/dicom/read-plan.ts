/**
 * What a header read collects: the data set tags, whole groups or everything, the file meta
 * tags, and the tag the scan stops after. Made once per pipeline and shared by every read.
 */
import { Tags } from './keywords.js'

/** Which elements to collect. Build it once per pipeline with {@link planRead}. */
export interface ReadPlan {
  /** Data set tags to keep. */
  tags: ReadonlySet<number>
  /** The same, ascending: the top-level scan walks it beside the file's (ascending) tags. */
  sorted: readonly number[]
  /** Whole groups to keep (private groups, whose block numbers vary from file to file). */
  groups: ReadonlySet<number>
  /** Keep every element (items of sequences, `etl inspect`). */
  all: boolean
  /** File meta (group 0002) tags to keep; Transfer Syntax UID is always read. */
  metaTags: ReadonlySet<number>
  /**
   * Scanning stops at the first top-level tag above this one. Below Pixel Data unless a tag
   * after it is wanted: then the pixel data is skipped and the scan reads on.
   */
  maxTag: number
}

/** What to collect besides single tags. */
export interface PlanOptions {
  groups?: Iterable<number>
  all?: boolean
}

/** A plan for the given tags; Specific Character Set is always added (text decoding needs it). */
export function planRead(tags: Iterable<number>, options: PlanOptions = {}): ReadPlan {
  const set = new Set<number>([Tags.SpecificCharacterSet])
  const metaTags = new Set<number>([Tags.TransferSyntaxUID])
  for (const t of tags) (t >>> 16 === 0x0002 ? metaTags : set).add(t >>> 0)
  const groups = new Set(options.groups ?? [])
  let maxTag = 0
  for (const t of set) maxTag = Math.max(maxTag, t)
  for (const g of groups) maxTag = Math.max(maxTag, g * 0x10000 + 0xffff)
  if (options.all) maxTag = Tags.PixelData - 1
  const sorted = [...set].sort((a, b) => a - b)
  return { tags: set, sorted, groups, all: options.all ?? false, metaTags, maxTag }
}
