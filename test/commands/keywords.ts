// etl keywords: the command spawned.
import t from 'tap'
import { spawn } from 'node:child_process'
import { allEntries } from '../../src/dicom/keywords.js'
import { CLI, ROOT, parseCsv, runCli } from '../fixtures/cli.js'

t.test('etl keywords, spawned: exit code, stdout and stderr apart', async (t) => {
  const ctdi = await runCli(['keywords', 'ctdi'])
  t.equal(ctdi.code, 0, ctdi.stderr)
  t.equal(ctdi.stderr, '')
  t.match(ctdi.stdout.split('\n')[1], /^CTDIvol +\(0018,9345\) +FD +1 +CTDIvol$/)

  const words = await runCli(['keywords', 'slice', 'location'])
  t.equal(words.code, 0)
  t.match(words.stdout.split('\n')[1], /^SliceLocation +\(0020,1041\) +DS +1 +Slice Location$/, 'unquoted words')

  const csv = await runCli(['keywords', '(0018,9345)', '--csv'])
  t.equal(csv.code, 0)
  t.same(parseCsv(csv.stdout), [
    ['keyword', 'tag', 'vr', 'vm', 'name', 'retired'],
    ['CTDIvol', '(0018,9345)', 'FD', '1', 'CTDIvol', 'false'],
  ])

  const all = await runCli(['keywords', '--csv'])
  t.equal(parseCsv(all.stdout).length, [...allEntries()].length + 1, 'no text: the whole dictionary')

  const none = await runCli(['keywords', 'nosuchattributeatall'])
  t.equal(none.code, 1)
  t.equal(none.stdout, '')
  t.match(none.stderr, /^etl: no match for "nosuchattributeatall"\n$/)

  const bad = await runCli(['keywords', 'ctdi', '--bogus'])
  t.equal(bad.code, 64)
  t.equal(bad.stdout, '')
  t.match(bad.stderr, /Unknown argument: bogus/)

  const help = await runCli(['keywords', '--help'])
  t.match(help.stdout, /Examples:[\s\S]*etl keywords ctdi/)
  const top = await runCli(['--help'])
  t.match(top.stdout, /etl keywords \[text\.\.\]/)
})

t.test('etl keywords | head: a closed stdout ends quietly', async (t) => {
  const child = spawn(process.execPath, [CLI, 'keywords'], { cwd: ROOT })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.equal(code, 0)
  t.equal(stderr, '')
})
