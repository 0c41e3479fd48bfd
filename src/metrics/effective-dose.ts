/**
 * Effective dose estimated from DLP: E = k x DLP, with k the adult conversion coefficient of the
 * scanned body region from AAPM Report 96 (2008), Table 3, adult column. Those values come from
 * Shrimpton et al. (NRPB-W67, 2005) and use ICRP 60 tissue weights; ICRP 103 weights change them
 * by up to some tens of percent (Deak et al., Radiology 257:158, 2010), which is not applied.
 *
 * This is an estimate for a standard adult, for comparing protocols and tracking trends, never
 * a patient's dose: it ignores size, age, sex and the exact scan range.
 */

/** Body regions with a k-factor. */
export const REGIONS = ['HEAD', 'HEAD_NECK', 'NECK', 'CHEST', 'ABDOMEN_PELVIS', 'TRUNK'] as const
export type Region = (typeof REGIONS)[number]

/** k in mSv per mGy·cm, by region: AAPM Report 96, Table 3, adult. */
export const K_FACTORS: Readonly<Record<Region, number>> = {
  HEAD: 0.0021,
  HEAD_NECK: 0.0031,
  NECK: 0.0059,
  CHEST: 0.014,
  ABDOMEN_PELVIS: 0.015,
  TRUNK: 0.015,
}

/**
 * The region of each BodyPartExamined defined term (PS3.16 Annex L) that falls within one.
 * Terms not listed (limbs, whole body, spine as a whole) have no k-factor here.
 */
const BODY_PART_REGIONS: Readonly<Record<string, Region>> = {
  HEAD: 'HEAD',
  BRAIN: 'HEAD',
  SKULL: 'HEAD',
  CEREBELLUM: 'HEAD',
  CIRCLEOFWILLIS: 'HEAD',
  IAC: 'HEAD',
  EAR: 'HEAD',
  EYE: 'HEAD',
  ORBIT: 'HEAD',
  FACE: 'HEAD',
  SINUS: 'HEAD',
  NOSE: 'HEAD',
  MAXILLA: 'HEAD',
  JAW: 'HEAD',
  TMJ: 'HEAD',
  ZYGOMA: 'HEAD',
  HEADNECK: 'HEAD_NECK',
  NECK: 'NECK',
  CSPINE: 'NECK',
  LARYNX: 'NECK',
  PHARYNX: 'NECK',
  THYROID: 'NECK',
  CAROTID: 'NECK',
  CHEST: 'CHEST',
  THORAX: 'CHEST',
  LUNG: 'CHEST',
  HEART: 'CHEST',
  CORONARYARTERY: 'CHEST',
  MEDIASTINUM: 'CHEST',
  TSPINE: 'CHEST',
  ABDOMEN: 'ABDOMEN_PELVIS',
  PELVIS: 'ABDOMEN_PELVIS',
  ABDOMENPELVIS: 'ABDOMEN_PELVIS',
  LIVER: 'ABDOMEN_PELVIS',
  KIDNEY: 'ABDOMEN_PELVIS',
  PANCREAS: 'ABDOMEN_PELVIS',
  LSPINE: 'ABDOMEN_PELVIS',
  CHESTABDOMEN: 'TRUNK',
  CHESTABDPELVIS: 'TRUNK',
}

/** The region of a BodyPartExamined value (case and spaces ignored), if it has a k-factor. */
export function regionOfBodyPart(bodyPart: string): Region | undefined {
  return BODY_PART_REGIONS[
    bodyPart
      .trim()
      .toUpperCase()
      .replace(/[\s_-]+/g, '')
  ]
}

/** The BodyPartExamined terms of each region, for the documentation. */
export function bodyPartsOf(region: Region): string[] {
  return Object.keys(BODY_PART_REGIONS).filter((part) => BODY_PART_REGIONS[part] === region)
}
