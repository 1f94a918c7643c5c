/**
 * A real Prometheus (Debian's) scrapes a running gateway with the project's
 * recording and alert rules loaded; then every PromQL expression of the
 * Grafana dashboard is run against it and must return data without error.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { AdminHttp } from '../../src/server/admin-http.js'
import { udpAsk } from '../fixtures/dns-client.js'
import { dashboardExprs } from '../fixtures/dashboard-exprs.js'
import { SHIPPED_LISTS, startHarness } from '../fixtures/gateway-harness.js'
import { makeCert } from '../fixtures/test-certs.js'
import { requireTool } from '../fixtures/tool.js'

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => res(p))
    })
  })

async function promQuery(port: number, expr: string): Promise<{ status: string; data?: { result: unknown[] }; error?: string }> {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`)
  return (await r.json()) as { status: string; data?: { result: unknown[] }; error?: string }
}

t.test('Prometheus scrapes the gateway; every dashboard query returns data', async (t) => {
  requireTool('prometheus')
  const exemptions = `exemptions:\n  - id: RA-1\n    client: 127.0.0.1/32\n    categories: [telegram]\n    reason: test\n    approvedBy: iso\n    expires: "2099-01-01T00:00:00Z"\n`
  // Real time here: Prometheus stamps samples with its own clock.
  // The shipped lists plus one category in shadow, so the would-block panel has series.
  const lists = Object.fromEntries(readdirSync(SHIPPED_LISTS).filter((f) => f.endsWith('.txt') || f.endsWith('.yaml')).map((f) => [f, readFileSync(join(SHIPPED_LISTS, f), 'utf8')]))
  lists['gambling.txt'] = 'casino.example.test\n'
  const groups = { default: { enforce: ['tiktok', 'telegram', 'doh-bypass'], shadow: ['gambling'] } }
  // A DoT listener too, so the encrypted-DNS panels have data.
  const cert = makeCert()
  const h = await startHarness({ blocking: { exemptions: { maxDuration: '36500d' } }, groups, listen: { dns: ['127.0.0.1:0'], admin: '', dot: ['127.0.0.1:0'] }, tls: { certFile: cert.certFile, keyFile: cert.keyFile } }, lists)
  t.teardown(() => h.close())
  h.clock.ms = Date.now()
  writeFileSync(join(h.dir, 'exemptions.yaml'), exemptions)
  await h.gw.reload('test')
  const admin = await AdminHttp.listen('127.0.0.1', 0, {
    metrics: async () => ({ contentType: h.gw.metrics.registry.contentType, body: await h.gw.metrics.registry.metrics() }),
    ready: () => true,
    status: () => ({}),
    explain: () => {
      throw new Error('unused')
    },
    reload: async () => ({ ok: true }),
    token: null,
  })
  t.teardown(() => admin.close())

  const traffic = async () => {
    h.clock.ms = Date.now()
    for (const name of ['a.example.test', 'a.example.test', 'www.tiktok.com', 'telegram.org', 'b.example.test', 'casino.example.test']) await udpAsk(h.port, { name })
    h.up.setRule('dead.example.test', { rcode: 'SERVFAIL' })
    await udpAsk(h.port, { name: 'dead.example.test' })
  }
  await traffic()

  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-prom-'))
  const promPort = await freePort()
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: ["${resolve('deploy/prometheus/rules.yml')}"]`,
      'scrape_configs:',
      '  - job_name: dnsvakt',
      `    static_configs: [{ targets: ["127.0.0.1:${admin.port}"] }]`,
      '',
    ].join('\n'),
  )
  const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' })
  t.teardown(() => void prom.kill('SIGKILL'))
  // If Prometheus cannot start or stops, say so at once instead of polling it until the timeout.
  let exited = ''
  prom.on('error', (e) => (exited = e.message))
  prom.on('exit', (code, signal) => (exited ||= `prometheus exited (${signal ?? code})`))

  // Wait (bounded) until the target has been scraped a few times, with traffic in between so rates are non-zero.
  let up = false
  for (let i = 0; i < 60 && !up && !exited; i++) {
    await new Promise((r) => setTimeout(r, 500))
    await traffic().catch(() => {})
    const r = await promQuery(promPort, 'count_over_time(up{job="dnsvakt"}[1m]) >= 4').catch(() => null)
    up = (r?.data?.result.length ?? 0) > 0
  }
  if (exited) throw new Error(exited)
  t.ok(up, 'Prometheus scraped the gateway')
  const series = await promQuery(promPort, 'dnsvakt_dns_queries_total{result="blocked"}')
  t.ok((series.data?.result.length ?? 0) > 0, 'query counters are in Prometheus')
  const info = await promQuery(promPort, 'dnsvakt_lists_info')
  t.equal(info.data?.result.length, 1, 'one list version series')

  const exprs = dashboardExprs()
  t.ok(exprs.length >= 10, `${exprs.length} dashboard expressions`)
  // Recording rules need a couple of evaluations; retry each expression briefly.
  for (const expr of exprs) {
    let r = await promQuery(promPort, expr)
    for (let i = 0; i < 10 && r.status === 'success' && (r.data?.result.length ?? 0) === 0; i++) {
      await new Promise((res) => setTimeout(res, 500))
      await traffic().catch(() => {})
      r = await promQuery(promPort, expr)
    }
    t.equal(r.status, 'success', `runs: ${expr}`)
    t.ok((r.data?.result.length ?? 0) > 0, `returns data: ${expr}`)
  }
})
