// Interrupted runs: SIGINT, SIGTERM and SIGHUP tear the pipeline down, remove the temporary output and
// leave the previous output as it was, with the conventional exit code. Real processes, real files.
import t from 'tap'
import { spawn } from 'node:child_process'
import { linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, ROOT } from './fixtures/cli.js'

const SAMPLE = join(ROOT, 'samples/PAT001/STUDY_20240312/SER002_HEAD/IM00001.dcm')

/** A folder of `n` hard links to one sample: a big job that costs no disk. */
function manyFiles(dir: string, n: number): string {
  const input = join(dir, 'in')
  for (let i = 0; i < n; i++) {
    const sub = join(input, `S${Math.floor(i / 1000)}`)
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true })
    linkSync(SAMPLE, join(sub, `IM${i}`))
  }
  return input
}

/** Runs the CLI, sends `signal` once it has shown two progress frames, and waits for the end. */
function interrupt(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    let sent = false
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (!sent && (stderr.match(/\r/g) ?? []).length >= 2) {
        sent = true
        child.kill(signal)
      }
    })
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

t.test('SIGINT, SIGTERM and SIGHUP: conventional exit codes, old output intact, no temporary files', async (t) => {
  const dir = t.testdir({})
  const input = manyFiles(dir, 30000)
  const out = join(dir, 'out')
  mkdirSync(out)
  const target = join(out, 'dose.csv')
  writeFileSync(target, 'previous,output\n')
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    // Review finding: SIGHUP (its terminal closed) was not handled: exit 129 by the default
    // action, the lock and a temporary CSV of patient data left until the next run.
    ['SIGHUP', 129],
  ] as const) {
    const r = await interrupt(
      ['extract', input, '-k', 'SliceLocation', '-o', target, '--progress', '--threads', '0', '-j', '4'],
      signal,
    )
    t.equal(r.code, code, `${signal}: exit ${code}`)
    t.match(r.stderr, new RegExp(`interrupted by ${signal}; .*dose\\.csv is left as it was`), `${signal}: says so`)
    t.notMatch(r.stderr, /\n\s+at /, `${signal}: no stack trace`)
    t.equal(readFileSync(target, 'utf8'), 'previous,output\n', `${signal}: the previous output is intact`)
    t.same(readdirSync(out), ['dose.csv'], `${signal}: no temporary file left`)
  }
})

t.test('a FIFO named as input is refused, not read for ever', async (t) => {
  const dir = t.testdir({})
  const { execFileSync } = await import('node:child_process')
  execFileSync('mkfifo', [join(dir, 'pipe')])
  const { runCli } = await import('./fixtures/cli.js')
  const r = await runCli(['extract', join(dir, 'pipe'), '-k', 'Modality'])
  t.equal(r.code, 66)
  t.match(r.stderr, /pipe: not a regular file or folder/)
})

t.test('SIGKILL at random moments: the output is the old one or a whole new one, never a mix', async (t) => {
  const dir = t.testdir({})
  const input = manyFiles(dir, 3000)
  const target = join(dir, 'dose.csv')
  writeFileSync(target, 'previous,output\n')
  const complete = `SliceLocation\n${'60\n'.repeat(3000)}`
  // A seeded sequence of delays, so that a failure can be replayed.
  let seed = 20261124
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  // Kill moments spread over a whole run, so that some fall near its end (the rename).
  const started = Date.now()
  await new Promise((resolve) =>
    spawn(process.execPath, [CLI, 'extract', input, '-k', 'SliceLocation', '-o', join(dir, 'timing.csv'), '-q'], {
      stdio: 'ignore',
    }).on('close', resolve),
  )
  const duration = Date.now() - started
  unlinkSync(join(dir, 'timing.csv'))
  const seen = new Set<string>()
  for (let i = 0; i < 25; i++) {
    const delay = Math.floor(random() * duration * 1.2)
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'extract', input, '-k', 'SliceLocation', '-o', target, '-q'], {
        stdio: 'ignore',
      })
      const timer = setTimeout(() => child.kill('SIGKILL'), delay)
      child.on('close', () => {
        clearTimeout(timer)
        resolve()
      })
    })
    const now = readFileSync(target, 'utf8')
    const whole = now === 'previous,output\n' || now === complete
    t.ok(
      whole,
      `kill after ${delay} ms: ${now === complete ? 'new' : now === 'previous,output\n' ? 'old' : 'MIXED'} output`,
    )
    seen.add(now === complete ? 'new' : 'old')
    if (now === complete) writeFileSync(target, 'previous,output\n')
  }
  t.comment(`outcomes seen: ${[...seen].join(', ')}`)
  const after = await new Promise<number | null>((resolve) =>
    spawn(process.execPath, [CLI, 'extract', input, '-k', 'SliceLocation', '-o', target, '-q'], { stdio: 'ignore' }).on(
      'close',
      resolve,
    ),
  )
  t.equal(after, 0, 'the next run goes ahead: the stale lock of a killed run does not block it')
  t.equal(readFileSync(target, 'utf8'), complete)
  t.same(readdirSync(dir).sort(), ['dose.csv', 'in'], 'and no lock or temporary file is left')
})

t.test('issue 10: SIGTERM ends a run reading synchronously in the main thread (-j 1 --threads 0)', async (t) => {
  // Reads that block in the main thread (an open() waiting on a FIFO did) would keep the
  // handler from running; files are opened O_NONBLOCK, so the handler runs between reads.
  const dir = t.testdir({})
  const input = manyFiles(dir, 30000)
  const target = join(dir, 'dose.csv')
  writeFileSync(target, 'previous,output\n')
  const r = await interrupt(
    ['extract', input, '-k', 'SliceLocation', '-o', target, '--progress', '--threads', '0', '-j', '1'],
    'SIGTERM',
  )
  t.equal(r.code, 143)
  t.match(r.stderr, /interrupted by SIGTERM; .*dose\.csv is left as it was/)
  t.equal(readFileSync(target, 'utf8'), 'previous,output\n')
})
