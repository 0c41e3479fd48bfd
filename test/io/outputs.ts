// Issue 10: output, errors and state are one transaction; real processes, real files.
import t from 'tap'
import {
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
