/**
 * The sources: the only place that lists them. `source.type` names one (default `files`).
 * Adding a source: its module (stages that yield rows or records, see `source.ts`), a line here,
 * its fields in the schema, its test and its README row.
 */
import type { Readable, Transform } from 'node:stream'
import { dicomwebSource } from './dicomweb.js'
import { filesSource } from './files.js'
import type { SourceContext } from './source.js'

/** One kind of source. */
export interface SourceModule {
  /** What `source.type` says. */
  type: string
  /** One line for the schema and the README. */
  doc: string
  /** The source's stages, first to last. */
  create(context: SourceContext): (Readable | Transform)[]
}

export const SOURCES = [
  {
    type: 'files',
    doc: 'DICOM files in folders, files or glob patterns (`paths`), their headers read in reader threads',
    create: filesSource,
  },
  {
    type: 'dicomweb',
    doc: 'a PACS or archive over DICOMweb (`url`): QIDO-RS finds studies and series, WADO-RS gives their metadata',
    create: dicomwebSource,
  },
] as const satisfies readonly SourceModule[]

/** The names of the source types. */
export type SourceType = (typeof SOURCES)[number]['type']

export const SOURCE_TYPES = SOURCES.map((s) => s.type) as SourceType[]

/** The source of a type. @throws Error for a type no module has (the schema lets none through). */
export function sourceOf(type: string): SourceModule {
  const found = SOURCES.find((s) => s.type === type)
  if (!found) throw new Error(`no source of type "${type}"`)
  return found
}
