/**
 * Pipeline YAML -> PipelineSpec, or every problem at its line:col. Inputs are written line by
 * line (`yaml(...)`) so that the expected line numbers can be counted.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { UNIT_NAMES } from '../../src/dicom/units.js'
import { ExitCode } from '../../src/errors.js'
import { formatProblem, loadPipeline, parsePipeline } from '../../src/pipeline/load.js'
import { type ColumnSpec, type PipelineSpec } from '../../src/pipeline/spec.js'

const fixtures = fileURLToPath(new URL('../fixtures/pipelines', import.meta.url))
const base = '/srv/pipelines'

const yaml = (...lines: string[]) => lines.join('\n') + '\n'

/** The problems of a text, as `line:col message`. */
const problems = (text: string) => parsePipeline(text, base).problems.map((p) => `${p.line}:${p.col} ${p.message}`)

/** A valid source, to write one problem at a time after it. */
const source = 'source: {paths: x}'

const element = (name: string, tag: number, keyword?: string): ColumnSpec => ({
  name,
  source: { kind: 'element', tag, keyword },
})

t.test('a full pipeline gives the resolved spec', async (t) => {
  const expected: PipelineSpec = {
    source: {
      paths: [join(fixtures, '../samples'), join(fixtures, 'ct/**/*.dcm')],
      ignore: ['**/*.txt'],
      concurrency: 8,
      threads: undefined,
      followSymlinks: true,
      hidden: true,
      allowEmpty: false,
    },
    columns: [
      element('SeriesInstanceUID', 0x0020000e, 'SeriesInstanceUID'),
      element('CTDIvol_mGy', 0x00189345, 'CTDIvol'),
      element('ExposureTime_ms', 0x00181150, 'ExposureTime'),
      element('SliceLocation', 0x00201041, 'SliceLocation'),
      { name: 'path', source: { kind: 'pseudo', name: 'path' } },
    ],
    sort: [
      { column: 'SeriesInstanceUID', descending: false },
      { column: 'SliceLocation', descending: true },
    ],
    sortMemoryMb: 64,
    output: { path: join(fixtures, 'out/dose.csv'), errors: join(fixtures, 'out/dose-errors.csv') },
  }
  const file = join(fixtures, 'dose.yaml')
  t.strictSame(await loadPipeline(file), { spec: expected, problems: [] }, 'loadPipeline resolves against the file')
  const text = await readFile(file, 'utf8')
  t.strictSame(parsePipeline(text, fixtures), { spec: expected, problems: [] }, 'parsePipeline against baseDir')
})

t.test('short forms and defaults', async (t) => {
  const result = parsePipeline(
    yaml('source:', '  paths: ../samples', 'extract: [CTDIvol]', 'sort: {by: [CTDIvol]}'),
    base,
  )
  t.strictSame(result, {
    spec: {
      source: {
        paths: ['/srv/samples'],
        ignore: [],
        concurrency: undefined,
        threads: undefined,
        followSymlinks: false,
        hidden: false,
        allowEmpty: false,
      },
      columns: [element('CTDIvol', 0x00189345, 'CTDIvol')],
      sort: [{ column: 'CTDIvol', descending: false }],
      sortMemoryMb: 64,
      output: { path: '-' },
    },
    problems: [],
  })

  const columns: [string, ColumnSpec][] = [
    ['SeriesInstanceUID', element('SeriesInstanceUID', 0x0020000e, 'SeriesInstanceUID')],
    ["'0018,1150'", element('ExposureTime', 0x00181150, 'ExposureTime')],
    ["'(0018,1150)'", element('ExposureTime', 0x00181150, 'ExposureTime')],
    ["'0019,1023'", element('0019,1023', 0x00191023)],
    ["{tag: '0019,1023', as: Private}", element('Private', 0x00191023)],
    ['{keyword: CTDIvol, as: CTDIvol_mGy}', element('CTDIvol_mGy', 0x00189345, 'CTDIvol')],
    ['size_bytes', { name: 'size_bytes', source: { kind: 'pseudo', name: 'size_bytes' } }],
    ['{keyword: mtime, as: modified}', { name: 'modified', source: { kind: 'pseudo', name: 'mtime' } }],
  ]
  for (const [entry, column] of columns) {
    t.strictSame(parsePipeline(yaml(source, `extract: [${entry}]`), base).spec?.columns, [column], entry)
  }

  const outputs: [string, PipelineSpec['output']][] = [
    ["output: {path: '-'}", { path: '-' }],
    ['output: {path: /data/out.csv}', { path: '/data/out.csv' }],
    ['output: {errors: ../logs/errors.csv}', { path: '-', errors: '/srv/logs/errors.csv' }],
  ]
  for (const [line, output] of outputs) {
    t.strictSame(parsePipeline(yaml(source, 'extract: [Rows]', line), base).spec?.output, output, line)
  }

  const anchors = yaml(source, 'extract: [&key Rows, Columns]', 'sort: {by: [*key, {column: Columns, order: desc}]}')
  t.strictSame(
    parsePipeline(anchors, base).spec?.sort,
    [
      { column: 'Rows', descending: false },
      { column: 'Columns', descending: true },
    ],
    anchors,
  )
})

t.test('each problem at its line:col', async (t) => {
  const cases: [string, string[]][] = [
    // keys
    [yaml('souce: {paths: x}', 'extract: [Rows]'), ['1:1 unknown key "souce" (did you mean "source"?)']],
    [
      yaml(source, 'columns: [Rows]', 'extract: [Rows]'),
      [
        '2:1 unknown key "columns" (expected one of: source, extract, rows, where, sort, distinct, group_by, aggregate, dose, exam_dose, dose_audit, rdsr_ct, rdsr_xray, privacy, state, format, output)',
      ],
    ],
    [
      yaml('source:', '  paths: x', '  followSymlinks: true', 'extract: [Rows]'),
      ['3:3 unknown key "followSymlinks" in source (did you mean "follow_symlinks"?)'],
    ],
    [
      yaml(source, 'extract:', '  - keywrd: Rows'),
      ['3:5 unknown key "keywrd" in extract[0] (did you mean "keyword"?)'],
    ],
    [yaml('extract: [Rows]'), ['1:1 missing required key "source"']],
    [yaml(source), ['1:1 missing required key "extract"']],
    [yaml('extract: [Rows]', 'source:', '  hidden: true'), ['3:3 missing required key "paths" in source']],
    [yaml(source, 'extract: [Rows]', 'sort: {}'), ['3:7 missing required key "by" in sort']],
    [
      yaml(source, 'extract: [Rows]', 'sort:', '  by:', '    - order: desc'),
      ['5:7 missing required key "column" in sort.by[0]'],
    ],
    [yaml(source, 'extract:', '  - as: X'), ['3:5 missing required key "keyword", "tag" or "sr" in extract[0]']],
    [
      yaml(source, 'extract:', "  - {keyword: CTDIvol, tag: '0018,9345'}"),
      ['3:24 extract[0] has both "keyword" and "tag": keep one'],
    ],
    [yaml(source, 'source: {paths: y}', 'extract: [Rows]'), ['2:1 map keys must be unique']],
    // types and ranges
    [
      yaml('source:', '  paths: x', "  concurrency: '16'", 'extract: [Rows]'),
      ['3:16 source.concurrency must be an integer from 1 to 1024, got "16"'],
    ],
    [
      yaml('source:', '  paths: x', '  concurrency: 0', 'extract: [Rows]'),
      ['3:16 source.concurrency must be an integer from 1 to 1024, got 0'],
    ],
    [
      yaml('source:', '  paths: x', '  concurrency: 1025', 'extract: [Rows]'),
      ['3:16 source.concurrency must be an integer from 1 to 1024, got 1025'],
    ],
    [
      yaml('source:', '  paths: x', '  concurrency: 2.5', 'extract: [Rows]'),
      ['3:16 source.concurrency must be an integer from 1 to 1024, got 2.5'],
    ],
    [
      yaml('source:', '  paths: x', '  concurrency:', 'extract: [Rows]'),
      ['3:15 source.concurrency must be an integer from 1 to 1024, got an empty value'],
    ],
    [
      yaml('source:', '  paths: x', '  hidden: yes', 'extract: [Rows]'),
      ['3:11 source.hidden must be true or false, got "yes"'],
    ],
    [
      yaml('source:', '  paths: x', "  ignore: '*.txt'", 'extract: [Rows]'),
      ['3:11 source.ignore must be a list of glob patterns, got "*.txt"'],
    ],
    [
      yaml('source:', '  paths: 3', 'extract: [Rows]'),
      ['2:10 source.paths must be a path or a list of paths, got 3 (quote it to make it text)'],
    ],
    [
      yaml('source:', '  paths: {a: b}', 'extract: [Rows]'),
      ['2:10 source.paths must be a path or a list of paths, got a mapping'],
    ],
    [yaml(source, 'extract: Rows'), ['2:10 extract must be a list of columns, got "Rows"']],
    [
      yaml(source, 'extract:', '  - [Rows]'),
      ['3:5 extract[0] must be a keyword, a tag, a pseudo-column or a mapping, got a list'],
    ],
    [
      yaml(source, 'extract:', '  - tag: 00189345'),
      ['3:10 extract[0].tag must be a string, got 00189345 (quote it to make it text)'],
    ],
    [
      yaml(source, 'extract:', '  - {keyword: Rows, as: 12}'),
      ['3:25 extract[0].as must be a string, got 12 (quote it to make it text)'],
    ],
    [
      yaml(source, 'extract: [Rows]', 'sort:', '  by:', '    - column: Rows', '      order: down'),
      ['6:14 sort.by[0].order must be "asc" or "desc", got "down"'],
    ],
    [yaml(source, 'extract: [Rows]', 'output: out.csv'), ['3:9 output must be a mapping, got "out.csv"']],
    [yaml(source, 'extract: [Rows]', 'output:'), ['3:8 output must be a mapping, got an empty value']],
    [yaml('source: ../samples', 'extract: [Rows]'), ['1:9 source must be a mapping, got "../samples"']],
    [yaml(source, 'extract: [Rows]', 'sort: [Rows]'), ['3:7 sort must be a mapping, got a list']],
    // empty values
    [yaml('source: {paths: []}', 'extract: [Rows]'), ['1:17 source.paths must not be empty']],
    [yaml("source: {paths: ''}", 'extract: [Rows]'), ['1:17 source.paths must not be empty']],
    [yaml(source, 'extract: []'), ['2:10 extract must not be empty']],
    [yaml(source, 'extract: [Rows]', 'sort: {by: []}'), ['3:12 sort.by must not be empty']],
    [yaml(source, "extract: [{keyword: Rows, as: ''}]"), ['2:31 extract[0].as must not be empty']],
    // columns
    [yaml(source, 'extract:', '  - CTDIVol'), ['3:5 unknown keyword "CTDIVol" (did you mean "CTDIvol"?)']],
    [
      yaml(source, 'extract:', '  - keyword: SliceLocaton'),
      ['3:14 unknown keyword "SliceLocaton" (did you mean "SliceLocation"?)'],
    ],
    [yaml(source, 'extract:', '  - Zzzzzz'), ['3:5 unknown keyword "Zzzzzz"']],
    [yaml(source, 'extract:', "  - 'FFFE,E000'"), ['3:5 (FFFE,E000) is an item delimiter, not an attribute']],
    [
      yaml(source, 'extract:', '  - tag: CTDIvol'),
      ['3:10 extract[0].tag must be a tag like \'0018,9345\', got "CTDIvol"'],
    ],
    [
      yaml(source, 'extract:', "  - keyword: '0018,9345'"),
      ['3:14 extract[0].keyword must be a keyword, got the tag "0018,9345" (use tag: instead)'],
    ],
    [yaml(source, 'extract:', '  - Rows', '  - Rows'), ['4:5 duplicate column "Rows" (rename one with "as")']],
    [
      yaml(source, 'extract:', '  - Rows', '  - keyword: Columns', '    as: Rows'),
      ['5:9 duplicate column "Rows" (rename one with "as")'],
    ],
    [yaml(source, 'extract:', "  - '0028,0010'", '  - Rows'), ['4:5 duplicate column "Rows" (rename one with "as")']],
    // sort columns
    [
      yaml(source, 'extract: [SliceLocation]', 'sort:', '  by: [SliceLocaton]'),
      ['4:8 sort column "SliceLocaton" is not an extracted column (did you mean "SliceLocation"?)'],
    ],
    [
      yaml(source, 'extract: [{keyword: CTDIvol, as: CTDIvol_mGy}]', 'sort:', '  by: [{column: CTDIvol}]'),
      ['4:17 sort column "CTDIvol" is not an extracted column (did you mean "CTDIvol_mGy"?)'],
    ],
    [
      yaml(source, 'extract: [Rows]', 'sort:', '  by: [InstanceNumber]'),
      ['4:8 sort column "InstanceNumber" is not an extracted column'],
    ],
    [
      yaml(source, 'extract: [CTDIVol]', 'sort:', '  by: [CTDIVol]'),
      ['2:11 unknown keyword "CTDIVol" (did you mean "CTDIvol"?)'],
    ],
    // output
    [
      yaml(source, 'extract: [Rows]', 'output:', "  errors: '-'"),
      ['4:11 output.errors must be a file, not "-": stdout is for the CSV'],
    ],
    [
      yaml(source, 'extract: [Rows]', 'output:', '  path: out/a.csv', '  errors: ./out/../out/a.csv'),
      ['5:11 output.errors must not be the same file as output.path'],
    ],
    // anchors
    [yaml(source, 'extract: &all [*all]'), ['2:16 extract[0]: alias *all is inside its anchor']],
    [yaml(source, 'extract: [*nope]'), ['2:11 extract[0]: no anchor &nope before this alias']],
  ]
  for (const [text, expected] of cases) {
    const result = parsePipeline(text, base)
    t.strictSame(problems(text), expected, text)
    t.equal(result.spec, undefined, `no spec: ${text}`)
  }
})

t.test('several problems in one file are all reported, in file order', async (t) => {
  const file = join(fixtures, 'many-problems.yaml')
  const result = await loadPipeline(file)
  t.strictSame(
    result.problems.map((p) => formatProblem('many-problems.yaml', p)),
    [
      'many-problems.yaml:4:3 unknown key "concurency" in source (did you mean "concurrency"?)',
      'many-problems.yaml:5:11 source.hidden must be true or false, got "yes"',
      'many-problems.yaml:8:5 unknown keyword "CTDIVol" (did you mean "CTDIvol"?)',
      'many-problems.yaml:10:9 duplicate column "SeriesInstanceUID" (rename one with "as")',
      'many-problems.yaml:11:10 extract[3].tag must be a tag like \'0018,9345\', got "CTDIvol"',
      'many-problems.yaml:15:7 sort column "SliceLocaton" is not an extracted column',
      'many-problems.yaml:17:14 sort.by[1].order must be "asc" or "desc", got "descending"',
      'many-problems.yaml:20:11 output.errors must not be the same file as output.path',
    ],
  )
})

t.test('YAML syntax errors are problems at their line:col, never a throw', async (t) => {
  const cases: [string, string[]][] = [
    [
      yaml('source:', '  paths: [x]', ' ignore: []', 'extract: [Rows]'),
      ['3:1 all mapping items must start at the same column'],
    ],
    [
      yaml('source:', '  paths: x', '   ignore: []', 'extract: [Rows]'),
      ['2:10 nested mappings are not allowed in compact mappings', '2:10 implicit keys need to be on a single line'],
    ],
    [yaml('source:', '  paths: "x', 'extract: [Rows]'), ['4:1 missing closing "quote']],
    [yaml('source:', "  paths: 'x", 'extract: [Rows]'), ["4:1 missing closing 'quote"]],
    [yaml('source:', '\tpaths: x', 'extract: [Rows]'), ['2:1 tabs are not allowed as indentation']],
    [
      yaml('source: {paths: x}', 'extract: [Rows', 'sort: {by: [Rows]}'),
      ['3:1 flow sequence in block collection must be sufficiently indented and end with a ]'],
    ],
    [
      yaml(source, 'extract: [Rows]', '---', 'extract: [Rows]'),
      ['3:1 a pipeline file holds one YAML document: remove the second "---"'],
    ],
  ]
  for (const [text, expected] of cases) t.strictSame(problems(text), expected, text)
})

t.test('an empty file or a top level that is not a mapping', async (t) => {
  const cases: [string, string][] = [
    ['', '1:1 the pipeline must be a mapping with keys source and extract, got nothing'],
    ['# only a comment\n', '1:1 the pipeline must be a mapping with keys source and extract, got nothing'],
    ['---\n', '1:4 the pipeline must be a mapping with keys source and extract, got an empty value'],
    [
      yaml('- source: {paths: x}', '- extract: [Rows]'),
      '1:1 the pipeline must be a mapping with keys source and extract, got a list',
    ],
    ['dose\n', '1:1 the pipeline must be a mapping with keys source and extract, got "dose"'],
  ]
  for (const [text, expected] of cases) t.strictSame(problems(text), [expected], JSON.stringify(text))
})

t.test('an unreadable pipeline file is E_NO_INPUT, naming the path and the reason', async (t) => {
  const missing = join(fixtures, 'missing.yaml')
  await t.rejects(loadPipeline(missing), {
    code: 'E_NO_INPUT',
    exitCode: ExitCode.NO_INPUT,
    message: `cannot read pipeline ${missing}: no such file or directory`,
  })
  await t.rejects(loadPipeline(fixtures), {
    code: 'E_NO_INPUT',
    message: `cannot read pipeline ${fixtures}: is a directory`,
  })
})

t.test('formatProblem prints file:line:col message', async (t) => {
  const p = { line: 12, col: 5, message: 'unknown keyword "CTDIVol" (did you mean "CTDIvol"?)' }
  t.equal(formatProblem('dose.yaml', p), 'dose.yaml:12:5 unknown keyword "CTDIVol" (did you mean "CTDIvol"?)')
})

t.test('the pipelines shipped in pipelines/ are valid', async (t) => {
  const dir = fileURLToPath(new URL('../../pipelines', import.meta.url))
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'))
  t.not(files.length, 0, 'some pipelines')
  for (const f of files) {
    const result = await loadPipeline(join(dir, f))
    t.strictSame(
      result.problems.map((p) => formatProblem(f, p)),
      [],
      f,
    )
  }
})

// Issue 5: sorting in bounded memory, grouping with aggregates, and dose columns.
const doseInputs = 'SeriesInstanceUID, ImageType, ImageOrientationPatient, ImagePositionPatient, SliceLocation, CTDIvol'

t.test('group_by, aggregate, dose and sort.memory_mb give the resolved spec', async (t) => {
  const text = yaml(
    source,
    `extract: [PatientID, SeriesDescription, BodyPartExamined, ${doseInputs}]`,
    'group_by: [PatientID, SeriesInstanceUID]',
    'aggregate:',
    '  - {column: SeriesDescription, op: first, as: description}',
    '  - {column: CTDIvol, op: max}',
    'dose: {region: CHEST}',
    'sort: {memory_mb: 8}',
  )
  const { spec, problems: found } = parsePipeline(text, base)
  t.strictSame(found, [])
  t.strictSame(spec?.group, {
    by: ['PatientID', 'SeriesInstanceUID'],
    aggregates: [
      { column: 'SeriesDescription', op: 'first', name: 'description' },
      { column: 'CTDIvol', op: 'max', name: 'max_CTDIvol' },
    ],
  })
  t.strictSame(spec?.dose, { region: 'CHEST' })
  t.equal(spec?.sortMemoryMb, 8)
  t.strictSame(spec?.sort, [], 'group_by and dose sort by what they need: sort.by may be left out')

  const short = parsePipeline(yaml(source, 'extract: [Modality, Rows]', 'group_by: Modality'), base).spec
  t.strictSame(short?.group, { by: ['Modality'], aggregates: [] }, 'a single group_by column as a string')
  t.equal(short?.dose, undefined, 'no dose unless asked for')
  const dose = parsePipeline(yaml(source, `extract: [BodyPartExamined, ${doseInputs}]`, 'dose: {}'), base).spec
  t.strictSame(dose?.dose, { region: 'auto' }, 'region defaults to auto')
})

t.test('issue 5 problems, each at its line:col', async (t) => {
  const doseExtract = `extract: [BodyPartExamined, ${doseInputs}]`
  const cases: [string, string[]][] = [
    [
      yaml(source, 'extract: [Rows]', 'sort: {by: [Rows], memory_mb: 0}'),
      ['3:31 sort.memory_mb must be an integer from 1 to 65536, got 0'],
    ],
    [yaml(source, 'extract: [Rows]', 'sort: {memory_mb: 8}'), ['3:7 missing required key "by" in sort']],
    [
      yaml(source, 'extract: [Rows]', 'aggregate: [{column: Rows, op: sum}]'),
      ['3:12 aggregate needs group_by: the columns of the groups'],
    ],
    [
      yaml(source, 'extract: [SeriesInstanceUID]', 'group_by: [SeriesInstanceUUID]'),
      ['3:12 group_by column "SeriesInstanceUUID" is not an extracted column (did you mean "SeriesInstanceUID"?)'],
    ],
    [
      yaml(source, 'extract: [{keyword: Modality, as: mod}]', 'group_by: Modality'),
      ['3:11 group_by column "Modality" is not an extracted column (did you mean "mod"?)'],
    ],
    [
      yaml(source, 'extract: [Modality, Rows]', 'group_by: Modality', 'aggregate: [{column: Columns, op: max}]'),
      ['4:22 aggregate column "Columns" is not an extracted column'],
    ],
    [
      yaml(source, 'extract: [Modality, Rows]', 'group_by: Modality', 'aggregate: [{column: Rows, op: avg}]'),
      [
        '4:32 aggregate[0].op must be "count" or "sum" or "min" or "max" or "mean" or "first" or "last" or "median" ' +
          'or "stddev" or "count_distinct" or pNN, got "avg"',
      ],
    ],
    [
      yaml(source, 'extract: [Modality, Rows]', 'group_by: Modality', 'aggregate: [{column: Rows, op: p101}]'),
      [
        '4:32 aggregate[0].op must be "count" or "sum" or "min" or "max" or "mean" or "first" or "last" or "median" ' +
          'or "stddev" or "count_distinct" or pNN, got "p101"',
      ],
    ],
    [
      yaml(source, 'extract: [Rows]', 'format: {precision: 0}'),
      ['3:21 format.precision must be an integer from 1 to 17 or "full", got 0'],
    ],
    [
      yaml(source, 'extract: [Rows]', 'format: {precision: all}'),
      ['3:21 format.precision must be an integer from 1 to 17 or "full", got "all"'],
    ],
    [
      yaml(source, 'extract: [Modality, Rows]', 'group_by: Modality', 'aggregate: [{op: max}]'),
      ['4:13 missing required key "column" in aggregate[0]'],
    ],
    [
      yaml(
        source,
        'extract: [Modality, Rows]',
        'group_by: Modality',
        'aggregate:',
        '  - {column: Rows, op: max, as: Modality}',
      ),
      ['5:33 duplicate column "Modality" in the output (rename it with "as")'],
    ],
    [
      yaml(source, 'extract: [SeriesInstanceUID, CTDIvol, SliceLocation]', 'dose: {region: HEAD}'),
      ['3:7 dose reads ImageType, ImageOrientationPatient, ImagePositionPatient: extract them (under any name)'],
    ],
    [
      yaml(source, `extract: [${doseInputs}]`, 'dose: {region: auto}'),
      ['3:16 region auto reads BodyPartExamined: extract it, or name the region (e.g. region: CHEST)'],
    ],
    [
      yaml(source, `extract: [${doseInputs}]`, 'dose: {}'),
      ['3:7 region auto reads BodyPartExamined: extract it, or name the region (e.g. region: CHEST)'],
    ],
    [
      yaml(source, doseExtract, 'dose: {region: LEG}'),
      [
        '3:16 dose.region must be "auto" or "HEAD" or "HEAD_NECK" or "NECK" or "CHEST" or "ABDOMEN_PELVIS" or "TRUNK", got "LEG"',
      ],
    ],
    [
      yaml(source, doseExtract, 'group_by: [BodyPartExamined]', 'dose: {}'),
      ['3:11 dose is per series: group_by must include SeriesInstanceUID'],
    ],
    [
      yaml(source, `${doseExtract.slice(0, -1)}, {keyword: Rows, as: interval_mm}]`, 'dose: {}'),
      ['2:130 column "interval_mm" is also a dose column (rename it with "as")'],
    ],
    [
      yaml(
        source,
        doseExtract,
        'group_by: SeriesInstanceUID',
        'aggregate: [{column: CTDIvol, op: count, as: slices}]',
        'dose: {}',
      ),
      ['4:46 duplicate column "slices" in the output (rename it with "as")'],
    ],
    [
      yaml(source, 'extract: [SeriesInstanceUID, CTDIVol]', 'dose: {}'),
      ['2:30 unknown keyword "CTDIVol" (did you mean "CTDIvol"?)'],
    ],
  ]
  for (const [text, expected] of cases) {
    t.strictSame(problems(text), expected, text)
    t.equal(parsePipeline(text, base).spec, undefined, `no spec: ${text}`)
  }
})

t.test('format: and creator: (issue 4)', async (t) => {
  const text = [
    'source: {paths: x}',
    'extract:',
    "  - {tag: '0019,xx23', creator: GEMS_ACQU_01, as: acq}",
    '  - ExposureDoseSequence[*].CTDIvol',
    'format: {dates: iso, names: ideographic, binary: length, separator: "|", charset: ISO_IR 192}',
  ].join('\n')
  const result = parsePipeline(text, '/srv')
  t.same(result.problems, [])
  t.same(result.spec?.format, {
    separator: '|',
    dates: 'iso',
    names: 'ideographic',
    binary: 'length',
    charset: 'ISO_IR 192',
  })
  t.match(result.spec?.columns, [
    { name: 'acq', source: { kind: 'element', path: [{ tag: 0x00190023, creator: 'GEMS_ACQU_01' }] } },
    { name: 'ExposureDoseSequence[*].CTDIvol', source: { kind: 'element', path: [{ item: '*' }, {}] } },
  ])
  const bad = parsePipeline(
    ['source: {paths: x}', 'extract:', '  - {keyword: CTDIvol, creator: ACME}', 'format: {dates: us}'].join('\n'),
    '/srv',
  )
  t.same(
    bad.problems.map((p) => `${p.line}:${p.col} ${p.message}`),
    [
      "3:15 extract[0].creator goes with a private tag: write tag: '0019,xx23' instead of a keyword",
      '4:17 format.dates must be "stored" or "iso", got "us"',
    ],
  )
})

t.test('aggregate percentiles and format.precision (issue 14)', async (t) => {
  const text = (format: string) =>
    [
      'source: {paths: x}',
      'extract: [Modality, CTDIvol, StudyInstanceUID]',
      'group_by: Modality',
      'aggregate:',
      '  - {column: CTDIvol, op: median}',
      '  - {column: CTDIvol, op: p95, as: ctdivol_p95}',
      '  - {column: CTDIvol, op: stddev}',
      '  - {column: StudyInstanceUID, op: count_distinct, as: exams}',
      format,
    ].join('\n')
  const cases: [string, unknown][] = [
    ['', undefined],
    ['format: {precision: 4}', undefined],
    ['format: {precision: 6}', { precision: 6 }],
    ['format: {precision: full}', { precision: 'full' }],
    ['format: {precision: 17}', { precision: 17 }],
  ]
  for (const [format, expected] of cases) {
    const result = parsePipeline(text(format), '/srv')
    t.same(result.problems, [], format)
    t.same(result.spec?.format, expected, `${format || 'no format'}: the spec's format`)
  }
  t.same(parsePipeline(text(''), '/srv').spec?.group?.aggregates, [
    { column: 'CTDIvol', op: 'median', name: 'median_CTDIvol' },
    { column: 'CTDIvol', op: 'p95', name: 'ctdivol_p95' },
    { column: 'CTDIvol', op: 'stddev', name: 'stddev_CTDIvol' },
    { column: 'StudyInstanceUID', op: 'count_distinct', name: 'exams' },
  ])
})

t.test('format.spreadsheet (issue 10)', async (t) => {
  const on = parsePipeline(
    ['source: {paths: x}', 'extract: [PatientID]', 'format: {spreadsheet: true}'].join('\n'),
    '/srv',
  )
  t.same(on.problems, [])
  t.same(on.spec?.format, { spreadsheet: true })
  const off = parsePipeline(
    ['source: {paths: x}', 'extract: [PatientID]', 'format: {spreadsheet: false}'].join('\n'),
    '/srv',
  )
  t.equal(off.spec?.format, undefined, 'false is the default: no format options')
  const bad = parsePipeline(
    ['source: {paths: x}', 'extract: [PatientID]', 'format: {spreadsheet: yes}'].join('\n'),
    '/srv',
  )
  t.same(
    bad.problems.map((p) => p.message),
    ['format.spreadsheet must be true or false, got "yes"'],
  )
})

t.test('sr: columns and unit: (issue 12)', async (t) => {
  const text = [
    'source: {paths: x}',
    'extract:',
    '  - {sr: 113811/113813, unit: mGy.cm, as: total_dlp_mGycm}',
    "  - {sr: 'sr:113819[*]/113829/113830'}",
    "  - 'sr:113811/113813@unit'",
    '  - ContentSequence[code=113811].ContentSequence[code=DCM:113813].MeasuredValueSequence[0].NumericValue',
  ].join('\n')
  const result = parsePipeline(text, '/srv')
  t.same(result.problems, [])
  t.match(result.spec?.columns, [
    {
      name: 'total_dlp_mGycm',
      source: {
        kind: 'element',
        tag: 0x0040a730,
        path: [{ code: { value: '113811' } }, { code: { value: '113813' } }],
        content: { part: 'value', unit: 'mGy.cm' },
      },
    },
    {
      name: 'sr:113819[*]/113829/113830',
      source: { path: [{ item: '*' }, { item: 0 }, { item: 0 }], content: { part: 'value' } },
    },
    { name: 'sr:113811/113813@unit', source: { content: { part: 'unit' } } },
    {
      source: { path: [{ code: { value: '113811' } }, { code: { value: '113813', scheme: 'DCM' } }, { item: 0 }, {}] },
    },
  ])
  const bad = parsePipeline(
    [
      'source: {paths: x}',
      'extract:',
      '  - {keyword: CTDIvol, unit: mm}',
      '  - {sr: 113811/113813@code, unit: mm}',
      '  - {sr: 113811/113813, unit: furlong}',
      "  - {sr: 113811/113813, tag: '0018,9345'}",
      '  - sr:113811//113813',
    ].join('\n'),
    '/srv',
  )
  t.same(
    bad.problems.map((p) => `${p.line}:${p.col} ${p.message}`),
    [
      '3:30 extract[0].unit goes with sr: (a path into SR content)',
      '4:10 extract[1].unit converts the value: not with "@code"',
      `5:31 extract[2].unit must be one of ${UNIT_NAMES.join(', ')}, got "furlong"`,
      '6:25 extract[3] has both "tag" and "sr": keep one',
      '7:5 sr:113811//113813: step 2 is empty: expected a code like 113811 or DCM:113811, or * for any',
    ],
  )
})

t.test('where: problems at their place inside the expression, plain, quoted or folded', async (t) => {
  const extract = 'extract: [SeriesNumber, {keyword: CTDIvol, as: CTDIvol_mGy}]'
  const cases: [string, string[]][] = [
    [yaml(source, extract, 'where: Modalty = CT'), ['3:8 where: unknown keyword "Modalty" (did you mean "Modality"?)']],
    [
      yaml(source, extract, 'where: SeriesNumber = 1 and CTDIvol_mgy > 5'),
      ['3:29 where: unknown column "CTDIvol_mgy" (did you mean "CTDIvol_mGy"?)'],
    ],
    [
      yaml(source, extract, "where: 'SeriesDescription = ''a b'' and CTDIvol > x'"),
      ['3:51 where: CTDIvol is a number, got "x"'],
    ],
    [yaml(source, extract, 'where: "Modality = CT and"'), ['3:26 where: expected a column, got the end']],
    [
      yaml(
        source,
        extract,
        'where: >',
        '  Modality = CT and',
        '    StudyDate >= yesterday',
        '  and ImageType contains X',
      ),
      ['5:18 where: StudyDate is a date (DA), got "yesterday": write it 20260101 or 2026-01-01'],
    ],
    [
      yaml(source, extract, 'where: |', '  Modality = CT', '  and (Modality = MR'),
      ['5:7 where: unclosed "(": add a ")"'],
    ],
    [yaml(source, extract, 'where: Modality = CT', 'where: Modality = MR'), ['4:1 map keys must be unique']],
    [yaml(source, extract, 'where: [Modality = CT]'), ['3:8 where must be a string, got a list']],
    // A problem of an extract entry is not reported again by the filter that names it.
    [
      yaml(source, 'extract: [{keyword: CTDIVol, as: dose}]', 'where: dose > 1'),
      ['2:21 unknown keyword "CTDIVol" (did you mean "CTDIvol"?)'],
    ],
  ]
  for (const [text, expected] of cases) {
    t.strictSame(problems(text), expected, text)
  }
})

t.test('where: the filter in the spec, with the columns it reads beside the extracted ones', async (t) => {
  const result = parsePipeline(
    yaml(source, 'extract: [SeriesNumber]', 'where: Modality = CT and SeriesNumber > 1'),
    base,
  )
  t.equal(result.problems.length, 0)
  t.equal(result.spec?.where?.text, 'Modality = CT and SeriesNumber > 1')
  t.strictSame(result.spec?.where?.hidden, [element('Modality', 0x00080060, 'Modality')])
})

t.test('issue 13: a dicomweb source, its keys, and keys of the other type refused', async (t) => {
  const result = parsePipeline(
    yaml(
      'source:',
      '  type: dicomweb',
      '  url: https://pacs/dicom-web',
      "  query: {StudyDate: '20261101-20261130', Modality: CT}",
      '  auth: {type: bearer, token_env: PACS_TOKEN}',
      '  ca_file: ca.pem',
      '  requests_per_second: 5',
      'extract: [PatientID]',
    ),
    base,
  )
  t.strictSame(result.problems, [])
  t.strictSame(result.spec?.source.dicomweb, {
    url: 'https://pacs/dicom-web',
    query: { StudyDate: '20261101-20261130', Modality: 'CT' },
    auth: {
      type: 'bearer',
      username: undefined,
      passwordEnv: undefined,
      passwordFile: undefined,
      tokenEnv: 'PACS_TOKEN',
      tokenFile: undefined,
    },
    caFile: '/srv/pipelines/ca.pem',
    connectTimeoutMs: 10000,
    readTimeoutMs: 60000,
    retries: 4,
    requestsPerSecond: 5,
    pageSize: 100,
  })
  t.equal(result.spec?.source.type, 'dicomweb')
  const cases: [string, string[]][] = [
    [yaml('source: {type: dicomweb}', 'extract: [Rows]'), ['1:9 missing required key "url" in source']],
    [
      yaml('source: {type: dicomweb, url: http://x, paths: y}', 'extract: [Rows]'),
      ['1:48 source.paths goes with type: files, not dicomweb'],
    ],
    [
      yaml('source: {paths: y, url: http://x}', 'extract: [Rows]'),
      ['1:25 source.url goes with type: dicomweb, not files'],
    ],
    [
      yaml('source: {type: dicomweb, url: http://x, auth: {type: basic, password: secret}}', 'extract: [Rows]'),
      ['1:71 source.auth.password: a secret is never written in a pipeline file: use password_env or password_file'],
    ],
    [
      yaml('source: {type: dicomweb, url: http://x, auth: {type: bearer}}', 'extract: [Rows]'),
      ['1:47 source.auth of type bearer needs one of token_env or token_file'],
    ],
    [
      yaml('source: {type: dicomweb, url: http://x, query: {StudyDat: x}}', 'extract: [Rows]'),
      ['1:49 unknown key "StudyDat" in source.query (did you mean "StudyDate"?)'],
    ],
  ]
  for (const [text, expected] of cases) t.strictSame(problems(text), expected, text)
})
