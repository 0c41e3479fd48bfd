// Issue 10, "trust under attack": every command on a closed pipe and a full disk. Each case
// spawns the built CLI with a real stdout: a pipe whose reader goes away (`| head -1`), or
// /dev/full (`> /dev/full`, every write ENOSPC). Before src/io/stdout.ts, `inspect`, `keywords`
// and `--version` died of an unhandled 'error' event with a stack trace (exit 1), `--help`
// exited 0 with nothing written, and `run`/`extract` said "cannot read an input".
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dataSet, IMPLICIT_LE, part10, TS } from '../fixtures/dicom-builder.js'
import { CLI, ROOT, runCli, type CliResult } from '../fixtures/cli.js'

/** A file whose one value, shown whole, is 4 MiB: more than any pipe or socket buffer holds. */
function bigFile(dir: string): string {
  const file = join(dir, 'big.dcm')
  const comments = Buffer.alloc(4 * 1024 * 1024, 'x')
  writeFileSync(
    file,
    part10(
      dataSet(
        [
          { tag: 0x00100020, vr: 'LO', value: 'P1' },
          { tag: 0x00204000, vr: 'LT', value: comments },
        ],
        IMPLICIT_LE,
      ),
      TS.implicitLE,
    ),
  )
  return file
}

/** The commands, each with output enough to outlast the pipe (or none, for validate). */
function commands(dir: string): [string, string[]][] {
  const file = bigFile(dir)
  const pipeline = join(dir, 'big.yaml')
  writeFileSync(pipeline, `source:\n  paths: [big.dcm]\nextract: [PatientID, ImageComments]\n`)
  return [
    ['inspect', ['inspect', file, '--width', String(8 * 1024 * 1024)]],
    ['keywords', ['keywords', '--csv']],
    ['validate', ['validate', pipeline]],
    ['run', ['run', pipeline, '-q', '--threads', '0']],
    ['extract', ['extract', file, '-k', 'PatientID', '-k', 'ImageComments', '-q', '--threads', '0']],
    ['--help', ['--help']],
    ['run --help', ['run', '--help']],
    ['--version', ['--version']],
  ]
}

/**
 * Runs the CLI with stdout a pipe that the reader closes: after the first chunk, or at once
 * (`early`), before the child has written anything, for output that fits in the pipe.
 */
function runClosedPipe(args: string[], early: boolean): Promise<CliResult & { got: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let got = 0
    let stderr = ''
    if (early) child.stdout.destroy()
    else {
      child.stdout.once('data', (chunk: Buffer) => {
        got = chunk.length
        child.stdout.destroy()
      })
    }
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr, got }))
  })
}

/** Runs the CLI with /dev/full as its stdout. */
function runFull(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const full = openSync('/dev/full', 'w')
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', full, 'pipe'] })
    closeSync(full)
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr }))
  })
}

t.test('issue 10: a closed pipe (`etl ... | head -1`) ends every command quietly', async (t) => {
  const dir = t.testdir({})
  for (const [name, args] of commands(dir)) {
    // validate prints nothing on stdout, help and the version fit in the pipe: closed at once.
    const early = name === 'validate' || name.includes('-')
    const result = await runClosedPipe(args, early)
    t.equal(result.stderr.replace(/^.*: ok: .*\n/, ''), '', `${name}: nothing on stderr`)
    t.equal(result.code, 0, `${name}: exit 0`)
    if (!early) t.ok(result.got > 0, `${name}: the reader had a first chunk`)
  }
})

t.test('issue 10: `etl inspect FILE | head -1` in a shell', { skip: bashSkip() }, async (t) => {
  const dir = t.testdir({})
  const file = bigFile(dir)
  // bash exits with etl's status; head takes the first line and closes the pipe.
  const script = `"$0" "$1" inspect "$2" --width 8388608 | head -1 > /dev/null; exit "\${PIPESTATUS[0]}"`
  const result = spawnSync('bash', ['-c', script, process.execPath, CLI, file], { encoding: 'utf8' })
  t.equal(result.stderr, '', 'nothing on stderr')
  t.equal(result.status, 0, 'exit 0')
})

const noFull = existsSync('/dev/full') ? false : 'no /dev/full here'

t.test('issue 10: a full disk (`> /dev/full`) is one line naming stdout, and exit 74', { skip: noFull }, async (t) => {
  const dir = t.testdir({})
  for (const [name, args] of commands(dir)) {
    const result = await runFull(args)
    if (name === 'validate') {
      // validate writes on stderr only: stdout is never written.
      t.match(result.stderr, /: ok: /, 'validate: ok')
      t.equal(result.code, 0, 'validate: exit 0')
      continue
    }
    t.equal(result.stderr, 'etl: cannot write stdout: no space left on device\n', `${name}: the one line`)
    t.equal(result.code, 74, `${name}: exit 74`)
  }
})

t.test('issue 10: inspect of sequences nested 10,000 deep: bounded, no stack overflow', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'deep.dcm')
  writeFileSync(file, deepFile(10_000))
  const result = await runCli(['inspect', file])
  t.equal(result.stderr, '', 'nothing on stderr')
  t.equal(result.code, 0, 'exit 0')
  const lines = result.stdout.trimEnd().split('\n')
  t.ok(result.stdout.length < 256 * 1024, `bounded output (${result.stdout.length} bytes; it was 65 MB)`)
  t.match(lines.at(-1), /\(sequence nested deeper than 64: not shown\)$/, 'says where it stops')
  t.equal(lines.filter((l) => / SQ /.test(l)).length, 64, 'the first 64 levels shown')
})

/**
 * A Part-10 file (explicit VR little endian) of ContentSequence items nested `depth` deep, each
 * with a ValueType and, all of defined length; built inside out, without recursion.
 */
function deepFile(depth: number): Buffer {
  const u16 = (n: number) => Buffer.from([n & 0xff, n >> 8])
  const u32 = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(n)
    return b
  }
  const tag = (group: number, element: number) => Buffer.concat([u16(group), u16(element)])
  const valueType = Buffer.concat([tag(0x0040, 0xa040), Buffer.from('CS'), u16(4), Buffer.from('TEXT')])
  let inner = Buffer.alloc(0)
  for (let i = 0; i < depth; i++) {
    const item = Buffer.concat([tag(0xfffe, 0xe000), u32(valueType.length + inner.length), valueType, inner])
    inner = Buffer.concat([tag(0x0040, 0xa730), Buffer.from('SQ'), u16(0), u32(item.length), item])
  }
  return part10(inner, TS.explicitLE)
}

function bashSkip(): string | false {
  return spawnSync('bash', ['-c', 'true']).status === 0 ? false : 'no bash here'
}
