import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { parse } from 'yaml'
import { createMetrics } from '../../src/observability/metrics.js'
import { BypassTelemetry } from '../../src/observability/bypass-telemetry.js'
import { createEncryptedMetrics } from '../../src/observability/encrypted-metrics.js'
import { FeedChangeTracker } from '../../src/firewall/feed-metric.js'
import { allPanels, dashboardExprs, loadDashboard, metricNames, substitute } from '../fixtures/dashboard-exprs.js'
import { runTool } from '../fixtures/tool.js'

const rulesPath = new URL('../../deploy/prometheus/rules.yml', import.meta.url)
const dashboard = loadDashboard()

/** Series names the gateway exposes: histograms add _bucket/_sum/_count. */
const exposedNames = (): Set<string> => {
  const registry = new Registry()
  createMetrics(registry, { upstreams: ['192.0.2.53:53'], groups: ['g'], categories: ['c'], defaultMetrics: true })
  new BypassTelemetry(registry, { groups: ['g'] })
  createEncryptedMetrics(registry)
  new FeedChangeTracker(registry)
  const names = new Set<string>()
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string }
    names.add(name)
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s)
  }
  return names
}
const recordedNames = (): Set<string> => {
  const doc = parse(readFileSync(rulesPath, 'utf8')) as { groups: { rules: { record?: string }[] }[] }
  return new Set(doc.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))))
}

t.test('the dashboard takes its datasource from ${DS_PROMETHEUS}', async (t) => {
  const ds = dashboard.templating?.list?.find((v) => v.name === 'DS_PROMETHEUS')
  t.equal(ds?.type, 'datasource')
  for (const p of allPanels().filter((p) => p.type !== 'row')) {
    t.match(p, { datasource: { uid: '${DS_PROMETHEUS}' } }, `${p.title}: datasource`)
  }
})

t.test('every panel has at least one target with a non-empty expr', async (t) => {
  const panels = allPanels().filter((p) => p.type !== 'row')
  t.ok(panels.length >= 10, `${panels.length} panels`)
  for (const p of panels) {
    t.ok((p.targets ?? []).some((x) => (x.expr ?? '').trim() !== ''), `${p.title}: has an expr`)
  }
})

t.test('every metric an expr uses is exposed by the registry or recorded by rules.yml', async (t) => {
  const known = new Set([...exposedNames(), ...recordedNames(), 'up'])
  const exprs = dashboardExprs()
  const recorded = recordedNames()
  t.ok(exprs.some((e) => metricNames(e).some((n) => recorded.has(n))), 'the dashboard uses the recording rules')
  for (const e of exprs) {
    const names = metricNames(e)
    t.ok(names.length > 0, `names found in ${e}`)
    for (const n of names) t.ok(known.has(n), `${n} (in ${e})`)
  }
})

t.test('the dashboard covers the required views', async (t) => {
  const all = dashboardExprs().join('\n')
  for (const n of [
    'dnsvakt:dns_queries:rate5m', 'dnsvakt:policy_blocked:rate5m', 'dnsvakt_policy_blocked_clients_today',
    'dnsvakt:cache_hit:ratio_rate5m', 'dnsvakt:upstream_duration_seconds:p50_rate5m', 'dnsvakt:upstream_duration_seconds:p99_rate5m',
    'dnsvakt_upstream_up', 'dnsvakt_lists_info', 'dnsvakt_lists_last_success_timestamp_seconds', 'dnsvakt_lists_reloads_total',
    'dnsvakt_policy_exemptions_active', 'dnsvakt_policy_exemptions_applied_total', 'dnsvakt:dns_servfail:ratio_rate5m',
    'dnsvakt_policy_would_block_total',
  ]) t.ok(all.includes(n), n)
})

t.test('variables are substituted to match-all and the result is valid PromQL (promtool)', async (t) => {
  t.equal(substitute('x{a=~"$group", b=~"${category:regex}"}[$__rate_interval]'), 'x{a=~".*", b=~".*"}[5m]')
  const exprs = dashboardExprs()
  for (const e of exprs) t.notMatch(e, /\$/, `no variable left: ${e}`)
  // promtool has no "check expr"; wrapping each expr in a recording rule makes check rules parse it.
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-dash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'exprs.yml')
  const rules = exprs.map((expr, i) => `      - record: dashboard:expr:${i}\n        expr: ${JSON.stringify(expr)}`)
  writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`)
  const res = runTool('promtool', ['check', 'rules', file])
  t.equal(res.status, 0, res.output)
})
