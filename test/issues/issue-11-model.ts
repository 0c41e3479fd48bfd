// Issue 11, "one pipeline model": behaviour through the real CLI on the committed samples.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, parseCsv, runCli } from '../fixtures/cli.js'

/** A copy of a shipped pipeline with a `format:` block, its paths still relative to pipelines/. */
function withFormat(dir: string, name: string, format: string): string {
  const text = readFileSync(join(ROOT, 'pipelines', name), 'utf8').replace('../samples', join(ROOT, 'samples'))
  const path = join(dir, name)
  writeFileSync(path, `${text}\nformat:\n${format}\n`)
  return path
}

t.test('issue 11: the cell separator changes the text of cells, never what dose reads', async (t) => {
  const dir = t.testdir({})
  for (const name of ['dose.yaml', 'dose-slices.yaml']) {
    const plain = await runCli(['run', join(ROOT, 'pipelines', name)])
    const piped = await runCli(['run', withFormat(dir, name, "  separator: '|'")])
    t.equal(plain.code, 0, plain.stderr)
    t.equal(piped.code, 0, piped.stderr)
    const a = parseCsv(plain.stdout)
    const b = parseCsv(piped.stdout)
    t.same(
      b.map((row) => row.map((cell) => cell.replaceAll('|', '\\'))),
      a,
      `${name}: the same table, multiple values joined with | instead of \\`,
    )
    if (name === 'dose-slices.yaml')
      t.ok(
        b.some((row) => row.some((cell) => cell.includes('|'))),
        'multiple values',
      )
  }
  const series = parseCsv((await runCli(['run', withFormat(dir, 'dose.yaml', "  separator: '|'")])).stdout)
  t.match(series[1].at(-1), /^excluded: 1 localizer;/, 'the localizer is told by its ImageType')
})
