// Issue 11, "one pipeline model": behaviour through the real CLI on the committed samples.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, parseCsv, runCli } from '../fixtures/cli.js'
import { DICOM_FILES, isLocalizer, sampleSeries } from '../fixtures/samples.js'

/**
 * A copy of a shipped pipeline with a `format:` block, its paths still relative to pipelines/;
 * `where: false` drops its `where:` line, so that every DICOM file of the samples makes a row.
 */
function withFormat(dir: string, name: string, format: string, options: { where?: false } = {}): string {
  let text = readFileSync(join(ROOT, 'pipelines', name), 'utf8').replace('../samples', join(ROOT, 'samples'))
  if (options.where === false) {
    const without = text.replace(/^where:.*\n/m, '')
    if (without === text) throw new Error(`${name} has no one-line where: to drop`)
    text = without
  }
  const path = join(dir, `${options.where === false ? 'all-' : ''}${name}`)
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
  // The localizer is told by its ImageType, a multiple value, whatever the separator: by the
  // shipped pipeline's where:, which filters it out, and by the dose metric, which excludes it.
  const localizer = sampleSeries().find(isLocalizer)!
  const filtered = await runCli(['run', withFormat(dir, 'dose.yaml', "  separator: '|'")])
  t.equal(filtered.code, 0, filtered.stderr)
  t.notMatch(filtered.stdout, localizer.seriesInstanceUid, 'where: the localizer filtered out')
  const kept = sampleSeries()
    .filter((s) => !isLocalizer(s))
    .reduce((n, s) => n + s.slices.length, 0)
  t.match(
    filtered.stderr,
    `(${DICOM_FILES.length - kept} filtered out by where)`,
    'where: the localizer and the dose report filtered out',
  )
  const all = await runCli(['run', withFormat(dir, 'dose.yaml', "  separator: '|'", { where: false })])
  t.equal(all.code, 0, all.stderr)
  const series = parseCsv(all.stdout)
  t.equal(series[1][series[0].indexOf('SeriesInstanceUID')], localizer.seriesInstanceUid, 'without where: its row')
  t.match(series[1].at(-1), /^excluded: 1 localizer;/, 'the localizer is told by its ImageType')
})
