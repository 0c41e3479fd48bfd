/**
 * A data element as a read keeps it: its tag, its VR and a view of its value bytes, and the
 * value's bytes as text for the ASCII VRs.
 */
/** One data element as stored: its VR and its value bytes (a view into the read buffer). */
export interface DataElement {
  tag: number
  vr: string
  value: Uint8Array
  /** For a sequence: whether its items are explicit VR (a UN sequence's are implicit, PS3.5 6.2.2). */
  explicit?: boolean
}

/** The bytes of a value as latin1 text (ASCII VRs: UI, CS, DA...). */
export function latin1(value: Uint8Array): string {
  if (Buffer.isBuffer(value)) return value.toString('latin1')
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')
}
