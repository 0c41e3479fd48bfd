/**
 * The frames of an Enhanced multi-frame image (the DICOM half of `rows: per_frame`): the
 * attributes of each frame, from the Multi-frame Functional Groups module (PS3.3 C.7.6.16).
 *
 * A frame's attributes are the top-level elements, overlaid by those of the functional group
 * macros of SharedFunctionalGroupsSequence (5200,9229) item 0, overlaid by those of the frame's
 * own item of PerFrameFunctionalGroupsSequence (5200,9230): per-frame wins over shared, shared
 * over the top level. Each functional group item holds macro sequences (PlanePositionSequence,
 * PixelMeasuresSequence, CTExposureSequence, FrameContentSequence...); the attributes of each
 * macro's first item are flattened into the frame, so that plain keywords name them
 * (`ImagePositionPatient`, `CTDIvol`, `FrameAcquisitionDateTime`).
 *
 * Rules where the standard leaves room:
 * - The overlay is per attribute, not per macro: a per-frame macro with no item hides nothing
 *   of the shared one. A macro with more than one item (Derivation Image, Real World Value
 *   Mapping allow several) gives its first item's attributes; all its items stay reachable
 *   through the macro sequence, which is kept in the frame too
 *   (`PlanePositionSequence[0].ImagePositionPatient` works on a frame).
 * - Within one functional group item, macros are applied in tag order: should two hold the same
 *   attribute, the later one wins. Elements of a functional group item that are not sequences
 *   (not allowed there) are taken as they are; sequences inside a macro item are kept whole.
 * - Private elements (odd groups) of functional group and macro items are left out: their
 *   blocks are numbered per item (PS3.5 section 7.8.1) and would be read against the top
 *   level's Private Creators. Vendors' private per-frame sequences stay reachable as paths
 *   through (5200,9230) itself, which every frame keeps, as it keeps (5200,9229).
 * - Specific Character Set: an item's own (0008,0005) applies to its elements and to the macro
 *   items inside it (PS3.5 section 7.5.3). Such elements are copies that carry the parsed terms
 *   in `charsets` ({@link FrameElement}); format them with those terms instead of the data
 *   set's. The frame's own (0008,0005) stays the top level's.
 * - A UN element that the dictionary knows as a sequence is read as one, its contents implicit
 *   VR little endian (PS3.5 section 6.2.2); nested sequences keep their `explicit` flag, so
 *   formatValue and readItems read the elements as the scanner kept them.
 *
 * Classic multi-frame images (a US cine, an RT Dose, NM) have no (5200,9230): their frames share
 * the top-level attributes, so {@link frameElements} returns undefined and the caller repeats the
 * top-level values on each of {@link numberOfFrames} rows. (Per-frame vectors named by Frame
 * Increment Pointer (0028,0009), such as FrameTimeVector, are not split.)
 *
 * Pure: no I/O, nothing decoded but what the overlay needs (items and (0008,0005)).
 */
import { EtlError } from '../errors.js'
import { parseCharsets } from './charset.js'
import { formatTag, lookupTag, Tags } from './keywords.js'
import { latin1, type DataElement } from './data-element.js'
import { readItems } from './items.js'

const NumberOfFrames = 0x00280008
const SharedFunctionalGroupsSequence = 0x52009229
const PerFrameFunctionalGroupsSequence = 0x52009230

/**
 * The tags a read plan needs for {@link frameElements}: NumberOfFrames and both functional group
 * sequences, which the reader then keeps whole (however long: a kept sequence gets a window of
 * its size, up to the reader's `maxBytes`).
 */
export const FRAME_TAGS: readonly number[] = [
  NumberOfFrames,
  SharedFunctionalGroupsSequence,
  PerFrameFunctionalGroupsSequence,
]

/** An element of a frame: a data element, with the character set of the item it came from when that item declared one. */
export interface FrameElement extends DataElement {
  /** The (0008,0005) terms in force in the item the element came from, when not the data set's. */
  charsets?: readonly string[]
}

/** Options of {@link frameElements}. */
export interface FrameOptions {
  /**
   * Told of what is odd but readable: NumberOfFrames absent, invalid, or not the number of
   * per-frame items (the items are trusted), or a shared sequence with more than one item.
   */
  warn?: (message: string) => void
}

/**
 * NumberOfFrames (0028,0008) as a number: undefined when absent, empty or not an integer (IS).
 */
export function numberOfFrames(elements: ReadonlyMap<number, DataElement>): number | undefined {
  const element = elements.get(NumberOfFrames)
  if (!element) return undefined
  const text = latin1(element.value).replace(/^[ \0]+|[ \0]+$/g, '')
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined
}

/**
 * The attributes of each frame of a data set with a PerFrameFunctionalGroupsSequence
 * (5200,9230): one map per item of it, frame 1 first (see the module comment for the overlay).
 * Returns undefined for a data set without (5200,9230) (single-frame, or classic multi-frame).
 * `elements` is a header's top-level map, read with {@link FRAME_TAGS} in its plan; it is not
 * changed, and the frames share its elements.
 *
 * Throws EtlError E_CORRUPT, naming the sequence, item and frame, when (5200,9230) has no item
 * or is not a sequence, or when the items of a functional group sequence or of a macro are
 * broken.
 */
export function frameElements(
  elements: ReadonlyMap<number, DataElement>,
  littleEndian: boolean,
  options: FrameOptions = {},
): Map<number, FrameElement>[] | undefined {
  const perFrame = elements.get(PerFrameFunctionalGroupsSequence)
  if (!perFrame) return undefined
  const items = itemsOf(perFrame, littleEndian, name(PerFrameFunctionalGroupsSequence))
  const stored = elements.get(NumberOfFrames)
  const count = numberOfFrames(elements)
  if (items.length === 0) {
    const frames = count === undefined ? '' : ` (NumberOfFrames ${count})`
    throw new EtlError('E_CORRUPT', `${name(PerFrameFunctionalGroupsSequence)} has no item${frames}`)
  }
  const theItems = `the ${items.length} item${items.length === 1 ? '' : 's'} of ${name(PerFrameFunctionalGroupsSequence)}`
  if (!stored) {
    options.warn?.(`${name(NumberOfFrames)} is absent; the frames are ${theItems}`)
  } else if (count !== items.length) {
    const value = count === undefined ? `"${latin1(stored.value).trim()}"` : String(count)
    options.warn?.(`${name(NumberOfFrames)} is ${value}; the frames are ${theItems}`)
  }

  const base = new Map<number, FrameElement>(elements)
  const shared = elements.get(SharedFunctionalGroupsSequence)
  if (shared) {
    const sharedItems = itemsOf(shared, littleEndian, name(SharedFunctionalGroupsSequence))
    if (sharedItems.length > 1) {
      options.warn?.(`${name(SharedFunctionalGroupsSequence)} has ${sharedItems.length} items; the first is used`)
    }
    if (sharedItems.length > 0) {
      overlay(base, sharedItems[0], littleEndian, `${name(SharedFunctionalGroupsSequence)} item 1`)
    }
  }
  return items.map((item, i) => {
    const frame = new Map(base)
    overlay(frame, item, littleEndian, `${name(PerFrameFunctionalGroupsSequence)} item ${i + 1} (frame ${i + 1})`)
    return frame
  })
}

/**
 * Sets into `frame` the elements of one functional group item: each macro sequence, and the
 * elements of its first item. `where` names the item in error messages.
 */
function overlay(
  frame: Map<number, FrameElement>,
  group: ReadonlyMap<number, DataElement>,
  littleEndian: boolean,
  where: string,
): void {
  const charsets = ownCharsets(group, undefined)
  for (const [tag, element] of group) {
    if (isPrivate(tag) || tag === Tags.SpecificCharacterSet) continue
    const sequence = asSequence(element)
    if (!sequence) {
      frame.set(tag, withCharsets(element, charsets))
      continue
    }
    frame.set(tag, withCharsets(sequence, charsets))
    const first = itemsOf(sequence, littleEndian, `${where}: ${name(tag)}`)[0]
    if (!first) continue
    const inner = ownCharsets(first, charsets)
    for (const [innerTag, innerElement] of first) {
      if (isPrivate(innerTag) || innerTag === Tags.SpecificCharacterSet) continue
      frame.set(innerTag, withCharsets(asSequence(innerElement) ?? innerElement, inner))
    }
  }
}

/** The items of a sequence; its broken items as EtlError E_CORRUPT naming `where`. */
function itemsOf(element: DataElement, littleEndian: boolean, where: string): Map<number, DataElement>[] {
  const sequence = asSequence(element)
  if (!sequence) throw new EtlError('E_CORRUPT', `${where} is not a sequence (VR ${element.vr})`)
  try {
    // Implicit VR contents (a UN sequence's) are little endian whatever the data set's order.
    return readItems(sequence, littleEndian || sequence.explicit === false)
  } catch (e) {
    throw new EtlError('E_CORRUPT', `${where}: broken items: ${(e as Error).message}`)
  }
}

/** The element as a sequence: itself when SQ, read as one when UN and the dictionary says SQ, else undefined. */
function asSequence(element: DataElement): DataElement | undefined {
  if (element.vr === 'SQ') return element
  if (element.vr === 'UN' && lookupTag(element.tag)?.vr === 'SQ') {
    return { tag: element.tag, vr: 'SQ', value: element.value, explicit: false }
  }
  return undefined
}

/** The terms of an item's own (0008,0005), else `inherited`. */
function ownCharsets(item: ReadonlyMap<number, DataElement>, inherited: readonly string[] | undefined) {
  const own = item.get(Tags.SpecificCharacterSet)
  return own ? parseCharsets(latin1(own.value)) : inherited
}

function withCharsets(element: DataElement, charsets: readonly string[] | undefined): FrameElement {
  return charsets ? { ...element, charsets } : element
}

function isPrivate(tag: number): boolean {
  return (tag >>> 16) % 2 === 1
}

/** "PerFrameFunctionalGroupsSequence (5200,9230)" */
function name(tag: number): string {
  const keyword = lookupTag(tag)?.keyword
  return keyword ? `${keyword} ${formatTag(tag)}` : formatTag(tag)
}
