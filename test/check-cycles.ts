// scripts/check-cycles.mjs, run by `npm run lint`: src has no import cycle, and one is found.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from './fixtures/cli.js'

const check = (dir: string) =>
  spawnSync(process.execPath, [join(ROOT, 'scripts/check-cycles.mjs'), dir], { cwd: ROOT, encoding: 'utf8' })

t.test('src has no import cycle, type-only imports included', async (t) => {
  const r = check(join(ROOT, 'src'))
  t.equal(r.status, 0, r.stderr)
})

t.test('a cycle through a type-only import is found and named', async (t) => {
  const dir = t.testdir({
    'a.ts': "import type { B } from './b.js'\nexport interface A { b?: B }\n",
    'b.ts': "import { c } from './sub/c.js'\nexport interface B { c: number }\nexport const b = c\n",
    sub: { 'c.ts': "import type { A } from '../a.js'\nexport const c = 1\nexport type C = A\n" },
    'd.ts': "import { b } from './b.js'\nexport const d = b\n",
  })
  const r = check(dir)
  t.equal(r.status, 1)
  t.match(r.stderr, /import cycle in .*: a\.ts <-> b\.ts <-> sub\/c\.ts\n/)
  t.notMatch(r.stderr, /d\.ts/, 'a module that only imports one of the cycle is not in it')
})
