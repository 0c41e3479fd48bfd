// What PACS exports and file servers throw at a run: unreadable folders and files, broken links,
// link loops, files that vanish, read-only output folders. Each is a reported outcome, never a
// crash. Permission cases run the CLI as user nobody (root ignores permissions), where setpriv exists.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { planRead } from '../src/dicom/read-plan.js'
import { listFiles } from '../src/sources/list-files.js'
import type { Skip } from '../src/records.js'
import { readHeaders } from '../src/sources/read-headers.js'
import { CLI, ROOT, parseCsv } from './fixtures/cli.js'
import { nobodySkip, runAsNobody } from './fixtures/nobody.js'

const SAMPLE = join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm')

async function list(paths: string[], followSymlinks = false): Promise<{ files: string[]; skips: Skip[] }> {
  const files: string[] = []
  const skips: Skip[] = []
  for await (const p of listFiles({ paths, followSymlinks, onSkip: (s) => skips.push(s) })) files.push(p as string)
  return { files: files.sort(), skips }
}

t.test('broken links and link loops are reported, and the walk goes on', async (t) => {
  const dir = t.testdir({ a: { 'IM1.dcm': 'x' } })
  symlinkSync('/no/such/target', join(dir, 'broken'))
  symlinkSync(dir, join(dir, 'a', 'back-to-top'))
  symlinkSync(join(dir, 'a', 'IM1.dcm'), join(dir, 'link-to-file'))
  const followed = await list([dir], true)
  t.same(followed.files, [join(dir, 'a/IM1.dcm'), join(dir, 'link-to-file')])
  t.same(followed.skips.map((s) => [s.path, s.code, s.reason]).sort(), [
    [join(dir, 'a/back-to-top'), 'E_READ', `symbolic link loop: leads back to ${dir}`],
    [join(dir, 'broken'), 'E_READ', 'broken symbolic link'],
  ])
  t.same(await list([dir]), { files: [join(dir, 'a/IM1.dcm')], skips: [] }, 'links are left out unless followed')
})

t.test('a file that vanishes between listing and reading is a failure with its reason', async (t) => {
  const dir = t.testdir({})
  copyFileSync(SAMPLE, join(dir, 'stays.dcm'))
  copyFileSync(SAMPLE, join(dir, 'goes.dcm'))
  const { files } = await list([dir])
  unlinkSync(join(dir, 'goes.dcm'))
  const skips: Skip[] = []
  let rows = 0
  await pipeline(
    Readable.from(files),
    readHeaders({ plan: planRead([0x00080060]), concurrency: 1, onSkip: (s) => skips.push(s) }),
    new Writable({ objectMode: true, write: (_r, _e, cb) => (rows++, cb()) }),
  )
  t.equal(rows, 1)
  t.match(skips, [{ path: join(dir, 'goes.dcm'), outcome: 'failed', code: 'E_READ', reason: /no such file/ }])
})

t.test(
  'permissions, as user nobody',
  {
    skip: nobodySkip,
  },
  async (t) => {
    const dir = t.testdir({})
    chmodSync(dir, 0o755)
    for (const sub of ['ok', 'locked', 'out-ro']) mkdirSync(join(dir, sub), { mode: 0o755 })
    copyFileSync(SAMPLE, join(dir, 'ok', 'IM1.dcm'))
    copyFileSync(SAMPLE, join(dir, 'ok', 'secret.dcm'))
    copyFileSync(SAMPLE, join(dir, 'locked', 'IM2.dcm'))
    chmodSync(join(dir, 'ok', 'secret.dcm'), 0o600)
    chmodSync(join(dir, 'locked'), 0o700)
    const r = await runAsNobody(['extract', dir, '-k', 'path'])
    t.equal(r.code, 65, 'some files could not be read')
    t.same(parseCsv(r.stdout), [['path'], [join(dir, 'ok/IM1.dcm')]])
    t.match(r.stderr, `failed: ${join(dir, 'locked')}: cannot list folder: permission denied`)
    t.match(r.stderr, `failed: ${join(dir, 'ok/secret.dcm')}: cannot open: permission denied`)
    t.match(r.stderr, /1 rows written, 0 ignored \(not DICOM\), 1 failed, 1 folder could not be listed/)

    writeFileSync(join(dir, 'out-ro', 'old.csv'), 'previous\n')
    chmodSync(join(dir, 'out-ro', 'old.csv'), 0o644)
    chmodSync(join(dir, 'out-ro'), 0o555)
    const ro = await runAsNobody(['extract', join(dir, 'ok'), '-k', 'path', '-o', join(dir, 'out-ro', 'old.csv')])
    t.equal(ro.code, 74)
    t.match(ro.stderr, /cannot write .*out-ro\/old\.csv: permission denied/)
    t.same(readdirSync(join(dir, 'out-ro')), ['old.csv'], 'the old output is there, nothing else')
  },
)

t.test(
  'review 1: a folder that cannot be listed is exit 65 whatever --max-failures allows',
  {
    skip: nobodySkip,
  },
  async (t) => {
    const dir = t.testdir({})
    chmodSync(dir, 0o755)
    for (const sub of ['in', 'in/a', 'in/b', 'out']) mkdirSync(join(dir, sub), { mode: 0o755 })
    chmodSync(join(dir, 'out'), 0o777)
    for (let i = 0; i < 40; i++) copyFileSync(SAMPLE, join(dir, 'in/a', `IM${i}.dcm`))
    for (let i = 0; i < 48; i++) copyFileSync(SAMPLE, join(dir, 'in/b', `IM${i}.dcm`))
    chmodSync(join(dir, 'in/b'), 0o000)
    const out = join(dir, 'out/o.csv')
    const args = ['extract', join(dir, 'in'), '-k', 'SOPInstanceUID', '-o', out]
    for (const limit of ['5%', '100%', '1000']) {
      const r = await runAsNobody([...args, '--max-failures', limit])
      t.equal(r.code, 65, `--max-failures ${limit}: 48 files are hidden from the run`)
      t.equal(readFileSync(out, 'utf8').split('\n').length - 2, 40, 'the rows of the files listed are written')
      t.match(r.stderr, `failed: ${join(dir, 'in/b')}: cannot list folder: permission denied [E_READ]`)
      t.match(r.stderr, /40 rows written, 0 ignored \(not DICOM\), 0 failed, 1 folder could not be listed in /)
    }
    const json = await runAsNobody([...args, '--max-failures', '5%', '--log-format', 'json'])
    const summary = json.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string })
      .find((e) => e.event === 'summary')
    t.match(summary, { listed: 40, rows: 40, failed: 0, unlisted: 1, exitCode: 65 })
  },
)

t.test(
  'a full disk: a clear error naming the output, exit 74',
  { skip: existsSync('/dev/full') ? false : 'no /dev/full' },
  async (t) => {
    const { runCli } = await import('./fixtures/cli.js')
    const r = await runCli(['extract', 'samples', '-k', 'SOPInstanceUID', '-o', '/dev/full'])
    t.equal(r.code, 74)
    t.match(r.stderr, 'cannot write output /dev/full: no space left on device')
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  },
)

t.test('issue 10: damaged data sets are rows with warnings; damaged file meta still fails', async (t) => {
  const { damagedFiles } = await import('./fixtures/hostile-files.js')
  const { runCli } = await import('./fixtures/cli.js')
  const dir = t.testdir({})
  for (const [name, bytes] of Object.entries(damagedFiles())) writeFileSync(join(dir, `${name}.dcm`), bytes)
  const meta = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([2, 0, 0x10, 0, 0x3f, 0x3f, 2, 0])])
  writeFileSync(join(dir, 'meta.dcm'), meta)
  const r = await runCli(['extract', dir, '-k', 'path', 'Modality', 'PatientName', 'SliceLocation', '--sort', 'path'])
  t.equal(r.code, 65, 'the file with damaged meta fails')
  t.same(parseCsv(r.stdout), [
    ['path', 'Modality', 'PatientName', 'SliceLocation'],
    [join(dir, 'badVR.dcm'), 'CT', 'Doe^Jane', ''],
    [join(dir, 'first.dcm'), '', '', ''],
    [join(dir, 'length.dcm'), 'CT', 'Doe^Jane', ''],
  ])
  t.match(r.stderr, `warning: ${join(dir, 'length.dcm')}: SliceLocation: unreadable: element (0018,0050) claims`)
  t.match(r.stderr, `failed: ${join(dir, 'meta.dcm')}: file meta element (0002,0010) has no valid VR [E_CORRUPT]`)
  t.match(r.stderr, /3 rows written, 0 ignored \(not DICOM\), 1 failed, 8 value warnings/)
})

t.test('issue 10: random files that start with 02 00 are ignored as not DICOM, none failed', async (t) => {
  const { randomFilesStarting0200 } = await import('./fixtures/hostile-files.js')
  const { runCli } = await import('./fixtures/cli.js')
  const dir = t.testdir({})
  randomFilesStarting0200(300, 20261129).forEach((bytes, i) => writeFileSync(join(dir, `noise${i}.bin`), bytes))
  const r = await runCli(['extract', dir, '-k', 'PatientID'])
  t.equal(r.code, 0)
  t.equal(r.stdout, 'PatientID\n')
  t.match(r.stderr, /0 rows written, 300 ignored \(not DICOM\), 0 failed/)
})

/** Runs a fixture script with node; a child that has not ended after `timeout` ms is killed and fails. */
function runNode(args: string[], timeout = 60_000): Promise<{ code: number | null; stdout: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    let hung = false
    const timer = setTimeout(() => ((hung = true), child.kill('SIGKILL')), timeout)
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, hung })))
  })
}

t.test('issue 10: a FIFO swapped in for a listed file is a failure, not a read that never ends', async (t) => {
  const dir = t.testdir({})
  spawnSync('mkfifo', [join(dir, 'swapped.dcm')])
  copyFileSync(SAMPLE, join(dir, 'IM1.dcm'))
  for (const concurrency of ['1', '4']) {
    // The lister never yields a FIFO; a file swapped for one after listing reaches the reader as a path.
    const r = await runNode([
      'test/fixtures/read-paths.mjs',
      concurrency,
      join(dir, 'swapped.dcm'),
      join(dir, 'IM1.dcm'),
    ])
    t.equal(r.hung, false, `${concurrency} in flight: the reader ends (no open() waiting for a writer)`)
    t.same(r.stdout.trim().split('\n'), [
      `failed ${join(dir, 'swapped.dcm')}: not a regular file (a FIFO) [E_READ]`,
      `row ${join(dir, 'IM1.dcm')}`,
    ])
  }
  const { runCli } = await import('./fixtures/cli.js')
  const cli = await runCli(['extract', dir, '-k', 'PatientID'])
  t.equal(cli.code, 0, 'the CLI lists regular files only: the FIFO in the folder is left alone')
  t.same(parseCsv(cli.stdout), [['PatientID'], ['PAT001']])
})

t.test('review 2: out of file descriptors, reads wait for one another: every file is read', async (t) => {
  const dir = t.testdir({})
  for (let i = 0; i < 600; i++) copyFileSync(SAMPLE, join(dir, `IM${i}.dcm`))
  const run = `ulimit -n 256; exec "${process.execPath}" "${CLI}" extract "${dir}" -k SOPInstanceUID -j 1024 --threads 0`
  const r = spawnSync('bash', ['-c', run], { cwd: ROOT, encoding: 'utf8' })
  t.equal(r.status, 0, 'exit 0')
  t.equal(parseCsv(r.stdout).length, 1 + 600, 'a row for each file')
  t.notMatch(r.stderr, 'too many open files')
  t.match(r.stderr, /600 rows written, 0 ignored \(not DICOM\), 0 failed/)
})
