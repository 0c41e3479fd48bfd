/** The schema's derived outputs: the README key table and key suggestions. */
import t from 'tap'
import { schemaMarkdown } from '../../src/pipeline/schema-markdown.js'

t.test('schemaMarkdown has a row for every key, in declaration order', async (t) => {
  const keys = [
    'source',
    'source.type',
    'source.paths',
    'source.ignore',
    'source.concurrency',
    'source.threads',
    'source.follow_symlinks',
    'source.hidden',
    'source.allow_empty',
    'source.url',
    'source.query',
    ...[
      'StudyDate',
      'StudyTime',
      'AccessionNumber',
      'ModalitiesInStudy',
      'ReferringPhysicianName',
      'PatientName',
      'PatientID',
      'StudyInstanceUID',
      'StudyID',
      'StudyDescription',
      'Modality',
      'SeriesInstanceUID',
      'SeriesNumber',
      'SeriesDescription',
    ].map((key) => `source.query.${key}`),
    'source.auth',
    'source.auth.type',
    'source.auth.username',
    'source.auth.password_env',
    'source.auth.password_file',
    'source.auth.token_env',
    'source.auth.token_file',
    'source.auth.password',
    'source.auth.token',
    'source.ca_file',
    'source.connect_timeout_secs',
    'source.read_timeout_secs',
    'source.retries',
    'source.requests_per_second',
    'source.page_size',
    'extract',
    'extract[].keyword',
    'extract[].tag',
    'extract[].creator',
    'extract[].sr',
    'extract[].unit',
    'extract[].as',
    'rows',
    'rows.per_item',
    'sort',
    'sort.by',
    'sort.by[].column',
    'sort.by[].order',
    'sort.memory_mb',
    'distinct',
    'group_by',
    'aggregate',
    'aggregate[].column',
    'aggregate[].op',
    'aggregate[].as',
    'dose',
    'dose.region',
    'state',
    'format',
    'format.separator',
    'format.dates',
    'format.names',
    'format.binary',
    'format.charset',
    'format.spreadsheet',
    'output',
    'output.path',
    'output.format',
    'output.errors',
  ]
  const lines = schemaMarkdown().trimEnd().split('\n')
  t.strictSame(lines.slice(0, 2), ['| key | type | default | description |', '|---|---|---|---|'])
  t.strictSame(
    lines.slice(2).map((line) => /^\| `([^`]+)` \|/.exec(line)?.[1]),
    keys,
  )
  for (const line of lines) t.equal(line.match(/(?<!\\)\|/g)?.length, 5, `five unescaped pipes: ${line}`)
})

t.test('schemaMarkdown rows give type, default and doc with an example', async (t) => {
  const rows = schemaMarkdown().split('\n')
  const cases = [
    '| `source.paths` | string or list of string |  | Folders, files or glob patterns, relative to the pipeline file. A single string is accepted too. Required with `type: files`. Example: `paths: [../samples]` |',
    '| `source.concurrency` | integer 1–1024 |  | Files read at once at most. By default one per reader thread, read synchronously: the fastest on local disks and warm caches. On network or cold storage raise it (e.g. 64): many reads in flight hide latency. With `type: dicomweb`: series read at once, and requests in flight, at most (default 4). Example: `concurrency: 64` |',
    '| `sort.by[].order` | `asc` or `desc` | `"asc"` | Ascending or descending. Example: `order: desc` |',
    '| `group_by` | string or list of string |  | One row per group of rows with equal cells in these columns (names as in the CSV header), which are its first columns. The rows are sorted by these columns first, so groups come out in that order, one after another, without being held. A single name is accepted too. Example: `group_by: [PatientID, SeriesInstanceUID]` |',
    '| `output.errors` | string |  | A CSV of the files ignored or failed, with the reason; none by default. Example: `errors: out/dose-errors.csv` |',
  ]
  for (const row of cases) t.ok(rows.includes(row), row)
})
