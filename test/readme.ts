// The README stays true: its YAML examples are valid pipelines, its key table is the schema's,
// its first screen names the two commands and shows what the first prints.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parsePipeline } from '../src/pipeline/load.js'
import { schemaMarkdown } from '../src/pipeline/schema-markdown.js'
import { ROOT, runCli } from './fixtures/cli.js'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

t.test('every yaml block of the README is a valid pipeline', async (t) => {
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1])
  t.ok(blocks.length >= 1)
  for (const block of blocks) t.same(parsePipeline(block, join(ROOT, 'pipelines')).problems, [], block.slice(0, 40))
})

/** A Markdown table as rows of trimmed cells, so the formatter's column padding does not count. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .filter((line) => !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim()),
    )
}

t.test('the key table is generated from the schema', async (t) => {
  const table = /<!-- schema:start -->\n([\s\S]*?)\n<!-- schema:end -->/.exec(readme)?.[1] ?? ''
  t.same(cells(table), cells(schemaMarkdown()))
})

t.test('the first screen gives the two commands', async (t) => {
  const firstScreen = readme.split('\n').slice(0, 25).join('\n')
  t.match(firstScreen, 'npm ci && npx etl run pipelines/dose.yaml')
  t.match(firstScreen, 'npm test')
})

t.test("the first screen shows what the first command prints: the samples' dose per series", async (t) => {
  const shown = /The first command prints[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
  const r = await runCli(['run', 'pipelines/dose.yaml'])
  t.equal(r.code, 0, r.stderr)
  // The README shortens UIDs to 4 digits; the time taken differs from run to run.
  const shorten = (line: string) => line.replace(/\b(2\.25\.\d{4})\d+/g, '$1...')
  const untimed = (line: string) => line.replace(/ in [\d.]+ s \(\d+ files\/s\)$/, '')
  t.same(
    shown.trimEnd().split('\n').map(untimed),
    [...r.stdout.trimEnd().split('\n').map(shorten), r.stderr.trimEnd()].map(untimed),
  )
})

t.test('the summary of a filtered run, as Filters (where) quotes it', async (t) => {
  const r = await runCli(['run', 'pipelines/dose-slices.yaml'])
  t.equal(r.code, 0, r.stderr)
  const said = /\d+ rows written \(\d+ filtered out by where\)/.exec(r.stderr)?.[0] ?? 'no summary'
  t.ok(readme.includes(`\`etl run pipelines/dose-slices.yaml\`\n  says \`${said}\``), said)
})
