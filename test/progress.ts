import t from 'tap'
import { PassThrough } from 'node:stream'
import { progressText, startProgress } from '../src/progress.js'
import { newReadInfo } from '../src/sources/read-headers.js'

t.test('the line: done of listed, rate, failures, ETA once listing is done', async (t) => {
  const read = { ...newReadInfo(), read: 900, ignored: 50, failed: 50 }
  t.equal(
    progressText({ listed: 3000, done: false }, read, 500),
    'etl: 1,000 of 3,000 files (still listing), 2,000 files/s, 50 failed',
  )
  t.equal(
    progressText({ listed: 3000, done: true }, read, 500),
    'etl: 1,000 of 3,000 files, 2,000 files/s, 50 failed, ETA 0:01',
  )
  t.equal(progressText({ listed: 0, done: false }, newReadInfo(), 0), 'etl: 0 of 0 files (still listing), 0 files/s')
})

t.test('issue 13: from DICOMweb, instances, and series read of those listed, of so many studies', async (t) => {
  const read = { ...newReadInfo(), read: 480 }
  const web = { studies: 3, series: 12, seriesRead: 10 }
  t.equal(
    progressText({ listed: 500, done: false, web }, read, 1000),
    'etl: 480 of 500 instances, 10 of 12 series of 3 studies (still listing), 480 instances/s',
  )
})

t.test('redrawn in place, erased when stopped', async (t) => {
  const stream = new PassThrough()
  let out = ''
  stream.on('data', (d) => (out += d))
  const stop = startProgress({
    stream,
    list: { listed: 5, done: true },
    read: { ...newReadInfo(), read: 2 },
    intervalMs: 5,
  })
  await new Promise((r) => setTimeout(r, 40))
  stop()
  t.match(out, /^\retl: 2 of 5 files, [\d,]+ files\/s, ETA \d+:\d\d\x1b\[K/)
  t.ok(out.endsWith('\r\x1b[K'), 'the line is erased at the end')
})
