/**
 * clients-today.ts, the host's one distinct set: batches from several
 * workers are one union per (category, group), a batch from another day is
 * left out, midnight empties it, the cap holds; and the policy metrics hand
 * each pseudonym new to a series today to the hook exactly once.
 */
import t from 'tap'
import { Registry } from 'prom-client'
import { ClientsToday } from '../../src/observability/clients-today.js'
import { localDay } from '../../src/observability/client-pseudonym.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { BLOCKED_CLIENTS_TODAY, BLOCKED_CLIENTS_TODAY_HELP } from '../../src/observability/policy-metrics.js'

const G = BLOCKED_CLIENTS_TODAY
const withGauge = (set: ClientsToday, registry = new Registry()) => {
  set.register(registry, G, BLOCKED_CLIENTS_TODAY_HELP, ['category', 'group'])
  return registry
}

t.test('one union over the workers, per series; another day is left out; midnight clears', async (t) => {
  let now = Date.UTC(2026, 5, 1, 12)
  const today = localDay(now).start
  const set = new ClientsToday(() => now)
  const registry = withGauge(set)
  set.add({ dayStart: today, clients: [[G, ['tiktok', 'staff'], 'p1'], [G, ['tiktok', 'staff'], 'p2'], [G, ['telegram', 'staff'], 'p1']] })
  set.add({ dayStart: today, clients: [[G, ['tiktok', 'staff'], 'p2'], [G, ['tiktok', 'staff'], 'p3'], ['dnsvakt_unknown_gauge', ['x'], 'p9']] })
  set.add({ dayStart: today - 86_400_000, clients: [[G, ['tiktok', 'staff'], 'old']] })
  t.equal(set.count(G, ['tiktok', 'staff']), 3, 'p1, p2, p3: the second worker\'s p2 counted once')
  t.equal(set.count(G, ['telegram', 'staff']), 1)
  t.equal(set.count('dnsvakt_unknown_gauge', ['x']), 0, 'a gauge not registered here is left out')
  t.match(await registry.metrics(), /dnsvakt_policy_blocked_clients_today\{category="tiktok",group="staff"\} 3/)
  now = localDay(now).end + 1
  t.equal(set.count(G, ['tiktok', 'staff']), 0, 'a new day starts empty')
  t.notMatch(await registry.metrics(), /group="staff"\} 3/)
})

t.test('the cap holds per series', async (t) => {
  const now = Date.UTC(2026, 5, 1, 12)
  const set = new ClientsToday(() => now, 5)
  withGauge(set)
  set.add({ dayStart: localDay(now).start, clients: Array.from({ length: 20 }, (_, i) => [G, ['tiktok', 'staff'], `p${i}`] as const) })
  t.equal(set.count(G, ['tiktok', 'staff']), 5)
})

t.test('policy metrics: the hook sees each pseudonym once per series and day, with folded labels', async (t) => {
  let now = Date.UTC(2026, 5, 1, 12)
  const m = createMetrics(new Registry(), { now: () => now, upstreams: [], groups: ['staff'], categories: ['tiktok'], defaultMetrics: false })
  const seen: string[] = []
  m.newClients.listen((gauge, [category, group], pseudonym, dayStart) => seen.push(`${gauge === G}/${category}/${group}/${pseudonym}/${dayStart === localDay(now).start}`))
  m.countBlocked('tiktok', 'staff', 'name', 'p1')
  m.countBlocked('tiktok', 'staff', 'ip', 'p1')
  m.countBlocked('tiktok', 'nobody-knows', 'name', 'p1')
  m.countBlocked('tiktok', 'staff', 'name', 'p2')
  t.same(seen, ['true/tiktok/staff/p1/true', 'true/tiktok/other/p1/true', 'true/tiktok/staff/p2/true'])
  now = localDay(now).end + 1
  m.countBlocked('tiktok', 'staff', 'name', 'p1')
  t.equal(seen.at(-1), 'true/tiktok/staff/p1/true', 'the next day it is new again, with the new day')
})
