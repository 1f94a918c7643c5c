/**
 * TopNames (Space-Saving) against an exact count: it never holds more than
 * its capacity, every name seen more than total/capacity times is kept, and
 * each kept count is within its reported error of the true count.
 */
import t from 'tap'
import { TopNames } from '../../src/candidate/top-names.js'
import { prng } from '../fixtures/dns-wire.js'

t.test('exact while the names fit', async (t) => {
  const top = new TopNames(3)
  for (const n of ['a', 'b', 'a', 'c', 'a', 'b']) top.add(n, { category: 'x', entry: n })
  t.same(top.top().map((x) => [x.name, x.count, x.error]), [['a', 3, 0], ['b', 2, 0], ['c', 1, 0]])
  t.equal(top.seen, 6)
  t.same(top.top(1).map((x) => x.detail), [{ category: 'x', entry: 'a' }], 'the detail of the first sighting')
  top.clear()
  t.same(top.top(), [])
  t.throws(() => new TopNames(0))
})

t.test('bounded, with the heavy names kept and counts within their error, on a skewed stream', async (t) => {
  const capacity = 20
  const top = new TopNames(capacity)
  const exact = new Map<string, number>()
  const random = prng(7)
  const total = 50_000
  for (let i = 0; i < total; i++) {
    // Zipf-like: a few names are frequent, thousands are seen once or twice.
    const name = `n${Math.floor(Math.pow(random(), 4) * 5000)}.example`
    exact.set(name, (exact.get(name) ?? 0) + 1)
    top.add(name, {})
  }
  const kept = top.top()
  t.ok(kept.length <= capacity, `${kept.length} kept`)
  for (const k of kept) {
    const truth = exact.get(k.name)!
    t.ok(k.count >= truth && k.count - k.error <= truth, `${k.name}: ${k.count - k.error} <= ${truth} <= ${k.count}`)
  }
  const heavy = [...exact].filter(([, n]) => n > total / capacity).map(([name]) => name)
  t.ok(heavy.length > 0, `${heavy.length} heavy names`)
  for (const name of heavy) t.ok(kept.some((k) => k.name === name), `${name} (${exact.get(name)}) is kept`)
})
