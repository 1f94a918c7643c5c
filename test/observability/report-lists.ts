/**
 * report-lists.ts: the first lists and every reload reach metrics and the
 * log. A scripted loader stands in for the list folder, so each reload's
 * outcome (a new category, a refusal) is chosen by the test.
 */
import t from 'tap'
import pino from 'pino'
import { Registry } from 'prom-client'
import { PolicySnapshot } from '../../src/lists/policy-snapshot.js'
import { PolicyStore } from '../../src/lists/policy-store.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { reportLists } from '../../src/observability/report-lists.js'
import { snapshotOf } from '../fixtures/dns-wire.js'

const withProblems = (s: PolicySnapshot, problems: PolicySnapshot['problems']) =>
  new PolicySnapshot(s.version, s.categories, s.allow, s.exemptions, s.loadedAt, problems, s.dir)

async function setup() {
  const first = withProblems(snapshotOf({ version: 'v1', categories: [{ name: 'tiktok', domains: ['tiktok.com', 'tiktokv.com'], cidrs: ['192.0.2.0/24'] }], allow: ['ok.tiktok.com'] }), [
    { file: 'tiktok.txt', line: 3, message: 'not a name', text: 'bad line' },
  ])
  const next: Array<PolicySnapshot | Error> = [first]
  const registry = new Registry()
  const metrics = createMetrics(registry, { upstreams: [], groups: ['default'], categories: ['tiktok'], defaultMetrics: false })
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) })
  const store = await PolicyStore.open(() => ({ dir: '/lists' }) as never, {}, async () => {
    const n = next.shift()
    if (n instanceof Error) throw n
    return n!
  })
  const clock = { ms: 1_700_000_000_000 }
  reportLists(store, metrics, log, () => clock.ms)
  const value = async (name: string, labels: Record<string, string> = {}) =>
    (await registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x))?.value
  return { store, next, lines, value, clock }
}

t.test('the first lists: entries per category and kind, version, one success, problems logged', async (t) => {
  const { lines, value } = await setup()
  t.equal(await value('dnsvakt_lists_entries', { category: 'tiktok', kind: 'domain' }), 2)
  t.equal(await value('dnsvakt_lists_entries', { category: 'tiktok', kind: 'cidr' }), 1)
  t.equal(await value('dnsvakt_lists_entries', { category: 'other', kind: 'allow' }), 1, 'the allow list is no category: it is counted under other')
  t.equal(await value('dnsvakt_lists_info', { version: 'v1' }), 1)
  t.equal(await value('dnsvakt_lists_last_success_timestamp_seconds'), 1_700_000_000)
  t.equal(await value('dnsvakt_lists_reloads_total', { result: 'success' }), 1)
  t.equal(await value('dnsvakt_policy_exemptions_active'), 0)
  t.match(lines, [
    { level: 40, event: 'list-problems', msg: '1 list line(s) left out; fix them in git' },
    { level: 30, event: 'lists-loaded', version: 'v1' },
  ])
})

t.test('a reload with a new category gives it its own labels; a refused one is counted and logged', async (t) => {
  const { store, next, lines, value, clock } = await setup()
  next.push(snapshotOf({ version: 'v2', categories: [{ name: 'tiktok', domains: ['tiktok.com'], cidrs: ['192.0.2.0/24'] }, { name: 'vpn', domains: ['vpn.example'] }] }))
  clock.ms += 60_000
  t.match(await store.reload('test'), { ok: true, version: 'v2' })
  t.equal(await value('dnsvakt_lists_entries', { category: 'vpn', kind: 'domain' }), 1, 'not folded into other')
  t.equal(await value('dnsvakt_policy_blocked_total', { category: 'vpn', group: 'default', caught_by: 'name' }), 0, 'the new category has its series')
  t.equal(await value('dnsvakt_lists_info', { version: 'v1' }), undefined, 'the old version is gone')
  t.equal(await value('dnsvakt_lists_last_success_timestamp_seconds'), 1_700_000_060)
  t.match(lines.at(-1), { event: 'lists-reloaded', trigger: 'test', version: 'v2', changed: true })
  next.push(new Error('disk on fire'))
  t.match(await store.reload('SIGHUP'), { ok: false, version: 'v2' })
  t.equal(await value('dnsvakt_lists_reloads_total', { result: 'failure' }), 1)
  t.equal(await value('dnsvakt_lists_reloads_total', { result: 'success' }), 2)
  t.match(lines.at(-1), { level: 40, event: 'lists-reload-refused', trigger: 'SIGHUP', problems: ['disk on fire'] })
})
