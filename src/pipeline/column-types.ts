/**
 * What each output column holds, known before the first row: typed sinks (Parquet) declare
 * their schema from it. An attribute's type comes from its VR and VM in the DICOM dictionary
 * (PS3.6); computed columns declare theirs.
 */
import type { AggregateOp } from '../metrics/aggregate.js'
import { lookupTag, spelledVr } from '../dicom/keywords.js'
import { DOSE_NUM_CONCEPTS } from '../dicom/sr-content.js'
import type { ColumnType } from '../sinks/sink.js'
import type { ColumnSpec } from './spec.js'

const NUMBER_VRS = new Set(['DS', 'FL', 'FD'])
const INTEGER_VRS = new Set(['IS', 'US', 'SS', 'UL', 'SL', 'SV', 'UV'])
const BYTES_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'])

export const TEXT: ColumnType = { kind: 'text', list: false }
export const NUMBER: ColumnType = { kind: 'number', list: false }
export const INTEGER: ColumnType = { kind: 'integer', list: false }

/** The type of a VR and VM (`US or SS` is an integer, `OB or OW` bytes); unknown ones are text. */
export function typeOfVr(vr: string | undefined, vm = '1'): ColumnType {
  const vrs = spelledVr(vr ?? '').split(/ or /)
  const kind = vrs.every((v) => NUMBER_VRS.has(v) || INTEGER_VRS.has(v))
    ? vrs.every((v) => INTEGER_VRS.has(v))
      ? 'integer'
      : 'number'
    : vrs.some((v) => BYTES_VRS.has(v))
      ? 'bytes'
      : 'text'
  return { kind, list: kind !== 'bytes' && vm !== '1' }
}

/** The type of an extracted column. */
export function columnType(column: ColumnSpec): ColumnType {
  const source = column.source
  if (source.kind === 'pseudo') return source.name === 'size_bytes' || source.name === 'frame' ? INTEGER : TEXT
  const last = source.path ? source.path[source.path.length - 1] : undefined
  if (source.content) {
    // An `sr:` column: its value type is known only from each file, so text unless it is a
    // number for sure (a unit conversion, a NUM concept of the dose reports).
    const code = last?.code
    const number =
      source.content.part === 'value' &&
      (source.content.unit !== undefined ||
        (code !== undefined && (code.scheme ?? 'DCM') === 'DCM' && DOSE_NUM_CONCEPTS.has(code.value)))
    const list = source.path?.some((step) => step.item === '*') ?? false
    return { ...(number ? NUMBER : TEXT), list }
  }
  const entry = last?.creator ? undefined : lookupTag(last?.tag ?? source.tag)
  const type = typeOfVr(entry?.vr, entry?.vm)
  // Through `[*]`, one value per item: a list.
  return source.path?.some((step) => step.item === '*') ? { ...type, list: true } : type
}

/** The type of an aggregate over a column of type `of`. */
export function aggregateType(op: AggregateOp, of: ColumnType): ColumnType {
  if (op === 'count' || op === 'count_distinct') return INTEGER
  if (op === 'min' || op === 'max' || op === 'first' || op === 'last') return of
  // sum, mean, median, pNN, stddev: computed numbers.
  return NUMBER
}
