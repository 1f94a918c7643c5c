import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

/** Real promtool, run from the repo root; CI installs it (Debian package prometheus). */
const promtool = (...args: string[]) => {
  const res = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' })
  if (res.error) throw new Error(`promtool must be installed (apt-get install prometheus): ${res.error.message}`)
  return { status: res.status, output: `${res.stdout}${res.stderr}` }
}

interface Rule { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string> }
const rules = (parse(read('deploy/prometheus/rules.yml')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules)

t.test('promtool check rules accepts rules.yml', async (t) => {
  const r = promtool('check', 'rules', 'deploy/prometheus/rules.yml')
  t.equal(r.status, 0, r.output)
  t.match(r.output, /SUCCESS/)
})

t.test('promtool check config accepts the example prometheus.yml (and the rules it loads)', async (t) => {
  const r = promtool('check', 'config', 'deploy/prometheus/prometheus.yml')
  t.equal(r.status, 0, r.output)
  t.match(r.output, /rules\.yml/)
  const cfg = parse(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }
  t.same(cfg.rule_files, ['rules.yml'])
  t.equal(cfg.scrape_configs[0]?.job_name, 'dnsvakt')
  t.same(cfg.scrape_configs[0]?.static_configs[0]?.targets, ['127.0.0.1:9153'])
})

t.test('promtool test rules: the unit tests in rules.test.yml pass', async (t) => {
  const r = promtool('test', 'rules', 'deploy/prometheus/rules.test.yml')
  t.equal(r.status, 0, r.output)
  t.match(r.output, /SUCCESS/)
  // The brief's minimum: these alerts must be exercised firing, not only defined.
  const tests = read('deploy/prometheus/rules.test.yml')
  for (const a of ['DnsvaktAllUpstreamsDown', 'DnsvaktBypassAttempts', 'DnsvaktServfailRatioHigh', 'DnsvaktUpstreamDown', 'DnsvaktDown', 'DnsvaktListReloadStuck', 'DnsvaktListsStale', 'DnsvaktListsServingLastGood', 'DnsvaktInstancesDisagree']) {
    t.match(tests, new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${a} is tested firing`)
  }
})

t.test('the rules the brief asks for exist, every alert has a severity', async (t) => {
  const records = rules.flatMap((r) => (r.record ? [r.record] : []))
  const alerts = rules.filter((r) => r.alert)
  t.same(records.sort(), [
    'dnsvakt:cache_hit:ratio_rate5m', 'dnsvakt:dns_queries:rate5m', 'dnsvakt:dns_servfail:ratio_rate5m',
    'dnsvakt:policy_blocked:rate5m', 'dnsvakt:upstream_duration_seconds:p50_rate5m', 'dnsvakt:upstream_duration_seconds:p99_rate5m',
  ])
  t.same(alerts.map((a) => a.alert).sort(), [
    'DnsvaktAllUpstreamsDown', 'DnsvaktBypassAttempts', 'DnsvaktDown', 'DnsvaktInstancesDisagree', 'DnsvaktListReloadFailures', 'DnsvaktListReloadStuck',
    'DnsvaktListsServingLastGood', 'DnsvaktListsStale', 'DnsvaktServfailRatioHigh', 'DnsvaktUpstreamDown',
  ])
  for (const a of alerts) t.match(a.labels?.severity, /^(critical|warning)$/, `${a.alert} severity`)
  t.match(rules.find((r) => r.alert === 'DnsvaktListsStale')?.expr, /14 \* 86400/)
  t.equal(rules.find((r) => r.alert === 'DnsvaktServfailRatioHigh')?.for, '10m')
  t.equal(rules.find((r) => r.alert === 'DnsvaktUpstreamDown')?.for, '5m')
})

t.test('docs/metrics.md documents every recording and alert rule', async (t) => {
  const docs = read('docs/metrics.md')
  for (const r of rules) {
    const name = r.record ?? r.alert ?? ''
    t.ok(docs.includes(`\`${name}\``), `${name} documented`)
  }
})
