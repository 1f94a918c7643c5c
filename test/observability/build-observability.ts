/**
 * build-observability.ts: the metrics get the label sets known at start
 * (the `default` group and the `builtin` category always among them), and
 * the observer it hands out counts and logs a blocked answer.
 */
import t from 'tap'
import pino from 'pino'
import { Registry } from 'prom-client'
import { validate } from '../../src/config/load-config.js'
import { BUILTIN_CATEGORY, buildObservability } from '../../src/observability/build-observability.js'
import { makeQuery } from '../fixtures/dns-wire.js'

t.test('label sets from config and lists, plus default and builtin; the observer counts and logs', async (t) => {
  const registry = new Registry()
  const lines: Array<Record<string, unknown>> = []
  const decisionLogger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) })
  const section = validate({ log: { clientAddress: 'full' } }, 'test').log
  const { metrics, observer } = buildObservability(section, { upstreams: ['192.0.2.53:53'], groups: ['staff'], categories: ['tiktok'] }, {
    logger: pino({ level: 'silent' }), decisionLogger, registry, now: () => Date.UTC(2026, 0, 1), version: '9.9.9',
  })
  t.equal(metrics.registry, registry, 'on the registry given')
  const series = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.map((v) => `${v.labels.category}/${v.labels.group}/${v.labels.caught_by}`)
  const blocked = await series('dnsvakt_policy_blocked_total')
  for (const s of ['tiktok/staff/name', 'tiktok/default/ip', `${BUILTIN_CATEGORY}/default/name`, `${BUILTIN_CATEGORY}/staff/cname`]) t.ok(blocked.includes(s), s)
  t.equal(BUILTIN_CATEGORY, 'builtin')
  t.match((await registry.getSingleMetric('dnsvakt_build_info')!.get()).values[0].labels, { version: '9.9.9' })

  const q = makeQuery({ name: 'use-application-dns.net' }, { address: '10.0.0.7' })
  q.group = 'staff'
  const reply = { kind: 'answer' as const, wire: Buffer.alloc(12), source: 'blocked' as const, block: { category: BUILTIN_CATEGORY, caughtBy: 'name' as const, entry: 'use-application-dns.net' } }
  observer(() => 'v7').observe(q, 'udp', 'blocked', reply, 0.0001)
  const counted = (await registry.getSingleMetric('dnsvakt_policy_blocked_total')!.get()).values.find((v) => v.labels.category === 'builtin' && v.labels.group === 'staff' && v.labels.caught_by === 'name')
  t.equal(counted?.value, 1)
  t.match(lines, [{ event: 'blocked', name: 'use-application-dns.net', category: 'builtin', client: '10.0.0.7', listVersion: 'v7' }])
})
