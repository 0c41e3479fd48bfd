/**
 * Value representations as the scanner meets them: which two bytes are a VR and how long its
 * length field is in explicit VR (PS3.5 section 7.1.2), and the VR of an element in implicit VR,
 * from the dictionary (PS3.5 annex A).
 */
import { lookupTag } from './keywords.js'

/** The length of a sequence or item that ends at its delimitation item (PS3.5 section 7.5). */
export const UNDEFINED_LENGTH = 0xffffffff

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 table 7.1-1). */
const LONG_VRS = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']
/** VRs with a 2-byte length in explicit VR (PS3.5 table 7.1-2). */
const SHORT_VRS = [
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'SL',
  'SS',
].concat(['ST', 'TM', 'UI', 'UL', 'US'])
/** A VR kind of {@link VR_KIND}: a 2-byte length field. */
export const SHORT = 1
/** A VR kind of {@link VR_KIND}: a reserved field and a 4-byte length field. */
export const LONG = 2
/** VR kind by its two bytes (`byte0 << 8 | byte1`): 0 not a VR, SHORT or LONG length field. */
export const VR_KIND = new Uint8Array(65536)
for (const vr of SHORT_VRS) VR_KIND[vrCode(vr)] = SHORT
for (const vr of LONG_VRS) VR_KIND[vrCode(vr)] = LONG
/** The two bytes of UN: its contents of undefined length are implicit VR (PS3.5 6.2.2). */
export const UN_CODE = vrCode('UN')
/** VR names by their two bytes, made once: a kept element's VR is a shared string, not a new one. */
export const VR_NAME: string[] = []
for (const vr of [...SHORT_VRS, ...LONG_VRS]) VR_NAME[vrCode(vr)] = vr

/** The two bytes of UL (group lengths). */
export const UL_CODE = vrCode('UL')

function vrCode(vr: string): number {
  return (vr.charCodeAt(0) << 8) | vr.charCodeAt(1)
}

/**
 * VR of an element in an implicit VR data set: from the dictionary, with its ambiguous entries
 * resolved as PS3.5 annex A and pydicom do: "US or SS" by Pixel Representation (1: signed),
 * "OB or OW" as OW, "US or OW" as OW, and `up` (an offset) as UL; group lengths are UL; else UN.
 */
export function implicitVR(tag: number, pixelRepresentation: number): string {
  if ((tag & 0xffff) === 0) return 'UL'
  const vr = lookupTag(tag)?.vr
  if (!vr) return 'UN'
  switch (vr) {
    case 'xs':
      return pixelRepresentation === 1 ? 'SS' : 'US'
    case 'ox':
    case 'lt':
      return 'OW'
    case 'up':
      return 'UL'
  }
  return vr.length === 2 && vr === vr.toUpperCase() ? vr : 'UN'
}
