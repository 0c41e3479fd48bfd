// Issue 10: output, errors and state are one transaction; real processes, real files.
import t from 'tap'
import {
  chownSync,
  lchownSync,
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { ROOT, runCli } from '../fixtures/cli.js'
import { dataSet, IMPLICIT_LE } from '../fixtures/dicom-builder.js'
import { nobodySkip, runAsNobody } from '../fixtures/nobody.js'
import { execFileSync } from 'node:child_process'

const SAMPLE = join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm')
const extract = (...args: string[]) => runCli(['extract', 'samples', '-k', 'PatientName', ...args])

t.test('two outputs naming the same file: a usage error before anything is written', async (t) => {
  const dir = t.testdir({ 'o.csv': 'previous\n', 's.jsonl': 'previous state\n', real: {} })
  const o = join(dir, 'o.csv')
  const s = join(dir, 's.jsonl')
  symlinkSync(o, join(dir, 'link.csv'))
  linkSync(o, join(dir, 'hard.csv'))
  copyFileSync(SAMPLE, join(dir, 'image.dcm'))
  writeFileSync(join(dir, 'p.yaml'), `source: {paths: [${join(ROOT, 'samples')}]}\nextract: [PatientName]\n`)
  const cases: [string, string[], RegExp][] = [
    ['-o X --errors X', ['-o', o, '--errors', o], /output .*o\.csv and errors file .*o\.csv are the same file/],
    [
      '--errors S --state S',
      ['--errors', s, '--state', s],
      /errors file .*s\.jsonl and state file .*s\.jsonl are the same file/,
    ],
    ['-o S --state S', ['-o', s, '--state', s], /output .*s\.jsonl and state file .*s\.jsonl are the same file/],
    ['through a symbolic link', ['-o', o, '--errors', join(dir, 'link.csv')], /are the same file/],
    ['through a hard link', ['-o', o, '--errors', join(dir, 'hard.csv')], /are the same file/],
    [
      'the lock of another',
      ['-o', o, '--errors', `${o}.lock`],
      /errors file .*o\.csv\.lock is the lock file of output/,
    ],
    [
      '-o over a DICOM file',
      ['-o', join(dir, 'image.dcm')],
      /output .*image\.dcm is a DICOM file: refusing to write it/,
    ],
    ['--state over a DICOM file', ['--state', join(dir, 'image.dcm')], /state file .*image\.dcm is a DICOM file/],
  ]
  for (const [name, args, message] of cases) {
    const r = await extract(...args)
    t.equal(r.code, 64, `${name}: exit 64`)
    t.match(r.stderr, message, `${name}: says which`)
    t.match(r.stderr, /run 'etl --help' for usage/)
    t.equal(r.stdout, '', `${name}: nothing on stdout`)
  }
  const input = await runCli(['extract', join(dir, 'o.csv'), '-k', 'PatientName', '-o', join(dir, 'hard.csv')])
  t.equal(input.code, 64)
  t.match(input.stderr, /output .*hard\.csv is an input of this run/)
  const run = await runCli(['run', join(dir, 'p.yaml'), '-o', o, '--errors', o])
  t.equal(run.code, 64, 'etl run too')
  t.equal(readFileSync(o, 'utf8'), 'previous\n', 'the output was not touched')
  t.equal(readFileSync(s, 'utf8'), 'previous state\n', 'nor the state')
  t.equal(statSync(join(dir, 'image.dcm')).size, statSync(SAMPLE).size, 'nor the DICOM file')
  t.same(
    readdirSync(dir).sort(),
    ['hard.csv', 'image.dcm', 'link.csv', 'o.csv', 'p.yaml', 'real', 's.jsonl'],
    'no lock or temporary file',
  )
})

t.test('an errors file that cannot be written: exit 74 before anything is read, the output as it was', async (t) => {
  const dir = t.testdir({ 'out.csv': 'previous\n' })
  const r = await extract('-o', join(dir, 'out.csv'), '--errors', join(dir, 'nodir/err.csv'))
  t.equal(r.code, 74)
  t.match(r.stderr, /cannot write errors file .*nodir\/err\.csv: no such file or directory/)
  t.notMatch(r.stderr, /files listed/, 'nothing was read')
  t.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), 'previous\n')
  t.same(readdirSync(dir), ['out.csv'])
})

t.test('a symbolic link as output: the target is replaced, the link stays, the target is locked', async (t) => {
  const dir = t.testdir({ real: { 'out.csv': 'previous\n' } })
  symlinkSync(join(dir, 'real/out.csv'), join(dir, 'out.csv'))
  const r = await extract('-o', join(dir, 'out.csv'))
  t.equal(r.code, 0, r.stderr)
  t.ok(lstatSync(join(dir, 'out.csv')).isSymbolicLink(), 'still a link')
  t.match(readFileSync(join(dir, 'real/out.csv'), 'utf8'), /^PatientName\n/)
  t.same(readdirSync(join(dir, 'real')), ['out.csv'], 'no lock or temporary file left beside the target')
  writeFileSync(
    join(dir, 'real/out.csv.lock'),
    JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), started: 'now' }),
  )
  const locked = await extract('-o', join(dir, 'out.csv'))
  t.equal(locked.code, 75, "the lock is the target's")
})

t.test('replaced outputs keep their mode; new ones follow the umask', async (t) => {
  const dir = t.testdir({ 'out.csv': 'old\n', 'err.csv': 'old\n' })
  chmodSync(join(dir, 'out.csv'), 0o600)
  chmodSync(join(dir, 'err.csv'), 0o640)
  const state = join(dir, 's.jsonl')
  const args = ['-o', join(dir, 'out.csv'), '--errors', join(dir, 'err.csv'), '--state', state]
  const first = await runCli(['extract', 'samples', '-k', 'PatientName', ...args])
  t.equal(first.code, 0, first.stderr)
  t.equal(statSync(join(dir, 'out.csv')).mode & 0o777, 0o600, 'a 0600 CSV of patient data stays 0600')
  t.equal(statSync(join(dir, 'err.csv')).mode & 0o777, 0o640, 'the errors file keeps 0640')
  t.equal(statSync(state).mode & 0o777, 0o666 & ~process.umask(), 'a new state: the umask')
  chmodSync(state, 0o600)
  const second = await runCli(['extract', 'samples', '-k', 'PatientName', ...args])
  t.equal(second.code, 0)
  t.equal(statSync(state).mode & 0o777, 0o600, 'the state keeps 0600')
  t.equal(existsSync(`${state}.lock`), false)
})

t.test(
  'a shared folder (sticky, writable by all): links and files planted by another user are refused',
  { skip: process.getuid?.() === 0 ? false : 'needs root, to plant files as another user' },
  async (t) => {
    const dir = t.testdir({ shared: {}, victim: { 'important.txt': 'precious\n' } })
    const shared = join(dir, 'shared')
    chmodSync(shared, 0o1777)
    symlinkSync(join(dir, 'victim/important.txt'), join(shared, 'dose.csv'))
    lchownSync(join(shared, 'dose.csv'), 65534, 65534)
    writeFileSync(join(shared, 'errors.csv'), '')
    chownSync(join(shared, 'errors.csv'), 65534, 65534)
    chmodSync(join(shared, 'errors.csv'), 0o666)
    const link = await extract('-o', join(shared, 'dose.csv'))
    t.equal(link.code, 64)
    t.match(link.stderr, /dose\.csv is another user's symbolic link in a shared folder/)
    t.equal(readFileSync(join(dir, 'victim/important.txt'), 'utf8'), 'precious\n', 'the link target is untouched')
    const planted = await extract('-o', join(shared, 'mine.csv'), '--errors', join(shared, 'errors.csv'))
    t.equal(planted.code, 64)
    t.match(planted.stderr, /errors\.csv is another user's file in a shared folder/)
    t.equal(existsSync(join(shared, 'mine.csv')), false, 'nothing written')
    const own = await extract('-o', join(shared, 'mine.csv'))
    t.equal(own.code, 0, 'a file of our own there is fine')
  },
)

t.test('a DICOM file without preamble (a raw data set) is never overwritten', async (t) => {
  const dir = t.testdir({})
  const raw = dataSet(
    [
      { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.2' },
      { tag: 0x00080018, vr: 'UI', value: '1.2.3.4.5' },
      { tag: 0x00100010, vr: 'PN', value: 'Doe^Jane' },
    ],
    IMPLICIT_LE,
  )
  writeFileSync(join(dir, 'raw.dcm'), raw)
  const read = await runCli(['extract', join(dir, 'raw.dcm'), '-k', 'PatientName'])
  t.match(read.stdout, 'Doe^Jane', 'etl reads it as DICOM')
  for (const flag of ['-o', '--errors']) {
    const r = await extract(flag, join(dir, 'raw.dcm'))
    t.equal(r.code, 64, `${flag}: exit 64`)
    t.match(r.stderr, /raw\.dcm is a DICOM file: refusing to write it/)
  }
  t.same(readFileSync(join(dir, 'raw.dcm')), raw, 'the file is untouched')
})

t.test('a group that cannot be kept loses its permission bits', { skip: nobodySkip }, async (t) => {
  const dir = t.testdir({ 'report.csv': 'old\n' })
  chmodSync(dir, 0o777)
  const report = join(dir, 'report.csv')
  chownSync(report, 0, 0)
  chmodSync(report, 0o644)
  const r = await runAsNobody(['extract', 'samples', '-k', 'PatientName', '-o', report])
  t.equal(r.code, 0, r.stderr)
  const st = statSync(report)
  t.equal(st.uid, 65534, "nobody cannot give the file to root: it is nobody's")
  t.not(st.gid, 0, 'nor keep the group root')
  t.equal(st.mode & 0o777, 0o604, 'so the group bits go; the others keep what they had')
})

t.test('a FIFO that no process reads: exit 74 after a few seconds of waiting for one, not a hang', async (t) => {
  const dir = t.testdir({})
  execFileSync('mkfifo', [join(dir, 'err.fifo')])
  const r = await extract('--errors', join(dir, 'err.fifo'))
  t.equal(r.code, 74)
  t.match(r.stderr, /cannot write errors file .*err\.fifo: a FIFO that no process reads/)
})
