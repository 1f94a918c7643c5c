/**
 * build-pools.ts: "resolv.conf" entries become that file's nameservers (read
 * once for every list that names it), zones are normalised, each pool gets
 * the section's options, and the hooks reach metrics and the log. Pools talk
 * to real fake upstreams on loopback.
 */
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dnsPacket from 'dns-packet'
import pino from 'pino'
import { validate } from '../../src/config/load-config.js'
import { allUpstreams, buildPools, poolHooks, resolveUpstreams, upstreamLabels, type UpstreamMetrics } from '../../src/upstream/build-pools.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'

const resolvConf = (t: { teardown(fn: () => void): void }, text: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-pools-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'resolv.conf'), text)
  return join(dir, 'resolv.conf')
}
const query = (name: string) => dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] })

t.test('resolveUpstreams: resolv.conf expanded in place, zones lower-case without the dot', async (t) => {
  const file = resolvConf(t, 'search example\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver not-an-ip\n')
  const section = validate({ upstream: { servers: ['198.51.100.1:5300', 'resolv.conf'], resolvConf: file, zones: [{ zone: 'AD.Example.', servers: ['resolv.conf', 'tcp://10.1.1.10'] }] } }, 'test').upstream
  const skipped: string[] = []
  const r = resolveUpstreams(section, (p) => skipped.push(p))
  t.same(r.servers, [
    { address: '198.51.100.1', port: 5300, protocol: 'udp' },
    { address: '192.0.2.53', port: 53, protocol: 'udp' },
    { address: 'fe80::1%eth0', port: 53, protocol: 'udp' },
  ])
  t.same(r.zones, [{ zone: 'ad.example', servers: [r.servers[1], r.servers[2], { address: '10.1.1.10', port: 53, protocol: 'tcp' }] }])
  t.equal(skipped.length, 1, 'the bad nameserver line is reported once, though resolv.conf is named twice')
  t.match(skipped[0], /resolv\.conf:4: "nameserver not-an-ip"/)
  t.equal(allUpstreams(r).length, 6)
  t.same(upstreamLabels(r), ['198.51.100.1:5300', '192.0.2.53:53', '[fe80::1%eth0]:53', '10.1.1.10:53'], 'distinct labels')
})

t.test('resolveUpstreams: an unreadable resolv.conf is a config error naming the key', async (t) => {
  const section = validate({ upstream: { resolvConf: '/nonexistent/resolv.conf' } }, 'test').upstream
  t.throws(() => resolveUpstreams(section), { code: 'DNSVAKT_ERR_CONFIG', message: /upstream\.servers uses "resolv\.conf" but \/nonexistent\/resolv\.conf cannot be read/ })
  const explicit = validate({ upstream: { servers: ['192.0.2.1:53'], resolvConf: '/nonexistent/resolv.conf' } }, 'test').upstream
  t.same(resolveUpstreams(explicit).servers, [{ address: '192.0.2.1', port: 53, protocol: 'udp' }], 'not read when not named')
})

t.test('buildPools: a default pool and a pool per zone, each answering from its own upstreams', async (t) => {
  const main = await startFakeUpstream({ defaultRule: { answers: [{ type: 'A', data: '192.0.2.1' }] } })
  const ad = await startFakeUpstream({ defaultRule: { answers: [{ type: 'A', data: '10.1.1.1' }] } })
  t.teardown(() => Promise.all([main.close(), ad.close()]))
  const section = validate({ upstream: { servers: [main.label], zones: [{ zone: 'ad.example', servers: [ad.label] }], tryTimeout: '300ms', deadline: '900ms', strategy: 'round-robin' } }, 'test').upstream
  const calls: string[] = []
  const pools = buildPools(section, resolveUpstreams(section), { onTry: (u) => calls.push(u) }, Date.now)
  t.teardown(() => pools.close())
  t.equal(pools.all.length, 2)
  t.equal(pools.zonePools[0].zone, 'ad.example')
  t.same(pools.all, [pools.pool, pools.zonePools[0].pool], 'default pool first')
  const a = dnsPacket.decode((await pools.pool.exchange(query('www.example.test'))).wire)
  const b = dnsPacket.decode((await pools.zonePools[0].pool.exchange(query('dc1.ad.example'))).wire)
  t.same([(a.answers?.[0] as { data: string }).data, (b.answers?.[0] as { data: string }).data], ['192.0.2.1', '10.1.1.1'])
  t.same(calls, [main.label, ad.label], 'the hooks given are the pools\' hooks')
  t.same(pools.pool.health().map((h) => h.upstream), [main.label])
})

t.test('poolHooks: every hook reaches its metric; health changes are logged', async (t) => {
  const seen: string[] = []
  const metrics: UpstreamMetrics = {
    upstreamTry: (u) => seen.push(`try ${u}`),
    upstreamFailure: (u, r) => seen.push(`failure ${u} ${r}`),
    upstreamIgnored: (u, r) => seen.push(`ignored ${u} ${r}`),
    upstreamLatency: (u, s) => seen.push(`latency ${u} ${s}`),
    setUpstreamUp: (u, up) => seen.push(`up ${u} ${up}`),
  }
  const lines: Array<{ level: number; event: string; upstream: string }> = []
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) })
  const h = poolHooks(metrics, log)
  h.onTry?.('a:53')
  h.onFailure?.('a:53', 'timeout')
  h.onIgnored?.('a:53', 'wrong-id')
  h.onLatency?.('a:53', 0.01)
  h.onHealthChange?.('a:53', false)
  h.onHealthChange?.('a:53', true)
  t.same(seen, ['try a:53', 'failure a:53 timeout', 'ignored a:53 wrong-id', 'latency a:53 0.01', 'up a:53 false', 'up a:53 true'])
  t.match(lines, [{ level: 40, event: 'upstream-down', upstream: 'a:53' }, { level: 30, event: 'upstream-up', upstream: 'a:53' }])
})
