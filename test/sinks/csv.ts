import t from 'tap'
import { Readable } from 'node:stream'
import { formatCsv, spreadsheetCell } from '../../src/sinks/csv.js'

async function csvText(headers: string[], rows: string[][]): Promise<string> {
  let out = ''
  for await (const chunk of Readable.from(rows).compose(formatCsv(headers))) out += String(chunk)
  return out
}

t.test('CSV text: header always, final newline, quoting', async (t) => {
  t.equal(await csvText(['a', 'b'], []), 'a,b\n', 'zero rows still give the header row')
  t.equal(await csvText(['a', 'b'], [['1', '']]), 'a,b\n1,\n', 'empty cells, final newline')
  t.equal(
    await csvText(
      ['name', 'note'],
      [
        ['Doe^Jane', 'said "hi", twice\nthen left'],
        ['山田^太郎', 'ORIGINAL\\PRIMARY'],
      ],
    ),
    'name,note\nDoe^Jane,"said ""hi"", twice\nthen left"\n山田^太郎,ORIGINAL\\PRIMARY\n',
  )
})

t.test('CSV text is byte for byte what fast-csv writes, for awkward and random cells', async (t) => {
  const { writeToString } = await import('fast-csv')
  const awkward = [
    '',
    ' ',
    'a,b',
    '"',
    '""',
    'say "hi"',
    'line\nbreak',
    'cr\rlf\r\n',
    'nul\0here',
    '\0',
    '山田^太郎',
    '=1+2',
    ' lead',
    'trail ',
    '\\',
  ]
  const alphabet = ['a', ',', '"', '\n', '\r', '\0', ' ', '\\', 'é', '山', '\t', ';']
  let seed = 7
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const rows: string[][] = awkward.map((cell, i) => [cell, awkward[(i + 3) % awkward.length], String(i)])
  for (let i = 0; i < 500; i++) {
    const cell = () =>
      Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
    rows.push([cell(), cell(), cell()])
  }
  rows.push(['山'.repeat(700), 'x'.repeat(1000), 'a "long" one, longer than a chunk'])
  const headers = ['one', 'two, with comma', 'three']
  const theirs = await writeToString(rows, { headers, alwaysWriteHeaders: true, includeEndRowDelimiter: true })
  const ours = await csvText(headers, rows)
  t.equal(ours, theirs)
  // Small chunks: the text does not depend on where chunks end.
  const small = formatCsv(headers, { chunkSize: 100 })
  const chunks: string[] = []
  small.on('data', (chunk) => chunks.push(String(chunk)))
  const ended = new Promise((resolve) => small.on('end', resolve))
  for (const row of rows) small.write(row)
  small.end()
  await ended
  const chunked = chunks.join('')
  t.equal(chunked, theirs)
  t.ok(chunks.length > 10, `written in ${chunks.length} chunks`)
})

t.test('issue 10: spreadsheet cells (format.spreadsheet)', async (t) => {
  const cases: [string, string][] = [
    ['=HYPERLINK("http://evil";"click")', `"'=HYPERLINK(""http://evil"";""click"")"`],
    ['=HYPERLINK(1).dcm', "'=HYPERLINK(1).dcm"],
    ['+1+2', "'+1+2"],
    ['-1+2', "'-1+2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
    ['00123', "'00123"],
    ['0042', "'0042"],
    ['+3', "'+3"],
    ['.5', "'.5"],
    ['12345678901234567890', "'12345678901234567890"],
    ['-12345678901234567890', "'-12345678901234567890"],
    ['-1\\2', "'-1\\2"],
    ['-288', '-288'],
    ['-1.5e3', '-1.5e3'],
    ['-1500', '-1500'],
    ['0', '0'],
    ['0.1', '0.1'],
    ['1e+21', '1e+21'],
    ['-2.75e-7', '-2.75e-7'],
    ['9007199254740993', "'9007199254740993"],
    ['20240312', '20240312'],
    ['1.2.840.10008.1.2', '1.2.840.10008.1.2'],
    ['Doe^Jane', 'Doe^Jane'],
    // A space first hides nothing from an import that trims spaces (LibreOffice's "Trim spaces").
    [' =1', "' =1"],
    [' =HYPERLINK("x")', `"' =HYPERLINK(""x"")"`],
    ['\u00a0=1', "'\u00a0=1"],
    [' 00123', "' 00123"],
    ['00123 ', "'00123 "],
    ['', ''],
    ['a,=b', '"a,=b"'],
  ]
  for (const [value, expected] of cases) t.equal(spreadsheetCell(value), expected, JSON.stringify(value))

  let out = ''
  const rows = [['=1+2', '00123', '-288']]
  for await (const chunk of Readable.from(rows).compose(
    formatCsv(['=cmd', 'PatientID', '-x'], { spreadsheet: true }),
  )) {
    out += String(chunk)
  }
  t.equal(out, "\uFEFF'=cmd,PatientID,'-x\n'=1+2,'00123,-288\n", 'a BOM first, then the header made safe too')
  let empty = ''
  for await (const chunk of Readable.from([]).compose(formatCsv(['a'], { spreadsheet: true }))) empty += String(chunk)
  t.equal(Buffer.from(empty).subarray(0, 3).toString('hex'), 'efbbbf', 'the BOM with no rows too, as UTF-8')
  t.equal(await csvText(['=a'], [['00123']]), '=a\n00123\n', 'without the option: as stored')
})
