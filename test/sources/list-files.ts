import t from 'tap'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import picomatch from 'picomatch'
import { displayPath, toFsPath } from '../../src/io/fs-path.js'
import { parseCsv, runCli } from '../fixtures/cli.js'
import { DICOM_FILES, isLocalizer, sampleSeries } from '../fixtures/samples.js'
import { listFiles, type ListFilesOptions } from '../../src/sources/list-files.js'

/** A small PACS-like tree with a hidden folder, a dot-file and symlinks. */
function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'etl-list-'))
  for (const f of ['a/s1/IM1', 'a/s1/IM2.dcm', 'a/s2/IM3', 'b/notes.txt', '.cache/IM4', 'a/.DS_Store']) {
    mkdirSync(join(root, f, '..'), { recursive: true })
    writeFileSync(join(root, f), f)
  }
  const outside = mkdtempSync(join(tmpdir(), 'etl-outside-'))
  writeFileSync(join(outside, 'IM9'), 'x')
  symlinkSync(outside, join(root, 'linked-folder'))
  symlinkSync(join(root, 'a/s1/IM1'), join(root, 'b/link-to-IM1'))
  return root
}

async function list(options: ListFilesOptions): Promise<string[]> {
  const out: string[] = []
  for await (const p of listFiles(options)) out.push(p as string)
  return out.sort()
}

t.test('folders are listed recursively, hidden files and symlinks left out by default', async (t) => {
  const root = tree()
  const rel = (ps: string[]) => ps.map((p) => p.slice(root.length + 1))
  t.same(rel(await list({ paths: [root] })), ['a/s1/IM1', 'a/s1/IM2.dcm', 'a/s2/IM3', 'b/notes.txt'])
  t.same(rel(await list({ paths: [root], hidden: true })), [
    '.cache/IM4',
    'a/.DS_Store',
    'a/s1/IM1',
    'a/s1/IM2.dcm',
    'a/s2/IM3',
    'b/notes.txt',
  ])
  t.same(rel(await list({ paths: [root], followSymlinks: true })), [
    'a/s1/IM1',
    'a/s1/IM2.dcm',
    'a/s2/IM3',
    'b/link-to-IM1',
    'b/notes.txt',
    'linked-folder/IM9',
  ])
  t.same(rel(await list({ paths: [root], ignore: ['**/*.txt', '**/s2/**'] })), ['a/s1/IM1', 'a/s1/IM2.dcm'])
})

t.test('files, globs and relative paths are listed as given', async (t) => {
  const root = tree()
  t.same(await list({ paths: [join(root, 'a/s1/IM1')] }), [join(root, 'a/s1/IM1')], 'a file is listed as is')
  t.same(await list({ paths: [`${root}/a/**/*.dcm`] }), [join(root, 'a/s1/IM2.dcm')], 'a glob pattern')
  const cwd = process.cwd()
  process.chdir(root)
  try {
    t.same(await list({ paths: ['a/s2'] }), ['a/s2/IM3'], 'a relative folder gives relative paths')
  } finally {
    process.chdir(cwd)
  }
})

t.test('a missing input fails with E_NO_INPUT and its path', async (t) => {
  const info = { listed: 0, done: false }
  await t.rejects(list({ paths: ['/no/such/folder'], info }), {
    code: 'E_NO_INPUT',
    message: /\/no\/such\/folder: no such file/,
  })
  t.equal(info.listed, 0)
})

t.test('the lister streams: it is paused by backpressure, not drained into memory', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'etl-many-'))
  for (let i = 0; i < 2000; i++) writeFileSync(join(root, `IM${i}`), '')
  const info = { listed: 0, done: false }
  const stream = listFiles({ paths: [root], info })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.ok(info.listed < 2000, `unread, it stops early (listed ${info.listed} of 2000)`)
  let n = 0
  for await (const _ of stream) n++
  t.equal(n, 2000)
  t.equal(info.done, true)
})

t.test('a big folder is listed in chunks, with turns of the event loop between them', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'etl-chunks-'))
  for (let i = 0; i < 3000; i++) writeFileSync(join(root, `IM${i}`), '')
  // Counts the turns of the event loop (as reader threads' results and signals need) while listing.
  let turns = 0
  let listing = true
  const tick = () => {
    turns++
    if (listing) setImmediate(tick)
  }
  setImmediate(tick)
  const seen = new Set<string>()
  for await (const p of listFiles({ paths: [root] })) seen.add(p as string)
  listing = false
  t.equal(seen.size, 3000, 'every file once')
  t.ok(turns >= 3000 / 256, `the event loop turned between chunks (${turns} turns)`)
})

/** `M\xfcller` as Latin-1 bytes, and the UTF-8 name Node's lossy decoding gives it (issue 10). */
const LATIN1 = Buffer.from('M\xfcller', 'latin1')
const REPLACED = 'M\ufffdller'

/** A file or folder path under `root` whose last name is given as bytes. */
const under = (root: string, ...names: (string | Buffer)[]) =>
  Buffer.concat([Buffer.from(root), ...names.flatMap((n) => [Buffer.from('/'), Buffer.from(n)])])

t.test('issue 10: a Latin-1 name and the UTF-8 name it decodes like are two files, each its own', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'etl-bytes-'))
  writeFileSync(under(root, Buffer.concat([LATIN1, Buffer.from('.dcm')])), 'latin-1 file')
  writeFileSync(join(root, `${REPLACED}.dcm`), 'utf-8 file')
  // A folder whose own name is Latin-1, holding a file, and a link to it.
  mkdirSync(under(root, LATIN1))
  writeFileSync(under(root, LATIN1, 'IM1'), 'in the latin-1 folder')
  symlinkSync(under(root, LATIN1), under(root, Buffer.concat([Buffer.from('link-'), LATIN1])))
  const contents = (paths: string[]) =>
    paths.map((p) => [displayPath(p.slice(root.length + 1)), readFileSync(toFsPath(p), 'utf8')])
  // Sorted as path strings: the escaped byte (U+DCFC) before U+FFFD.
  const expected = [
    ['M\\xfcller.dcm', 'latin-1 file'],
    ['M\\xfcller/IM1', 'in the latin-1 folder'],
    [`${REPLACED}.dcm`, 'utf-8 file'],
  ]
  t.same(contents(await list({ paths: [root] })), expected, 'a folder walk')
  t.same(
    contents(await list({ paths: [root], followSymlinks: true })),
    [...expected, ['link-M\\xfcller/IM1', 'in the latin-1 folder']],
    'a folder walk following links (real paths compared as bytes)',
  )
  t.same(contents(await list({ paths: [`${root}/M*`] })), [expected[0], expected[2]], 'a glob pattern')
  t.same(contents(await list({ paths: [`${root}/**/IM1`] })), [expected[1]], 'a glob pattern into the folder')
  const since = new Date(Date.now() - 60_000)
  utimesSync(under(root, Buffer.concat([LATIN1, Buffer.from('.dcm')])), new Date(0), new Date(0))
  t.same(contents(await list({ paths: [`${root}/M*`], since })), [expected[2]], '--since stats the right file')
})

/** Every file under a folder, as paths relative to it (dot-files and links included). */
function allFiles(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(root, `${prefix}${e.name}/`) : e.isFile() ? [`${prefix}${e.name}`] : [],
  )
}

t.test('glob patterns list what picomatch matches among all files, each once', async (t) => {
  const root = tree()
  for (const f of ['a/s1/x/IM5.dcm', 'a/b/s1/IM6.dcm', 'a/s1/s1/IM7.dcm', 'c/.hid/IM8.dcm', 'c/d/IM9.DCM']) {
    mkdirSync(join(root, f, '..'), { recursive: true })
    writeFileSync(join(root, f), f)
  }
  const files = allFiles(root)
  const patterns = [
    '**/*.dcm',
    '**',
    'a/**',
    'a/*/IM*',
    '**/s1/**',
    '*/s?/*',
    'a/**/s1/*.dcm',
    '{a,c}/**/*.{dcm,DCM}',
    '**/s1/**/*.dcm',
    'a/**/**/IM?',
    '**/.hid/*',
    'c/*/IM9.DCM',
    '**/!(IM1)',
  ]
  for (const pattern of patterns) {
    for (const hidden of [false, true]) {
      const found = (await list({ paths: [`${root}/${pattern}`], hidden })).map((p) => p.slice(root.length + 1))
      const expected = files.filter((f) => picomatch(pattern, { dot: hidden })(f)).sort()
      t.same(found, expected, `${pattern}${hidden ? ' (hidden)' : ''}`)
    }
  }
})

t.test('issue 10: a glob whose base folder does not exist is a missing input', async (t) => {
  const root = tree()
  const info = { listed: 0, done: false }
  await t.rejects(list({ paths: [root, `${root}/no/such/*.dcm`], info }), {
    code: 'E_NO_INPUT',
    message: `input ${root}/no/such/*.dcm: ${root}/no/such (the folder it is matched in): no such file or directory`,
  })
  t.equal(info.listed, 0, 'checked before anything is listed, even from the inputs before it')
  await t.rejects(list({ paths: [`${root}/a/s1/IM1/*`] }), { code: 'E_NO_INPUT', message: /IM1 .*: not a folder/ })
})

t.test('issue 10: glob characters in names that exist are taken literally, or escaped', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'etl-literal-'))
  for (const f of ['ser[1]/A.dcm', 'ser1/B.dcm', 'ser2/C.dcm', 'x/ser[1]/D.dcm', 'x/ser1/E.dcm', '[x]/F.dcm']) {
    mkdirSync(join(root, f, '..'), { recursive: true })
    writeFileSync(join(root, f), f)
  }
  const names = async (pattern: string) => (await list({ paths: [pattern] })).map((p) => p.slice(root.length + 1))
  t.same(await names(`${root}/ser[1]/*.dcm`), ['ser[1]/A.dcm'], 'a folder named ser[1] is ser[1], not ser1')
  t.same(await names(`${root}/ser[12]/*.dcm`), ['ser1/B.dcm', 'ser2/C.dcm'], 'no such name: a glob')
  t.same(await names(`${root}/ser\\[1\\]/*.dcm`), ['ser[1]/A.dcm'], 'escaped brackets')
  t.same(await names(`${root}/ser\\[1\\]/A.dcm`), ['ser[1]/A.dcm'], 'escaped, without any glob left: the file')
  t.same(await names(`${root}/*/ser[1]/*.dcm`), ['x/ser[1]/D.dcm'], 'below a glob part too')
  t.same(await names(`${root}/ser[1]`), ['ser[1]/A.dcm'], 'a path that exists is a path')
  t.same(await names(`${root}/[[]x]/*`), ['[x]/F.dcm'], 'a bracket class for a bracket')
})

t.test('issue 10: no file found is E_NO_FILES, unless allowEmpty', async (t) => {
  const root = tree()
  const empty = mkdtempSync(join(tmpdir(), 'etl-empty-'))
  const cases: [string, ListFilesOptions, RegExp][] = [
    ['an empty folder', { paths: [empty] }, /^no files found under \/.*etl-empty-\w+$/],
    ['a pattern that matches nothing', { paths: [`${root}/**/*.none`] }, /^no files found under .*\*\.none$/],
    ['everything ignored', { paths: [root], ignore: ['**'] }, /\(4 left out by ignore patterns\)$/],
    ['everything older', { paths: [root], since: new Date(Date.now() + 3_600_000) }, /\(4 older than --since\)$/],
  ]
  for (const [what, options, message] of cases) {
    const info = { listed: 0, done: false }
    await t.rejects(list({ ...options, info }), { code: 'E_NO_FILES', exitCode: 66, message }, what)
    t.equal(info.done, false, `${what}: the stream failed`)
    const told: string[] = []
    t.same(await list({ ...options, allowEmpty: true, onEmpty: (m) => told.push(m) }), [], `${what}: allowed`)
    t.match(told, [message], `${what}: told`)
  }
})

t.test('review 3: inputs that are one folder, or lie inside an input folder, are listed once', async (t) => {
  const root = tree()
  symlinkSync(join(root, 'a'), join(root, 'link-to-a'))
  const rel = (ps: string[]) => ps.map((p) => p.slice(root.length + 1))
  const A = ['a/s1/IM1', 'a/s1/IM2.dcm', 'a/s2/IM3']
  // what, inputs (~ is the tree's root), files listed (below it), notes
  const cases: [string, string[], string[], string[]][] = [
    ['a folder inside another', ['~', '~/a/s1'], [...A, 'b/notes.txt'], ['~/a/s1 is inside ~']],
    ['the inner one first', ['~/a/s1', '~/a'], A, ['~/a/s1 is inside ~/a']],
    [
      'one folder, spelt three ways',
      ['~/a', '~/a/', '~/./a/s1/..'],
      A,
      ['~/a/ is the same as ~/a', '~/./a/s1/.. is the same as ~/a'],
    ],
    ['through a link to an input (realpath)', ['~/a', '~/link-to-a/s2'], A, ['~/link-to-a/s2 is inside ~/a']],
    [
      'named by the outermost folder',
      ['~/a', '~/a/s1', '~/a/s1/IM1'],
      A,
      ['~/a/s1 is inside ~/a', '~/a/s1/IM1 is inside ~/a'],
    ],
    ['a file twice', ['~/a/s1/IM1', '~/a/s1/IM1'], ['a/s1/IM1'], ['~/a/s1/IM1 is given twice']],
    ['a pattern inside a folder', ['~/a', '~/a/**/*.dcm'], A, ['~/a/**/*.dcm is inside ~/a']],
    ['a pattern twice', ['~/a/*/IM*', '~/a/*/IM*'], A, ['~/a/*/IM* is given twice']],
    ['two patterns that overlap stay', ['~/a/*/IM*', '~/a/s1/*'], [...A, 'a/s1/IM1', 'a/s1/IM2.dcm'].sort(), []],
    ['a hidden folder, which the walk leaves out, stays', ['~', '~/.cache'], ['.cache/IM4', ...A, 'b/notes.txt'], []],
    ['so does a pattern for dot-files', ['~/a', '~/a/.*'], ['a/.DS_Store', ...A], []],
  ]
  for (const [what, inputs, files, notes] of cases) {
    const told: string[] = []
    const paths = inputs.map((p) => p.replace('~', root))
    t.same(rel(await list({ paths, onNote: (m) => told.push(m) })), files, what)
    t.same(
      told,
      notes.map((n) => `${n.replaceAll('~', root)}: listed once`),
      `${what}: notes`,
    )
  }
})

t.test('review 3: the CLI lists overlapping inputs once', async (t) => {
  const r = await runCli(['extract', 'samples', 'samples/PAT001', '-k', 'SOPInstanceUID'])
  t.equal(r.code, 0, r.stderr)
  t.equal(parseCsv(r.stdout).length, 1 + DICOM_FILES.length, 'one row per DICOM file')
  t.equal(new Set(r.stdout.split('\n')).size, r.stdout.split('\n').length, 'no row twice')
  t.match(r.stderr, 'etl: samples/PAT001 is inside samples: listed once\n')
  const dose = await runCli(['run', 'pipelines/dose.yaml', '-i', 'samples', '-i', 'samples/PAT001'])
  t.equal(dose.code, 0, dose.stderr)
  const [header, ...rows] = parseCsv(dose.stdout)
  const slices = header.indexOf('slices')
  // dose.yaml keeps the axial images (its where:); every header is read once, filtered or not.
  t.same(
    rows.map((row) => row[slices]),
    sampleSeries()
      .filter((s) => !isLocalizer(s))
      .map((s) => String(s.slices.length)),
    'each slice counted once',
  )
  t.match(dose.stderr, `from ${DICOM_FILES.length} headers`, 'each file read once')
})
