import t from 'tap'
import { readFileSync } from 'node:fs'
import { Registry, register as globalRegistry } from 'prom-client'
import { createMetrics, qtypeLabel, type MetricsOptions } from '../../src/observability/metrics.js'
import { BypassTelemetry } from '../../src/observability/bypass-telemetry.js'
import { createEncryptedMetrics } from '../../src/observability/encrypted-metrics.js'
import { FeedChangeTracker } from '../../src/firewall/feed-metric.js'
import { runTool } from '../fixtures/tool.js'

const docsPath = new URL('../../docs/metrics.md', import.meta.url)

const build = (over: Partial<MetricsOptions> = {}) => {
  const clock = { t: new Date(2024, 2, 10, 12, 0).getTime() }
  const registry = new Registry()
  const m = createMetrics(registry, {
    now: () => clock.t, upstreams: ['192.0.2.53:53', '198.51.100.53:53'], groups: ['ansatte', 'skole'],
    categories: ['tiktok', 'telegram', 'doh'], version: '0.1.0', defaultMetrics: false, ...over,
  })
  // The families defined beside metrics.ts (encrypted DNS, bypass telemetry, firewall feed).
  new BypassTelemetry(registry, { groups: ['ansatte', 'skole'], now: () => clock.t })
  createEncryptedMetrics(registry)
  new FeedChangeTracker(registry)
  return { m, registry, clock }
}

/** The value of the one series of `name` whose labels include `labels`; undefined if absent. */
const value = async (r: Registry, name: string, labels: Record<string, string> = {}) => {
  const metric = r.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  const json = await metric.get()
  const hit = json.values.find((v) => Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x))
  return hit?.value
}
const series = async (r: Registry, name: string) => (await r.getSingleMetric(name)!.get()).values

t.test('countQuery labels transport, qtype and result; drops are not timed', async (t) => {
  const { m, registry: r } = build()
  m.countQuery('udp', 1, 'cached', 0.00003)
  m.countQuery('tcp', 65, 'blocked', 0.0001)
  m.countQuery('udp', 99, 'forwarded', 0.02)
  m.countQuery('udp', 4242, 'forwarded', 0.02)
  m.countQuery('udp', 0, 'dropped', 0)
  t.equal(await value(r, 'dnsvakt_dns_queries_total', { transport: 'udp', qtype: 'A', result: 'cached' }), 1)
  t.equal(await value(r, 'dnsvakt_dns_queries_total', { transport: 'tcp', qtype: 'HTTPS', result: 'blocked' }), 1)
  t.equal(await value(r, 'dnsvakt_dns_queries_total', { transport: 'udp', qtype: 'other', result: 'forwarded' }), 2)
  t.equal(await value(r, 'dnsvakt_dns_queries_total', { transport: 'udp', qtype: 'other', result: 'dropped' }), 1)
  t.equal(await value(r, 'dnsvakt_dns_queries_total', { transport: 'tcp', qtype: 'MX', result: 'servfail' }), 0, 'pre-initialised at zero')
  t.equal(await value(r, 'dnsvakt_dns_answer_duration_seconds', { result: 'cached', le: '0.00005' }), 1)
  t.equal(await value(r, 'dnsvakt_dns_answer_duration_seconds', { result: 'forwarded', le: '+Inf' }), 2)
  const drops = (await series(r, 'dnsvakt_dns_answer_duration_seconds')).filter((v) => v.labels.result === 'dropped')
  t.equal(drops.length, 0, 'no histogram series for dropped')
  t.same([1, 28, 64, 255, 3].map(qtypeLabel), ['A', 'AAAA', 'SVCB', 'ANY', 'other'])
})

t.test('countBlocked counts per category/group/caught_by and distinct clients per local day', async (t) => {
  const { m, registry: r, clock } = build()
  m.countBlocked('tiktok', 'ansatte', 'name', 'p1')
  m.countBlocked('tiktok', 'ansatte', 'cname', 'p1')
  m.countBlocked('tiktok', 'ansatte', 'ip', 'p2')
  m.countBlocked('nope', 'ghost', 'name', 'p3')
  t.equal(await value(r, 'dnsvakt_policy_blocked_total', { category: 'tiktok', group: 'ansatte', caught_by: 'name' }), 1)
  t.equal(await value(r, 'dnsvakt_policy_blocked_total', { category: 'tiktok', group: 'ansatte', caught_by: 'ip' }), 1)
  t.equal(await value(r, 'dnsvakt_policy_blocked_total', { category: 'other', group: 'other', caught_by: 'name' }), 1, 'unknown folds to other')
  t.equal(await value(r, 'dnsvakt_policy_blocked_clients_today', { category: 'tiktok', group: 'ansatte' }), 2)
  t.equal(await value(r, 'dnsvakt_policy_blocked_clients_today', { category: 'telegram', group: 'skole' }), 0)
  t.equal(await value(r, 'dnsvakt_policy_blocked_clients_today', { category: 'other', group: 'other' }), 1)
  const labels = (await series(r, 'dnsvakt_policy_blocked_total')).map((v) => `${v.labels.category}/${v.labels.group}`)
  t.notOk(labels.includes('nope/ghost'), 'never a raw unknown value')
  clock.t = new Date(2024, 2, 10, 23, 59, 59).getTime()
  m.countBlocked('tiktok', 'ansatte', 'name', 'p9')
  t.equal(await value(r, 'dnsvakt_policy_blocked_clients_today', { category: 'tiktok', group: 'ansatte' }), 3)
  clock.t = new Date(2024, 2, 11, 0, 0, 1).getTime()
  t.equal(await value(r, 'dnsvakt_policy_blocked_clients_today', { category: 'tiktok', group: 'ansatte' }), 0, 'reset at local midnight on scrape')
  m.countBlocked('tiktok', 'ansatte', 'name', 'p1')
  t.equal(await value(r, 'dnsvakt_policy_blocked_clients_today', { category: 'tiktok', group: 'ansatte' }), 1)
  t.equal(await value(r, 'dnsvakt_policy_blocked_total', { category: 'tiktok', group: 'ansatte', caught_by: 'name' }), 3, 'counter keeps counting')
})

t.test('distinct clients per series are capped', async (t) => {
  const { m, registry: r } = build({ distinctClientsCap: 2 })
  for (const p of ['a', 'b', 'c', 'd']) m.countBlocked('doh', 'skole', 'name', p)
  t.equal(await value(r, 'dnsvakt_policy_blocked_clients_today', { category: 'doh', group: 'skole' }), 2)
})

t.test('exemptions, and setLabelSets gives new groups their own series', async (t) => {
  const { m, registry: r } = build()
  m.countExemption('telegram', 'skole')
  m.countExemption('telegram', 'ledelse')
  t.equal(await value(r, 'dnsvakt_policy_exemptions_applied_total', { category: 'telegram', group: 'skole' }), 1)
  t.equal(await value(r, 'dnsvakt_policy_exemptions_applied_total', { category: 'telegram', group: 'other' }), 1)
  m.setLabelSets({ groups: ['ledelse'], categories: ['vpn'] })
  m.countExemption('telegram', 'ledelse')
  m.countBlocked('vpn', 'ledelse', 'name', 'p')
  t.equal(await value(r, 'dnsvakt_policy_exemptions_applied_total', { category: 'telegram', group: 'ledelse' }), 1)
  t.equal(await value(r, 'dnsvakt_policy_blocked_total', { category: 'vpn', group: 'ledelse', caught_by: 'name' }), 1)
  t.equal(await value(r, 'dnsvakt_policy_blocked_total', { category: 'vpn', group: 'ansatte', caught_by: 'ip' }), 0)
  m.setExemptionsActive(4)
  t.equal(await value(r, 'dnsvakt_policy_exemptions_active'), 4)
})

t.test('cache counters and scrape-time stats', async (t) => {
  const { m, registry: r } = build()
  t.equal(await value(r, 'dnsvakt_cache_entries'), 0, 'zero before a reader is set')
  m.cacheHit(); m.cacheHit(); m.cacheMiss(); m.cacheStaleAnswer()
  let entries = 10
  m.setCacheStats(() => ({ entries, bytes: entries * 100 }))
  t.equal(await value(r, 'dnsvakt_cache_hits_total'), 2)
  t.equal(await value(r, 'dnsvakt_cache_misses_total'), 1)
  t.equal(await value(r, 'dnsvakt_cache_stale_answers_total'), 1)
  t.equal(await value(r, 'dnsvakt_cache_entries'), 10)
  entries = 12
  t.equal(await value(r, 'dnsvakt_cache_bytes'), 1200, 'read again at each scrape')
})

t.test('upstream metrics; unknown upstreams fold to other and never get an up series', async (t) => {
  const { m, registry: r } = build()
  const u = '192.0.2.53:53'
  m.upstreamTry(u); m.upstreamTry(u)
  m.upstreamFailure(u, 'timeout')
  m.upstreamIgnored(u, 'wrong-id')
  m.upstreamLatency(u, 0.004)
  m.upstreamTry('203.0.113.1:53')
  m.upstreamFailure('203.0.113.1:53', 'bad-reply')
  m.setUpstreamUp(u, false)
  m.setUpstreamUp('203.0.113.1:53', false)
  t.equal(await value(r, 'dnsvakt_upstream_queries_total', { upstream: u }), 2)
  t.equal(await value(r, 'dnsvakt_upstream_queries_total', { upstream: 'other' }), 1)
  t.equal(await value(r, 'dnsvakt_upstream_failures_total', { upstream: u, reason: 'timeout' }), 1)
  t.equal(await value(r, 'dnsvakt_upstream_failures_total', { upstream: 'other', reason: 'bad-reply' }), 1)
  t.equal(await value(r, 'dnsvakt_upstream_ignored_replies_total', { upstream: u, reason: 'wrong-id' }), 1)
  t.equal(await value(r, 'dnsvakt_upstream_duration_seconds', { upstream: u, le: '0.005' }), 1)
  t.equal(await value(r, 'dnsvakt_upstream_up', { upstream: u }), 0)
  t.equal(await value(r, 'dnsvakt_upstream_up', { upstream: '198.51.100.53:53' }), 1, 'optimistic start')
  t.same((await series(r, 'dnsvakt_upstream_up')).map((v) => v.labels.upstream).sort(), ['192.0.2.53:53', '198.51.100.53:53'])
  m.setUpstreamUp(u, true)
  t.equal(await value(r, 'dnsvakt_upstream_up', { upstream: u }), 1)
})

t.test('lists: entries, reloads, one info series per version, timestamps absent until known', async (t) => {
  const { m, registry: r } = build()
  t.equal((await series(r, 'dnsvakt_lists_last_success_timestamp_seconds')).length, 0)
  t.equal((await series(r, 'dnsvakt_lists_commit_timestamp_seconds')).length, 0)
  m.setListEntries('tiktok', 'domain', 120)
  m.setListEntries('unheard-of', 'cidr', 7)
  m.countReload(true); m.countReload(false); m.countReload(false)
  m.setListVersion('aaaa111', 1_700_000_000_000, 1_699_000_000_000)
  m.setListVersion('bbbb222', 1_700_000_600_000)
  t.equal(await value(r, 'dnsvakt_lists_entries', { category: 'tiktok', kind: 'domain' }), 120)
  t.equal(await value(r, 'dnsvakt_lists_entries', { category: 'other', kind: 'cidr' }), 7)
  t.equal(await value(r, 'dnsvakt_lists_reloads_total', { result: 'success' }), 1)
  t.equal(await value(r, 'dnsvakt_lists_reloads_total', { result: 'failure' }), 2)
  t.same((await series(r, 'dnsvakt_lists_info')).map((v) => [v.labels.version, v.value]), [['bbbb222', 1]])
  t.equal(await value(r, 'dnsvakt_lists_last_success_timestamp_seconds'), 1_700_000_600)
  t.equal((await series(r, 'dnsvakt_lists_commit_timestamp_seconds')).length, 0, 'cleared for a non-git version')
  m.setListVersion('cccc333', 1_700_000_700_000, 1_699_500_000_000)
  t.equal(await value(r, 'dnsvakt_lists_commit_timestamp_seconds'), 1_699_500_000)
})

t.test('server: tcp connections, build info, default metrics on the given registry only', async (t) => {
  const { m, registry: r } = build({ defaultMetrics: true })
  m.tcpConnections(1); m.tcpConnections(1); m.tcpConnections(-1)
  t.equal(await value(r, 'dnsvakt_tcp_connections'), 1)
  t.equal(await value(r, 'dnsvakt_build_info', { version: '0.1.0', node: process.version }), 1)
  t.ok(r.getSingleMetric('dnsvakt_process_cpu_user_seconds_total'), 'process metrics are prefixed')
  t.equal(globalRegistry.getMetricsAsArray().length, 0, 'prom-client global registry untouched')
})

t.test('the exposition passes promtool check metrics (lint included)', async (t) => {
  const { m, registry: r } = build({ defaultMetrics: true })
  m.countQuery('udp', 1, 'forwarded', 0.01)
  m.countBlocked('tiktok', 'ansatte', 'name', 'p')
  m.setListVersion('aaaa111', 1_700_000_000_000, 1_699_000_000_000)
  const res = runTool('promtool', ['check', 'metrics'], { input: await r.metrics() })
  t.equal(res.status, 0, 'promtool exit status')
  t.equal(res.output.trim(), '', 'no lint problems')
})

t.test('docs/metrics.md lists exactly the metrics the registry exposes, with type and labels', async (t) => {
  const { registry: r } = build()
  const rows = new Map<string, { type: string; labels: string[] }>()
  for (const line of readFileSync(docsPath, 'utf8').split('\n')) {
    const cells = /^\| `(dnsvakt_[a-z0-9_]+)` \|([^|]*)\|([^|]*)\|/.exec(line)
    if (!cells) continue
    const labels = [...(cells[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((x) => x[1] ?? '')
    rows.set(cells[1] ?? '', { type: (cells[2] ?? '').trim(), labels: labels.sort() })
  }
  const exposed = new Map(r.getMetricsAsArray().map((metric) => {
    const { name, type, labelNames } = metric as unknown as { name: string; type: string; labelNames: string[] }
    return [name, { type, labels: [...labelNames].sort() }]
  }))
  t.same([...rows.keys()].sort(), [...exposed.keys()].sort(), 'same metric names')
  for (const [name, doc] of rows) t.same(doc, exposed.get(name), `${name}: type and labels`)
})
