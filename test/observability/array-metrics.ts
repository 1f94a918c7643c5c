/**
 * The typed-array metrics must expose exactly what prom-client's own Counter
 * and Histogram would for the same observations: prom-client is the oracle.
 */
import t from 'tap'
import { Counter, Histogram, Registry } from 'prom-client'
import { ArrayCounter, ArrayHistogram } from '../../src/observability/array-metrics.js'

const exposition = async (r: Registry) => (await r.metrics()).split('\n').filter((l) => l && !l.startsWith('#')).sort()

t.test('ArrayHistogram matches prom-client Histogram', async (t) => {
  const buckets = [0.001, 0.01, 0.1, 1]
  const ours = new Registry()
  const theirs = new Registry()
  const a = new ArrayHistogram('x_seconds', 'help', buckets, [{ result: 'a' }, { result: 'b' }], ours)
  const h = new Histogram({ name: 'x_seconds', help: 'help', labelNames: ['result'], buckets, registers: [theirs] })
  h.zero({ result: 'a' })
  h.zero({ result: 'b' })
  let seed = 7
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    const v = (seed % 3000) / 1000 // 0 .. 3 s, some above the last bucket, some exactly on a bound
    const set = i % 3 === 0 ? 1 : 0
    a.observe(set, v === 0.1 ? 0.1 : v)
    h.observe({ result: set ? 'b' : 'a' }, v === 0.1 ? 0.1 : v)
  }
  a.observe(0, 0.01)
  h.observe({ result: 'a' }, 0.01)
  t.same(await exposition(ours), await exposition(theirs))
  a.reset()
  t.match(await ours.metrics(), /x_seconds_count\{result="a"\} 0/)
})

t.test('ArrayCounter matches prom-client Counter, with and without labels', async (t) => {
  const ours = new Registry()
  const theirs = new Registry()
  const sets = [{ k: 'x' }, { k: 'y' }]
  const a = new ArrayCounter('c_total', 'help', sets, ours)
  const plain = new ArrayCounter('p_total', 'help', [], ours)
  const c = new Counter({ name: 'c_total', help: 'help', labelNames: ['k'], registers: [theirs] })
  const p = new Counter({ name: 'p_total', help: 'help', registers: [theirs] })
  c.inc({ k: 'x' }, 0)
  for (let i = 0; i < 7; i++) a.cells[1]++, c.inc({ k: 'y' })
  for (let i = 0; i < 3; i++) plain.cells[0]++, p.inc()
  t.same(await exposition(ours), await exposition(theirs))
  t.same(a.labelNames, ['k'])
  t.same(plain.labelNames, [])
})
