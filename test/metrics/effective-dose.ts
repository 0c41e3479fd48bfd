// The k-factors of AAPM Report 96 (Table 3, adult) and how BodyPartExamined maps to them.
import t from 'tap'
import { K_FACTORS, REGIONS, bodyPartsOf, regionOfBodyPart } from '../../src/metrics/effective-dose.js'

t.test('the adult k-factors, in mSv per mGy·cm', async (t) => {
  t.strictSame(K_FACTORS, {
    HEAD: 0.0021,
    HEAD_NECK: 0.0031,
    NECK: 0.0059,
    CHEST: 0.014,
    ABDOMEN_PELVIS: 0.015,
    TRUNK: 0.015,
  })
})

t.test('BodyPartExamined to region', async (t) => {
  const cases: [string, string | undefined][] = [
    ['HEAD', 'HEAD'],
    ['BRAIN', 'HEAD'],
    ['HEADNECK', 'HEAD_NECK'],
    ['CSPINE', 'NECK'],
    ['CHEST', 'CHEST'],
    ['Thorax', 'CHEST'],
    ['ABDOMEN', 'ABDOMEN_PELVIS'],
    ['abdomen pelvis', 'ABDOMEN_PELVIS'],
    ['CHESTABDPELVIS', 'TRUNK'],
    ['FOOT', undefined],
    ['WHOLEBODY', undefined],
    ['', undefined],
  ]
  for (const [part, region] of cases) t.equal(regionOfBodyPart(part), region, JSON.stringify(part))
  for (const region of REGIONS) t.ok(bodyPartsOf(region).length > 0, `${region} has body parts`)
})
