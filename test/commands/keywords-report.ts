// What etl keywords prints: the table, the CSV, and the report with its exit code.
import t from 'tap'
import { formatCsv, formatTable, keywordsReport } from '../../src/commands/keywords-report.js'
import { searchKeywords } from '../../src/dicom/search-keywords.js'

t.test('the table: aligned columns, name last, retired marked; CSV with a retired column', async (t) => {
  const rows = searchKeywords('DataSetType').slice(0, 1).concat(searchKeywords('CTDIvol').slice(0, 1))
  t.equal(
    formatTable(rows),
    [
      'keyword      tag          VR  VM  name',
      'DataSetType  (0008,0040)  US  1   Data Set Type (retired)',
      'CTDIvol      (0018,9345)  FD  1   CTDIvol',
      '',
    ].join('\n'),
  )
  t.equal(
    formatCsv(rows),
    [
      'keyword,tag,vr,vm,name,retired',
      'DataSetType,"(0008,0040)",US,1,Data Set Type,true',
      'CTDIvol,"(0018,9345)",FD,1,CTDIvol,false',
      '',
    ].join('\n'),
  )
})

t.test('the report: stdout with matches (exit 0), "no match" on stderr (exit 1)', async (t) => {
  const cases: [string | undefined, 0 | 1, RegExp, RegExp][] = [
    ['ctdi', 0, /^keyword +tag +VR +VM +name\nCTDIvol /, /^$/],
    ['SliceLocaton', 1, /^$/, /^etl: no match for "SliceLocaton" \(did you mean "SliceLocation"\?\)\n$/],
    ['0009,0010', 1, /^$/, /^etl: no match for "0009,0010" \(odd groups are private tags/],
    ['qqqqqqqq', 1, /^$/, /^etl: no match for "qqqqqqqq"\n$/],
  ]
  for (const [text, exitCode, stdout, stderr] of cases) {
    const r = keywordsReport(text)
    t.equal(r.exitCode, exitCode, `${text}: exit code`)
    t.match(r.stdout, stdout, `${text}: stdout`)
    t.match(r.stderr, stderr, `${text}: stderr`)
  }
  t.match(keywordsReport('0018,9345', { csv: true }).stdout, /^keyword,tag,vr,vm,name,retired\nCTDIvol,/)
})
