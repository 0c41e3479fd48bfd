// Import cycles among the modules of a folder (default src/), type-only imports included: a
// module that needs another's types and is needed by it is one module, or the types belong
// below both (src/records.ts). Run by `npm run lint`; prints each cycle and exits 1 if any.
// Imports are read by TypeScript's own pre-parser (ts.preProcessFile), not by pattern matching.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

const root = resolve(process.argv[2] ?? 'src')
const files = readdirSync(root, { recursive: true })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => join(root, f))
const known = new Set(files)

/** Each module's imports of other modules of the folder. */
const imports = new Map()
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  const targets = importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')))
    .filter((target) => known.has(target))
  imports.set(file, [...new Set(targets)])
}

// Strongly connected components (Tarjan): each of more than one module is a cycle.
let counter = 0
const order = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const cycles = []
function visit(module) {
  order.set(module, counter)
  low.set(module, counter++)
  stack.push(module)
  onStack.add(module)
  for (const next of imports.get(module)) {
    if (!order.has(next)) {
      visit(next)
      low.set(module, Math.min(low.get(module), low.get(next)))
    } else if (onStack.has(next)) {
      low.set(module, Math.min(low.get(module), order.get(next)))
    }
  }
  if (low.get(module) !== order.get(module)) return
  const component = []
  let member
  do {
    member = stack.pop()
    onStack.delete(member)
    component.push(relative(root, member))
  } while (member !== module)
  if (component.length > 1) cycles.push(component.sort())
}
for (const module of files) if (!order.has(module)) visit(module)

for (const cycle of cycles)
  console.error(`import cycle in ${relative(process.cwd(), root) || '.'}: ${cycle.join(' <-> ')}`)
process.exitCode = cycles.length > 0 ? 1 : 0
