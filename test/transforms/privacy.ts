import t from 'tap'
import { ageBand, Pseudonymiser, shiftDate, yearOnly } from '../../src/transforms/privacy.js'
import { DicomDate } from '../../src/values.js'

const KEY = Buffer.alloc(32, 7)

t.test('age bands at their edges; 89 and over as one band', async (t) => {
  const cases: [string | number, string | null][] = [
    ['000Y', '0-4'],
    ['004Y', '0-4'],
    ['005Y', '5-9'],
    ['011M', '0-4'],
    ['060M', '5-9'],
    ['052W', '0-4'],
    ['364D', '0-4'],
    ['084Y', '80-84'],
    ['085Y', '85-88'],
    ['088Y', '85-88'],
    ['089Y', '89+'],
    ['104Y', '89+'],
    [47, '45-49'],
    ['45', '45-49'],
    ['abc', null],
    ['', null],
  ]
  for (const [value, band] of cases) t.equal(ageBand(value), band, String(value))
})

t.test('date shifts move DA and DT by whole days; TM stays; what does not parse is removed', async (t) => {
  const cases: [DicomDate, number, string | null][] = [
    [new DicomDate('DA', '20240312'), -20, '20240221'],
    [new DicomDate('DA', '20240228'), 2, '20240301'],
    [new DicomDate('DA', '2024.03.12'), 1, '20240313'],
    [new DicomDate('DT', '20241231235959.5+0100'), 1, '20250101235959.5+0100'],
    [new DicomDate('DT', '202412'), 40, '202501'],
    [new DicomDate('DA', '20240230'), 1, null],
    [new DicomDate('DA', 'March'), 1, null],
  ]
  for (const [date, days, expected] of cases) {
    const shifted = shiftDate(date, days)
    t.equal(shifted === null ? null : (shifted as DicomDate).stored, expected, `${date.stored} ${days}`)
  }
  const time = new DicomDate('TM', '092815.672')
  t.equal(shiftDate(time, 5), time)
  t.equal(shiftDate('20240312', 5), null, 'text that is not a date value: removed')
  t.equal(yearOnly(new DicomDate('DA', '20240312')), '2024')
  t.equal(yearOnly(new DicomDate('TM', '0928')), null)
})

t.test('keyed values: stable, per attribute, per key; UIDs 2.25; shifts in the window, never 0', async (t) => {
  const a = new Pseudonymiser(KEY)
  const b = new Pseudonymiser(Buffer.alloc(32, 8))
  t.equal(a.token('PatientID', 'PAT001'), new Pseudonymiser(Buffer.alloc(32, 7)).token('PatientID', 'PAT001'))
  t.match(a.token('PatientID', 'PAT001'), /^PID-[A-Z2-7]{16}$/)
  t.match(a.token('AccessionNumber', 'PAT001'), /^AN-/)
  t.not(a.token('PatientID', 'PAT001').slice(4), a.token('OtherPatientIDs', 'PAT001').slice(5), 'domains apart')
  t.not(a.token('PatientID', 'PAT001'), b.token('PatientID', 'PAT001'))
  const uid = a.uid('1.2.3.4')
  t.match(uid, /^2\.25\.[1-9]\d*$/)
  t.ok(uid.length <= 64)
  t.ok(BigInt(uid.slice(5)) < 2n ** 128n)
  const shifts = new Set<number>()
  for (let i = 0; i < 2000; i++) shifts.add(a.shiftDays(`p${i}`, 3))
  t.same([...shifts].sort(), [-1, -2, -3, 1, 2, 3].sort(), 'every day of the window but 0')
  t.equal(a.path('/data/PAT001/IM1').split('/').length, 4)
  t.match(a.path('/data/PAT001/../x'), /^\/[A-Z2-7]{13}\/[A-Z2-7]{13}\/\.\.\/[A-Z2-7]{13}$/)
  t.equal(a.path('a/PAT001/x').split('/')[1], a.path('/b/PAT001').split('/')[2], 'a name is keyed alone')
  t.match(
    a.path('https://pacs/dicom-web/studies/1.2.3/series/1.2.5'),
    /^https:\/\/[A-Z2-7]{13}\/[A-Z2-7]{13}\/studies\/2\.25\.\d+\/series\/2\.25\.\d+$/,
  )
  t.equal(a.path('https://pacs/studies/1.2.3').split('/')[4], a.uid('1.2.3'), 'a UID in a URL maps as in UID columns')
  t.equal(
    a.path('https://pacs/studies/1/series/x9/instances/1.2.9'),
    `https://${a.component('pacs')}/studies/${a.uid('1')}/series/${a.uid('x9')}/instances/${a.uid('1.2.9')}`,
    'what follows studies/, series/ or instances/ is a UID, even a malformed one',
  )
})
