/**
 * The items of sequences (PS3.5 section 7.5): those of a kept sequence read into maps of their
 * elements, and those of an unwanted sequence longer than a window walked through the file a
 * window at a time, their values jumped over.
 */
import { formatTag, Tags } from './keywords.js'
import type { DataElement } from './data-element.js'
import { charge, type Budget, type Step, type StepResult } from './read-budget.js'
import { planRead, type ReadPlan } from './read-plan.js'
import { MAX_DEPTH, Scanner, claimsTooMuch, corrupt, truncatedIn, type Damage } from './scan-header.js'
import { LONG, SHORT, UNDEFINED_LENGTH, UN_CODE, VR_KIND } from './vr.js'

/** Keep everything: for the items of a sequence. */
const ALL: ReadPlan = planRead([], { all: true })

/**
 * The items of a sequence element that a scan kept, each as a map of all its elements (nested
 * sequences kept whole, for another call). Throws EtlError E_CORRUPT when the items are broken.
 */
export function readItems(sequence: DataElement, littleEndian: boolean): Map<number, DataElement>[] {
  const v = sequence.value
  const buf = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  const explicit = sequence.explicit ?? true
  const items: Map<number, DataElement>[] = []
  const reader = new Scanner(buf, 0, true, littleEndian, explicit, ALL, new Map())
  let pos = 0
  while (pos + 8 <= buf.length) {
    const tag = reader.tagAt(pos)
    const length = reader.u32(pos + 4)
    pos += 8
    if (tag === Tags.SequenceDelimitation) break
    if (tag !== Tags.Item) throw corrupt(`${formatTag(sequence.tag)}: expected an item, found ${formatTag(tag)}`)
    const item = new Map<number, DataElement>()
    const scanner = new Scanner(buf, 0, true, littleEndian, explicit, ALL, item)
    pos = length === UNDEFINED_LENGTH ? scanner.readItem(pos, Infinity) : scanner.readItem(pos, pos + length)
    items.push(item)
  }
  return items
}

/**
 * Walks the items of an undefined-length element from `contents` (PS3.5 section 7.5), reading
 * a window of `chunk` bytes where it needs one: an item or element of defined length is jumped
 * over, one of undefined length walked into (a UN's contents are implicit VR, PS3.5 6.2.2).
 * Returns the offset after its Sequence Delimitation Item, or the damage where a length is
 * more than the file holds (a file that ends inside is E_TRUNCATED). Memory: one window, whatever the
 * size of the sequence (a cine's encapsulated pixel data, a private sequence of 300 MB).
 */
export function* walkSequence(
  owner: number,
  contents: number,
  explicit: boolean,
  little: boolean,
  size: number,
  chunk: number,
  budget: Budget,
): Generator<Step, number | Damage, StepResult> {
  const buf = Buffer.allocUnsafe(Math.max(chunk, 64))
  let bufAt = 0
  let bufLength = 0
  const u16 = (at: number) => (little ? buf.readUInt16LE(at - bufAt) : buf.readUInt16BE(at - bufAt))
  const u32 = (at: number) => (little ? buf.readUInt32LE(at - bufAt) : buf.readUInt32BE(at - bufAt))
  /** Makes the window hold `n` bytes from `at`, reading a new one there if it does not. */
  function* bytes(at: number, n: number): Generator<Step, void, StepResult> {
    if (at >= bufAt && at + n <= bufAt + bufLength) return
    if (at + n > size) truncatedIn(owner, size)
    bufAt = at
    bufLength = (yield { op: 'read', buf, offset: 0, length: Math.min(buf.length, size - at), position: at }) as number
    charge(budget, bufLength, 'header')
    if (bufLength < n) truncatedIn(owner, size)
  }
  /** Open sequences (expecting items) and items (expecting elements), innermost last. */
  const open: { explicit: boolean; item: boolean }[] = [{ explicit, item: false }]
  let pos = contents
  while (open.length > 0) {
    if (open.length > 2 * MAX_DEPTH) throw corrupt(`sequences nested deeper than ${MAX_DEPTH} in ${formatTag(owner)}`)
    yield* bytes(pos, 8)
    const top = open[open.length - 1]
    const tag = u16(pos) * 0x10000 + u16(pos + 2)
    if (!top.item) {
      const length = u32(pos + 4)
      pos += 8
      if (tag === Tags.SequenceDelimitation) open.pop()
      else if (tag !== Tags.Item) {
        throw corrupt(
          `${formatTag(owner)}: expected an item or sequence delimiter, found ${formatTag(tag)} at byte ${pos - 8}`,
        )
      } else if (length === UNDEFINED_LENGTH) open.push({ explicit: top.explicit, item: true })
      else if (length > size) return { tag: owner, at: pos - 8, reason: claimsTooMuch(owner, length, size) }
      else pos += length
      continue
    }
    if (tag === Tags.ItemDelimitation || tag === Tags.SequenceDelimitation) {
      // The end of the item (a sequence delimiter there ends its sequence too, as the scanner reads it).
      pos += 8
      open.pop()
      if (tag === Tags.SequenceDelimitation) open.pop()
      continue
    }
    let length: number
    let start: number
    let code = 0
    if (top.explicit) {
      yield* bytes(pos, 12)
      code = (buf[pos + 4 - bufAt] << 8) | buf[pos + 5 - bufAt]
      const kind = VR_KIND[code]
      if (kind === SHORT) {
        length = u16(pos + 6)
        start = pos + 8
      } else if (kind === LONG) {
        length = u32(pos + 8)
        start = pos + 12
      } else {
        throw corrupt(`element ${formatTag(tag)} at byte ${pos} has no valid VR`)
      }
    } else {
      length = u32(pos + 4)
      start = pos + 8
    }
    if (length === UNDEFINED_LENGTH) {
      open.push({ explicit: code === UN_CODE ? false : top.explicit, item: false })
      pos = start
    } else if (length > size) {
      // A length no file of this size can hold: damage there, as the scanner says of one.
      return { tag: owner, at: pos, reason: claimsTooMuch(tag, length, size) }
    } else {
      pos = start + length
    }
  }
  return pos
}
