// Review finding: a failing stderr ended runs half-way. With stderr a pipe whose reader had gone
// (`2>&1 >/dev/null | head -1`) the first failure line killed the process with an uncaught
// `Error: write EPIPE` (exit 1), leaving out.csv.lock and the temporary output behind; with
// `2>/dev/full` a run committed its output, then exited 1. Messages on stderr are best effort:
// the run goes on, with its usual exit code, and cleans up. Real processes, real files.
import t from 'tap'
import { spawn } from 'node:child_process'
import { closeSync, copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, ROOT, parseCsv } from '../fixtures/cli.js'

const SAMPLE = join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm')

/** A folder of one good sample and `bad` files with a DICM marker and nothing after it. */
function inputs(dir: string, bad: number): string {
  const input = join(dir, 'in')
  mkdirSync(input)
  copyFileSync(SAMPLE, join(input, 'a-good.dcm'))
  const empty = Buffer.alloc(132)
  empty.write('DICM', 128)
  for (let i = 0; i < bad; i++) writeFileSync(join(input, `bad${i}.dcm`), empty)
  return input
}

/** Runs the CLI with stderr closed by its reader before anything is written, or /dev/full. */
function runBadStderr(args: string[], stderr: 'closed' | 'full', cwd: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const fd = stderr === 'full' ? openSync('/dev/full', 'w') : undefined
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'ignore', fd ?? 'pipe'] })
    if (fd !== undefined) closeSync(fd)
    else child.stderr?.destroy()
    child.on('error', reject)
    child.on('close', (code) => resolve(code))
  })
}

t.test('a failing stderr changes nothing: same exit code, output committed, nothing left behind', async (t) => {
  for (const stderr of ['closed', 'full'] as const) {
    const dir = t.testdir({})
    const input = inputs(dir, 300)
    const cases: [string, string[], number][] = [
      ['failures on stderr', ['extract', input, '-k', 'PatientID', '-o', 'out.csv', '--threads', '0'], 65],
      [
        'the progress line',
        ['extract', input, '-k', 'PatientID', '-o', 'out.csv', '--progress', '--max-failures', '100%'],
        0,
      ],
      ['a usage error', ['extract', input, '-k', 'PatientID', '--no-such-flag'], 64],
    ]
    for (const [what, args, code] of cases) {
      t.equal(await runBadStderr(args, stderr, dir), code, `${stderr} stderr, ${what}: exit ${code}`)
      t.same(readdirSync(dir).sort(), ['in', 'out.csv'], `${stderr}, ${what}: no lock or temporary file`)
      if (code !== 64) {
        const rows = parseCsv(readFileSync(join(dir, 'out.csv'), 'utf8'))
        t.same(rows, [['PatientID'], ['PAT001']], `${stderr}, ${what}: the output committed`)
      }
    }
  }
})
