import t from 'tap'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listFiles, type ListFilesOptions } from '../../src/stages/list-files.js'

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
  t.same(await list({ paths: ['/no/such/*.dcm'] }), [], 'a glob that matches nothing is not an error')
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
