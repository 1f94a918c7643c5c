/**
 * DoH upstreams (https-exchange.ts) through the pool, against a Node HTTP/2
 * fake on loopback with an openssl-made certificate: one reused session,
 * status and content-type checks, the ID check, failover to the next upstream.
 */
import t from 'tap'
import dnsPacket from 'dns-packet'
import { UpstreamPool } from '../../src/upstream/upstream-pool.js'
import { encodeQuery } from '../fixtures/dns-client.js'
import { makeCert } from '../fixtures/test-certs.js'
import { startFakeDoh } from '../fixtures/fake-encrypted-upstream.js'

const cert = makeCert()
const q = (name: string) => encodeQuery({ name, id: 777 })
const ip = (wire: Buffer) => (dnsPacket.decode(wire).answers?.[0] as { data?: string } | undefined)?.data
const target = (port: number, extra: Record<string, unknown> = {}) => ({ address: '127.0.0.1', port, protocol: 'https' as const, serverName: 'dns.test', path: '/dns-query', ...extra })

t.test('POSTs over one HTTP/2 session, concurrently', async (t) => {
  const up = await startFakeDoh(cert)
  const pool = new UpstreamPool([target(up.port)], { caFile: cert.certFile, tryTimeoutMs: 2000 })
  t.teardown(async () => { pool.close(); await up.close() })
  up.behave('slow.test', { delay: 100 })
  const all = await Promise.all(['slow.test', 'a.test', 'b.test'].map((n) => pool.exchange(q(n))))
  t.same(all.map((r) => ip(r.wire)), ['192.0.2.53', '192.0.2.53', '192.0.2.53'])
  t.equal(all[0].upstream, `https://127.0.0.1:${up.port}/dns-query`)
  t.equal(up.connections, 1, 'one TLS connection for all three')
  t.ok(await pool.exchange(q('c.test')))
  t.equal(up.connections, 1, 'still one, reused')
})

t.test('a non-200 status, or a reply with another ID, is a bad reply and fails over', async (t) => {
  const bad = await startFakeDoh(cert)
  const good = await startFakeDoh(cert)
  const failures: string[] = []
  const ignored: string[] = []
  const pool = new UpstreamPool([target(bad.port), target(good.port)], { caFile: cert.certFile }, {
    onFailure: (u, r) => failures.push(`${u.split(':')[2]} ${r}`), onIgnored: (_u, r) => ignored.push(r),
  })
  t.teardown(async () => { pool.close(); await bad.close(); await good.close() })
  bad.behave('x.test', { status: 503 })
  bad.behave('y.test', { forge: 'wrong-id' })
  const x = await pool.exchange(q('x.test'))
  t.equal(x.upstream, `https://127.0.0.1:${good.port}/dns-query`)
  const y = await pool.exchange(q('y.test'))
  t.equal(y.upstream, `https://127.0.0.1:${good.port}/dns-query`)
  t.same(failures, [`${bad.port}/dns-query bad-reply`, `${bad.port}/dns-query bad-reply`])
  t.same(ignored, ['wrong-id'])
})

t.test('an untrusted certificate is a network failure; the pin is checked', async (t) => {
  const up = await startFakeDoh(cert)
  const other = makeCert('DNS:dns.test', 'dns.test')
  t.teardown(() => up.close())
  const run = async (caFile: string, pins: string[]) => {
    const pool = new UpstreamPool([target(up.port, { pins })], { caFile, deadlineMs: 1500 })
    try { return ip((await pool.exchange(q('p.test'))).wire) } catch (e) { return String(((e as Error).cause as Error)?.message) } finally { pool.close() }
  }
  t.match(await run(other.certFile, []), /self.signed|verify|certificate/i)
  t.equal(await run(cert.certFile, [cert.spki]), '192.0.2.53')
  t.match(await run(cert.certFile, [other.spki]), /matches no configured pin/)
})

t.test('a GOAWAY that takes a stream down is retried once on a new session, not counted', async (t) => {
  const up = await startFakeDoh(cert)
  const failures: string[] = []
  const pool = new UpstreamPool([target(up.port)], { caFile: cert.certFile }, { onFailure: (_u, r) => failures.push(r) })
  t.teardown(async () => { pool.close(); await up.close() })
  t.ok(await pool.exchange(q('one.test')))
  up.behave('gone.test', { goawayOnce: true })
  t.equal(ip((await pool.exchange(q('gone.test'))).wire), '192.0.2.53')
  t.equal(up.connections, 2, 'a second session')
  t.same(failures, [])
})

t.test('a DoH server that went away is a network failure (the pool fails over on it)', async (t) => {
  const up = await startFakeDoh(cert)
  const pool = new UpstreamPool([target(up.port)], { caFile: cert.certFile })
  t.teardown(async () => { pool.close() })
  t.ok(await pool.exchange(q('one.test')))
  await up.close()
  await t.rejects(pool.exchange(q('two.test')), { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' })
})
