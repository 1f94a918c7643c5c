/**
 * DoT upstreams (tls-exchange.ts) through the pool, against a Node TLS fake
 * and against a real Unbound serving DoT on loopback (tls-service-key/pem).
 * Certificates come from openssl; the pin is computed by openssl.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:net'
import dnsPacket from 'dns-packet'
import { UpstreamPool } from '../../src/upstream/upstream-pool.js'
import { encodeQuery } from '../fixtures/dns-client.js'
import { makeCert } from '../fixtures/test-certs.js'
import { startFakeDot } from '../fixtures/fake-encrypted-upstream.js'
import { requireTool } from '../fixtures/tool.js'

// The real tools this file runs (listed in scripts/ensure-test-tools.sh): fail at once when one is missing.
requireTool('unbound')

const cert = makeCert()
const other = makeCert('DNS:other.test', 'other.test')
const q = (name: string) => encodeQuery({ name, id: 4242 })
const ip = (wire: Buffer) => (dnsPacket.decode(wire).answers?.[0] as { data?: string } | undefined)?.data

t.test('answers over one reused connection, pipelined, with a fresh ID each', async (t) => {
  const up = await startFakeDot(cert)
  const failures: string[] = []
  const pool = new UpstreamPool([{ address: '127.0.0.1', port: up.port, protocol: 'tls', serverName: 'dns.test', pins: [] }], { caFile: cert.certFile, tryTimeoutMs: 2000 }, { onFailure: (_u, r) => failures.push(r) })
  t.teardown(async () => { pool.close(); await up.close() })
  up.behave('slow.test', { delay: 150 })
  const slow = pool.exchange(q('slow.test'))
  const fast = await Promise.all([pool.exchange(q('a.test')), pool.exchange(q('B.test'))])
  t.equal(up.connections, 1, 'the queries share one TLS connection')
  t.equal(ip(fast[0].wire), '192.0.2.53')
  t.equal(fast[0].upstream, `tls://127.0.0.1:${up.port}`)
  t.not(fast[0].wire.readUInt16BE(0), 4242, 'our own random ID, not the client one')
  t.equal(ip((await slow).wire), '192.0.2.53', 'a slow answer arrives after faster ones on the same connection')
  t.same(failures, [])
})

t.test('a forged reply on the connection is reported and ignored; the real one is taken', async (t) => {
  const up = await startFakeDot(cert)
  const ignored: string[] = []
  const pool = new UpstreamPool([{ address: '127.0.0.1', port: up.port, protocol: 'tls', serverName: 'dns.test' }], { caFile: cert.certFile }, { onIgnored: (_u, r) => ignored.push(r) })
  t.teardown(async () => { pool.close(); await up.close() })
  up.behave('forged.test', { forge: 'wrong-id' })
  // The forged copy carries ID+1: ignored only when that ID is one we wait for; here nobody waits, so it is dropped.
  t.equal(ip((await pool.exchange(q('forged.test'))).wire), '192.0.2.53')
})

t.test('certificate checks: wrong name, unknown CA, pin match and mismatch', async (t) => {
  const up = await startFakeDot(cert)
  t.teardown(() => up.close())
  const tryWith = async (target: Record<string, unknown>, caFile: string) => {
    const pool = new UpstreamPool([{ address: '127.0.0.1', port: up.port, protocol: 'tls', ...target }], { caFile, tryTimeoutMs: 1500, deadlineMs: 1500 })
    try { return ip((await pool.exchange(q('x.test'))).wire) } catch (e) { return `${(e as Error).message}: ${((e as Error).cause as Error | undefined)?.message}` } finally { pool.close() }
  }
  t.match(await tryWith({ serverName: 'wrong.test' }, cert.certFile), /wrong\.test|altnames/i, 'a name the certificate does not carry is refused')
  t.match(await tryWith({ serverName: 'dns.test' }, other.certFile), /certificate|self.signed|verify/i, 'a CA we do not trust is refused')
  t.equal(await tryWith({ serverName: null }, cert.certFile), '192.0.2.53', 'no name: the certificate must carry the IP (it does)')
  t.equal(await tryWith({ serverName: 'dns.test', pins: [cert.spki] }, cert.certFile), '192.0.2.53', 'matching pin')
  t.match(await tryWith({ serverName: 'dns.test', pins: [other.spki] }, cert.certFile), /matches no configured pin/, 'other key: refused')
})

t.test('a connection the server closes fails its queries over, and the next query reconnects', async (t) => {
  const up = await startFakeDot(cert)
  const failures: string[] = []
  const pool = new UpstreamPool([{ address: '127.0.0.1', port: up.port, protocol: 'tls', serverName: 'dns.test' }], { caFile: cert.certFile, deadlineMs: 1500 }, { onFailure: (_u, r) => failures.push(r) })
  t.teardown(async () => { pool.close(); await up.close() })
  t.ok(await pool.exchange(q('one.test')))
  up.behave('boom.test', { close: true })
  await t.rejects(pool.exchange(q('boom.test')), { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' })
  t.ok(failures.includes('network'))
  t.equal(ip((await pool.exchange(q('two.test'))).wire), '192.0.2.53')
  t.ok(up.connections >= 2, 'a new connection after the close')
})

t.test('a reused connection closed by the server as we write is retried once, not counted as a failure', async (t) => {
  const up = await startFakeDot(cert)
  const failures: string[] = []
  const pool = new UpstreamPool([{ address: '127.0.0.1', port: up.port, protocol: 'tls', serverName: 'dns.test' }], { caFile: cert.certFile }, { onFailure: (_u, r) => failures.push(r) })
  t.teardown(async () => { pool.close(); await up.close() })
  t.ok(await pool.exchange(q('one.test')))
  up.behave('flaky.test', { closeOnce: true })
  t.equal(ip((await pool.exchange(q('flaky.test'))).wire), '192.0.2.53')
  t.equal(up.connections, 2)
  t.same(failures, [])
})

t.test('a try that times out leaves the connection up; its late reply is dropped quietly', async (t) => {
  const up = await startFakeDot(cert)
  const failures: string[] = []
  const pool = new UpstreamPool([{ address: '127.0.0.1', port: up.port, protocol: 'tls', serverName: 'dns.test' }], { caFile: cert.certFile, tryTimeoutMs: 150, deadlineMs: 200 }, { onFailure: (_u, r) => failures.push(r) })
  t.teardown(async () => { pool.close(); await up.close() })
  up.behave('late.test', { delay: 400 })
  await t.rejects(pool.exchange(q('late.test')))
  t.ok(failures.includes('timeout'))
  await new Promise((r) => setTimeout(r, 400))
  t.equal(ip((await pool.exchange(q('next.test'))).wire), '192.0.2.53', 'the same connection still answers')
  t.equal(up.connections, 1)
})

t.test('a real Unbound DoT upstream (tls-service-key) serves the miss path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-unbound-'))
  const port = 20000 + Math.floor(Math.random() * 20000)
  writeFileSync(join(dir, 'unbound.conf'), `server:
  interface: 127.0.0.1@${port}
  tls-port: ${port}
  tls-service-key: "${cert.keyFile}"
  tls-service-pem: "${cert.certFile}"
  access-control: 127.0.0.0/8 allow
  do-daemonize: no
  use-syslog: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  module-config: "iterator"
  local-zone: "test." static
  local-data: "upstream.test. 60 IN A 192.0.2.99"
`)
  const unbound = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: 'pipe' })
  t.teardown(() => unbound.kill())
  await waitForPort(port)
  const pool = new UpstreamPool([{ address: '127.0.0.1', port, protocol: 'tls', serverName: 'dns.test', pins: [cert.spki] }], { caFile: cert.certFile, tryTimeoutMs: 2000, deadlineMs: 3000 })
  t.teardown(() => pool.close())
  const r = await pool.exchange(q('upstream.test')).catch((e: Error) => { throw new Error(`${e.message}: ${(e.cause as Error | undefined)?.message}`) })
  t.equal(ip(r.wire), '192.0.2.99', 'Unbound answered over TLS')
  t.equal(ip((await pool.exchange(q('UPSTREAM.test'))).wire), '192.0.2.99', 'and again on the same connection')
})

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true) })
      s.on('error', () => r(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`port ${port} never opened`)
}
