/**
 * Bypass telemetry through a whole gateway: each kind is counted per group
 * (no client label), distinct devices today are counted by pseudonym, and
 * ordinary queries, refused clients and dnsvakt's own DDR names are not.
 */
import t from 'tap'
import { startHarness } from '../fixtures/gateway-harness.js'
import { udpAsk } from '../fixtures/dns-client.js'

const SVCB = 'UNKNOWN_64'

t.test('every kind is counted per group; distinct clients today', async (t) => {
  const h = await startHarness({ tls: { serverName: 'dns.test' } })
  t.teardown(() => h.close())
  await udpAsk(h.port, { name: 'use-application-dns.net' })
  await udpAsk(h.port, { name: '_dns.dns.google', type: SVCB })
  await udpAsk(h.port, { name: '_853._dns.one.one.one.one', type: SVCB })
  await udpAsk(h.port, { name: 'dns.google' })
  await udpAsk(h.port, { name: 'mask.icloud.com', type: 'AAAA' })
  // Not bypasses: dnsvakt's own discovery names, ordinary and blocked-but-other names.
  await udpAsk(h.port, { name: '_dns.resolver.arpa', type: SVCB })
  await udpAsk(h.port, { name: '_dns.dns.test', type: SVCB })
  await udpAsk(h.port, { name: 'example.org' })
  await udpAsk(h.port, { name: 'tiktok.com' })
  const text = await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_policy_bypass_attempts_total')
  t.match(text, /group="default",kind="firefox-canary"} 1/)
  t.match(text, /group="default",kind="ddr-other-resolver"} 2/)
  t.match(text, /group="default",kind="doh-provider"} 1/)
  t.match(text, /group="default",kind="icloud-relay"} 1/)
  t.notMatch(text, /\{[^}]*(client|127\.0\.0\.1)/, 'no client in any label')
  const today = await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_policy_bypass_clients_today')
  t.match(today, /group="default"} 1/, 'one device (127.0.0.1) tried')
  const fresh = await startHarness()
  t.teardown(() => fresh.close())
  await udpAsk(fresh.port, { name: 'use-application-dns.net' })
  t.match(await fresh.gw.metrics.registry.getSingleMetricAsString('dnsvakt_policy_bypass_clients_today'), /group="default"} 0/, 'the canary alone makes no bypassing device')
  h.clock.ms += 86_400_000
  t.match(await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_policy_bypass_clients_today'), /group="default"} 0/, 'a new day starts at 0')
})

t.test('a client outside the access list is not counted', async (t) => {
  const h = await startHarness({ access: { allow: ['10.0.0.0/8'] } })
  t.teardown(() => h.close())
  await udpAsk(h.port, { name: '_dns.dns.google', type: SVCB })
  t.notMatch(await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_policy_bypass_attempts_total'), /} [1-9]/)
})
