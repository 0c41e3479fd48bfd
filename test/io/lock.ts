// One run at a time per output, with real processes and lock files.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { acquireLock } from '../../src/io/lock.js'
import { processStart, thisProcess } from '../../src/io/process.js'
import { ROOT, runCli } from '../fixtures/cli.js'

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(child.stdout)
}

t.test('a second run on the same output is refused while the first holds the lock', async (t) => {
  const dir = t.testdir({})
  const target = join(dir, 'out.csv')
  const lock = acquireLock(target)
  t.equal(lock.path, `${target}.lock`)
  t.match(JSON.parse(readFileSync(lock.path, 'utf8')), { pid: process.pid, host: hostname() })
  const second = await runCli(['extract', 'samples', '-k', 'Modality', '-o', target])
  t.equal(second.code, 75)
  t.match(
    second.stderr,
    new RegExp(
      `another run \\(pid ${process.pid} on .*\\) is writing .*out\\.csv; if it is not running any more, remove .*out\\.csv\\.lock`,
    ),
  )
  t.equal(existsSync(target), false, 'it wrote nothing')
  lock.release()
  t.equal(existsSync(lock.path), false, 'release removes the lock')
  const third = await runCli(['extract', 'samples', '-k', 'Modality', '-o', target])
  t.equal(third.code, 0, 'once released, the next run goes ahead')
  t.same(readdirSync(dir), ['out.csv'], 'and leaves no lock behind')
})

t.test('a stale lock and the temporary files of a killed run are cleaned up', async (t) => {
  const dir = t.testdir({})
  const target = join(dir, 'out.csv')
  const pid = deadPid()
  writeFileSync(`${target}.lock`, JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00Z' }))
  writeFileSync(join(dir, `.out.csv.${pid}.abc123.tmp`), 'half a CSV')
  writeFileSync(join(dir, `.out.csv.${process.pid}.def456.tmp`), 'a live run of ours')
  const r = await runCli(['extract', 'samples', '-k', 'Modality', '-o', target])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, `removed the stale lock of pid ${pid} (not running since 2026-01-01T00:00:00Z)`)
  t.match(r.stderr, `removed .out.csv.${pid}.abc123.tmp, left by a run that was killed`)
  t.same(readdirSync(dir).sort(), [`.out.csv.${process.pid}.def456.tmp`, 'out.csv'], 'a live process keeps its file')
})

t.test('no lock for stdout or devices', async (t) => {
  const r = await runCli(['extract', 'samples', '-k', 'Modality', '-o', '/dev/null'])
  t.equal(r.code, 0)
  t.equal(existsSync('/dev/null.lock'), false)
})

t.test('issue 10: a lock whose pid now belongs to another process is stale (start times differ)', async (t) => {
  const dir = t.testdir({})
  const target = join(dir, 'out.csv')
  const init = processStart(1)
  t.ok(init !== undefined, 'pid 1 runs, with a start time in /proc')
  writeFileSync(
    `${target}.lock`,
    JSON.stringify({ pid: 1, start: (init ?? 0) + 12345, host: hostname(), started: 'yesterday' }),
  )
  const r = await runCli(['extract', 'samples', '-k', 'Modality', '-o', target])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, 'removed the stale lock of pid 1 (not running since yesterday)')
  writeFileSync(`${target}.lock`, JSON.stringify({ pid: 1, start: init, host: hostname(), started: 'today' }))
  const held = await runCli(['extract', 'samples', '-k', 'Modality', '-o', target])
  t.equal(held.code, 75, 'the same pid and start: the run is alive')
  t.match(held.stderr, `if it is not running any more, remove ${target}.lock`)
})

t.test('issue 10: sort folders left by a killed run (rows of patient data) are removed by the next', async (t) => {
  const tmp = t.testdir({})
  const dead = deadPid()
  const me = thisProcess()
  const stale = join(tmp, `etl-sort-${dead}-${(me.start ?? 0) + 1}-abcdef`)
  const live = join(tmp, `etl-sort-${me.pid}-${me.start ?? 0}-ghijkl`)
  for (const folder of [stale, live]) {
    mkdirSync(folder)
    writeFileSync(join(folder, 'run-1.jsonl'), '["PAT001"]\n')
  }
  // Another user's folder of that name (planted in a shared /tmp) is not ours to remove.
  const planted = join(tmp, `etl-sort-${dead}-${(me.start ?? 0) + 1}-zzzzzz`)
  mkdirSync(planted)
  const root = process.getuid?.() === 0
  if (root) chownSync(planted, 65534, 65534)
  const r = await runCli(['extract', 'samples', '-k', 'PatientID', '--sort', 'PatientID'], { env: { TMPDIR: tmp } })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, `removed ${stale}, the sort folder of a run that was killed`)
  const left = [
    `etl-sort-${me.pid}-${me.start ?? 0}-ghijkl`,
    ...(root ? [`etl-sort-${dead}-${(me.start ?? 0) + 1}-zzzzzz`] : []),
  ]
  t.same(readdirSync(tmp).sort(), left.sort(), "a live run keeps its folder, and another user's stays")
})

t.test('issue 10: many runs meeting one stale lock at once: exactly one takes it', async (t) => {
  const dir = t.testdir({})
  const target = join(dir, 't.csv')
  const log = join(dir, 'got.log')
  for (let round = 0; round < 4; round++) {
    writeFileSync(log, '')
    writeFileSync(`${target}.lock`, JSON.stringify({ pid: deadPid(), host: hostname(), started: 'earlier' }))
    const startAt = Date.now() + 1500
    const script = join(ROOT, 'test/fixtures/lock-race.mjs')
    const runs = Array.from(
      { length: 12 },
      () =>
        new Promise((resolve) => spawn(process.execPath, [script, target, log, String(startAt)]).on('close', resolve)),
    )
    const codes = await Promise.all(runs)
    t.same(new Set(codes), new Set([0]), `round ${round}: every contender ended cleanly`)
    t.equal(readFileSync(log, 'utf8').split('\n').filter(Boolean).length, 1, `round ${round}: one holder`)
    t.equal(existsSync(`${target}.lock`), false, 'the holder released it')
  }
})

t.test(
  "issue 10: a lock another user wrote naming someone else's process (pid 1) is stale",
  { skip: process.getuid?.() === 0 ? false : 'needs root, to give the lock file to another user' },
  async (t) => {
    const dir = t.testdir({})
    chmodSync(dir, 0o777)
    const target = join(dir, 'out.csv')
    writeFileSync(
      `${target}.lock`,
      JSON.stringify({ pid: 1, start: processStart(1), host: hostname(), started: 'then' }),
    )
    chownSync(`${target}.lock`, 65534, 65534)
    const r = await runCli(['extract', 'samples', '-k', 'Modality', '-o', target])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, 'removed the stale lock of pid 1')
  },
)

t.test('a run killed while it broke a stale lock (its .lock.break left) does not block the next', async (t) => {
  const dir = t.testdir({})
  const target = join(dir, 'out.csv')
  const dead = { pid: deadPid(), host: hostname(), started: 'earlier' }
  writeFileSync(`${target}.lock`, JSON.stringify(dead))
  writeFileSync(`${target}.lock.break`, JSON.stringify(dead))
  const r = await runCli(['extract', 'samples', '-k', 'Modality', '-o', target])
  t.equal(r.code, 0, r.stderr)
  t.same(readdirSync(dir), ['out.csv'], 'both leftovers gone')
})
