import t from 'tap'
import { closest, editDistance } from '../src/suggest.js'

t.test('closest suggests a near key, or nothing', async (t) => {
  const keys = ['paths', 'ignore', 'concurrency', 'follow_symlinks', 'hidden']
  const cases: [string, string | undefined][] = [
    ['concurency', 'concurrency'],
    ['followSymlinks', 'follow_symlinks'],
    ['follow-symlinks', 'follow_symlinks'],
    ['Paths', 'paths'],
    ['path', 'paths'],
    ['hiden', 'hidden'],
    ['columns', undefined],
    ['x', undefined],
  ]
  for (const [text, expected] of cases) t.equal(closest(text, keys), expected, text)
})

t.test('edit distance, with a cap for early exit', async (t) => {
  t.equal(editDistance('kitten', 'sitting'), 3)
  t.equal(editDistance('', 'abc'), 3)
  t.equal(editDistance('CTDIvol', 'SliceLocation', 2), 2, 'gives up at the cap')
})
