/**
 * The miss path through encrypted upstreams in a whole gateway: a client asks
 * over plain UDP (and over DoT), dnsvakt forwards over DoT (`tls://`) or DoH
 * (`https://`) to local fakes with openssl certificates, and fails over from
 * a DoT upstream whose certificate does not match to the next one.
 */
import t from 'tap'
import { startHarness } from '../fixtures/gateway-harness.js'
import { makeCert } from '../fixtures/test-certs.js'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeDoh, startFakeDot } from '../fixtures/fake-encrypted-upstream.js'

const cert = makeCert()
const aOf = (r: { answers?: unknown[] }) => (r.answers?.[0] as { data?: string } | undefined)?.data

t.test('DoT upstream serves the misses; blocked names never reach it', async (t) => {
  const dot = await startFakeDot(cert)
  const h = await startHarness({ upstream: { servers: [`tls://127.0.0.1:${dot.port}#dns.test?pin=sha256/${cert.spki}`], caFile: cert.certFile, tryTimeout: '1s', deadline: '2s' } })
  t.teardown(async () => { await h.close(); await dot.close() })
  t.equal(aOf(await udpAsk(h.port, { name: 'example.org' })), '192.0.2.53')
  t.equal(aOf(await udpAsk(h.port, { name: 'example.com' })), '192.0.2.53')
  t.equal((await udpAsk(h.port, { name: 'tiktok.com' })).rcode, 'NXDOMAIN')
  t.same(dot.names, ['example.org', 'example.com'])
  t.equal(dot.connections, 1, 'one reused connection')
  t.match(await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_upstream_queries_total'), new RegExp(`upstream="tls://127.0.0.1:${dot.port}"} 2`))
})

t.test('DoH upstream serves the misses', async (t) => {
  const doh = await startFakeDoh(cert)
  const h = await startHarness({ upstream: { servers: [`https://127.0.0.1:${doh.port}/dns-query#dns.test`], caFile: cert.certFile, tryTimeout: '1s', deadline: '2s' } })
  t.teardown(async () => { await h.close(); await doh.close() })
  t.equal(aOf(await udpAsk(h.port, { name: 'example.org' })), '192.0.2.53')
  t.same(doh.names, ['example.org'])
})

t.test('a DoT upstream with the wrong name fails over to the next, and is marked down', async (t) => {
  const dot = await startFakeDot(cert)
  const h = await startHarness({ upstream: { servers: [`tls://127.0.0.1:${dot.port}#not-the-name.test`, `tls://127.0.0.1:${dot.port}#dns.test`], caFile: cert.certFile, failuresBeforeDown: 1, tryTimeout: '1s', deadline: '2s' } })
  t.teardown(async () => { await h.close(); await dot.close() })
  t.equal(aOf(await udpAsk(h.port, { name: 'example.org' })), '192.0.2.53')
  const health = h.gw.pools[0].health()
  t.same(health.map((x) => x.up), [false, true])
})
