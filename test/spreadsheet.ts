// Issue 10, "trust under attack": CSV that is safe to open in a spreadsheet. A real
// LibreOffice Calc (`soffice --headless`) imports the CSV that `etl extract --spreadsheet`
// writes, with formula evaluation on (as when a user opens the file and as Excel always does),
// and converts it to flat ODF (.fods), whose XML says for every cell whether it is a formula
// (`table:formula`), a number (`office:value-type="float"`) or text. The same CSV without the
// option is imported too: it shows that this LibreOffice does run such cells.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { dataSet, EXPLICIT_LE, part10, TS } from './fixtures/dicom-builder.js'
import { runCli } from './fixtures/cli.js'

/** LibreOffice's CSV import options: comma, double quote, UTF-8, from line 1, ..., evaluate formulas. */
const CSV_IMPORT = 'CSV:44,34,76,1,,1033,false,false,false,false,false,-1,true'

function sofficeSkip(): string | false {
  const probe = spawnSync('soffice', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) return 'no soffice here (apt-get install libreoffice-calc)'
  return false
}

interface Cell {
  formula?: string
  type?: string
  text: string
}

/** The cells of the first sheet of a .fods file, row by row (trailing empty cells left out). */
function fodsCells(xml: string): Cell[][] {
  const table = xml.slice(xml.indexOf('<table:table '), xml.indexOf('</table:table>'))
  const unescape = (s: string) =>
    s
      .replace(/&apos;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
  const rows: Cell[][] = []
  for (const row of table.match(/<table:table-row[\s\S]*?<\/table:table-row>/g) ?? []) {
    const cells: Cell[] = []
    for (const cell of row.match(/<table:table-cell(?:[^>]*\/>|[^>]*>[\s\S]*?<\/table:table-cell>)/g) ?? []) {
      const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(cell)?.[1]
      const text = [...cell.matchAll(/<text:p>([\s\S]*?)<\/text:p>/g)]
        .map((m) => m[1].replace(/<[^>]+>/g, ''))
        .join('\n')
      const formula = attr('table:formula')
      cells.push({
        type: attr('office:value-type'),
        text: unescape(text),
        ...(formula && { formula: unescape(formula) }),
      })
    }
    while (cells.length > 0 && cells.at(-1)?.type === undefined && cells.at(-1)?.text === '') cells.pop()
    rows.push(cells)
  }
  return rows.filter((cells) => cells.length > 0)
}

/** Converts a CSV file to .fods with LibreOffice; resolves with the cells. */
function libreOffice(csv: string, dir: string): Promise<Cell[][]> {
  return new Promise((resolve, reject) => {
    const out = join(dir, 'out')
    // A profile of its own: other soffice processes on the machine must not be reused.
    const profile = pathToFileURL(join(dir, 'profile')).href
    const args = [`-env:UserInstallation=${profile}`, '--headless', '--infilter=' + CSV_IMPORT]
    const child = spawn('soffice', [...args, '--convert-to', 'fods', '--outdir', out, csv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdout.resume()
    child.on('error', reject)
    child.on('close', (code) => {
      const name = csv.replace(/^.*\//, '').replace(/\.csv$/, '.fods')
      try {
        resolve(fodsCells(readFileSync(join(out, name), 'utf8')))
      } catch (err) {
        reject(new Error(`soffice exited ${code}: ${stderr}; ${(err as Error).message}`))
      }
    })
  })
}

t.test(
  'issue 10: --spreadsheet CSV in LibreOffice: no formulas, IDs as text, numbers as numbers',
  { skip: sofficeSkip() },
  async (t) => {
    const dir = t.testdir({})
    const file = '=HYPERLINK(1).dcm'
    writeFileSync(
      join(dir, file),
      part10(
        dataSet(
          [
            { tag: 0x00081030, vr: 'LO', value: '-1.5e3' }, // StudyDescription: a number in a text VR
            { tag: 0x0008103e, vr: 'LO', value: '@SUM(1;2)' }, // SeriesDescription
            { tag: 0x00100010, vr: 'PN', value: '=HYPERLINK("http://example.invalid";"open me")' },
            { tag: 0x00100020, vr: 'LO', value: '00123' }, // PatientID
            { tag: 0x00201041, vr: 'DS', value: '-288' }, // SliceLocation
            { tag: 0x00204000, vr: 'LT', value: '-1+2' }, // ImageComments
          ],
          EXPLICIT_LE,
        ),
        TS.explicitLE,
      ),
    )
    const keywords = ['path', 'PatientName', 'PatientID', 'SliceLocation', 'StudyDescription', 'SeriesDescription']
    keywords.push('ImageComments')
    const args = ['extract', file, ...keywords.flatMap((k) => ['-k', k]), '-q', '--threads', '0']
    const plain = await runCli([...args, '-o', 'plain.csv'], { cwd: dir })
    t.equal(plain.code, 0, plain.stderr)
    const safe = await runCli([...args, '--spreadsheet', '-o', 'safe.csv'], { cwd: dir })
    t.equal(safe.code, 0, safe.stderr)
    t.equal(readFileSync(join(dir, 'safe.csv')).subarray(0, 3).toString('hex'), 'efbbbf', 'a UTF-8 BOM first')

    // Without the option this LibreOffice runs the name as a formula: the attack is real here.
    const [, before] = await libreOffice(join(dir, 'plain.csv'), dir)
    t.match(before[1], { formula: /HYPERLINK/ }, 'plain CSV: PatientName is a formula')
    t.match(before[2], { type: 'float', text: '123' }, 'plain CSV: PatientID 00123 becomes 123')

    const rows = await libreOffice(join(dir, 'safe.csv'), dir)
    t.equal(rows.length, 2, 'the header and one row')
    t.same(
      rows[0].map((c) => c.text),
      keywords,
      'the header read as written (the BOM is not in the first name)',
    )
    t.same(
      rows.flat().filter((c) => c.formula),
      [],
      'no formula in any cell',
    )
    const [path, name, id, slice, study, series, comments] = rows[1]
    t.match(path, { type: 'string', text: "'=HYPERLINK(1).dcm" }, 'the file name is text')
    t.match(name, { type: 'string', text: `'=HYPERLINK("http://example.invalid";"open me")` }, 'PatientName is text')
    t.match(id, { type: 'string', text: "'00123" }, 'PatientID keeps its zeros, as text (the mark shows)')
    t.match(slice, { type: 'float', text: '-288' }, 'a negative number stays a number')
    t.match(study, { type: 'float', text: '-1500' }, '-1.5e3 stays a number')
    t.match(series, { type: 'string', text: "'@SUM(1;2)" }, '@ is text')
    t.match(comments, { type: 'string', text: "'-1+2" }, '-1+2 is text')
  },
)

t.test('issue 10: format.spreadsheet in YAML, --spreadsheet on run, and the errors CSV', async (t) => {
  const dir = t.testdir({
    'p.yaml': 'source: {paths: [a.dcm]}\nextract: [{keyword: PatientID, as: "=id"}]\nformat: {spreadsheet: true}\n',
    'q.yaml': 'source: {paths: [a.dcm]}\nextract: [PatientID]\n',
    '=bad.dcm': 'not DICOM',
  })
  const body = dataSet([{ tag: 0x00100020, vr: 'LO', value: '00123' }], EXPLICIT_LE)
  writeFileSync(join(dir, 'a.dcm'), part10(body, TS.explicitLE))
  const yaml = await runCli(['run', 'p.yaml', '-q', '--threads', '0'], { cwd: dir })
  t.equal(yaml.stdout, "\uFEFF'=id\n'00123\n", 'format.spreadsheet: BOM, header and ID marked')
  const flag = await runCli(['run', 'q.yaml', '-q', '--threads', '0', '--spreadsheet'], { cwd: dir })
  t.equal(flag.stdout, "\uFEFFPatientID\n'00123\n", '--spreadsheet on run')
  const plain = await runCli(['run', 'q.yaml', '-q', '--threads', '0'], { cwd: dir })
  t.equal(plain.stdout, 'PatientID\n00123\n', 'without: as stored')
  const args = ['extract', 'a.dcm', '=bad.dcm', '-k', 'PatientID', '-q', '--threads', '0', '--errors', 'e.csv']
  const extract = await runCli([...args, '--spreadsheet'], { cwd: dir })
  t.equal(extract.code, 0, extract.stderr)
  t.match(
    readFileSync(join(dir, 'e.csv'), 'utf8'),
    /^\uFEFFpath,outcome,code,reason\n'=bad\.dcm,ignored,/,
    'errors CSV too',
  )
})
