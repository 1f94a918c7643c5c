/**
 * The DoT/DoH listeners' edges: certificate reload from changed files (and
 * refusal of a key that does not match), the connection cap, the idle
 * timeout, pipelined DoT queries, and shutdown. Real TLS clients on loopback.
 */
import t from 'tap'
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as netConnect } from 'node:net'
import { connect, type TLSSocket } from 'node:tls'
import { readFileSync } from 'node:fs'
import dnsPacket from 'dns-packet'
import { startHarness } from '../fixtures/gateway-harness.js'
import pino from 'pino'
import { Registry } from 'prom-client'
import { validate } from '../../src/config/load-config.js'
import { startEncryptedListeners } from '../../src/server/encrypted-listeners.js'
import { createEncryptedMetrics } from '../../src/observability/encrypted-metrics.js'
import { readTlsPair } from '../../src/server/tls-context.js'
import { makeCert } from '../fixtures/test-certs.js'
import { encodeQuery } from '../fixtures/dns-client.js'

const first = makeCert()
const second = makeCert('DNS:dns.test,IP:127.0.0.1', 'dns.test')

async function start(t: { teardown(f: () => unknown): void }, listen: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-tls-'))
  const certFile = join(dir, 'tls.crt')
  const keyFile = join(dir, 'tls.key')
  copyFileSync(first.certFile, certFile)
  copyFileSync(first.keyFile, keyFile)
  const h = await startHarness({
    listen: { dns: ['127.0.0.1:0'], admin: '', dot: ['127.0.0.1:0'], ...listen },
    tls: { certFile, keyFile, serverName: 'dns.test', reloadInterval: '50ms' },
  })
  t.teardown(() => h.close())
  return { h, certFile, keyFile, port: h.gw.encrypted[0].port }
}

const dial = (port: number, ca: string) =>
  new Promise<TLSSocket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: readFileSync(ca), servername: 'dns.test' }, () => resolve(s))
    s.on('error', reject)
  })

/** Reads framed DNS messages until `n` have arrived. */
const readFrames = (s: TLSSocket, n: number) =>
  new Promise<Buffer[]>((resolve) => {
    let buf = Buffer.alloc(0)
    const out: Buffer[] = []
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)))
        buf = buf.subarray(2 + buf.readUInt16BE(0))
      }
      if (out.length >= n) resolve(out)
    })
  })
const frame = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])

const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 25))
  return f()
}

t.test('a changed certificate is served to new connections; a mismatched pair is refused', async (t) => {
  const { h, certFile, keyFile, port } = await start(t)
  ;(await dial(port, first.certFile)).destroy()
  copyFileSync(second.keyFile, keyFile)
  copyFileSync(second.certFile, certFile)
  const reloaded = await until(() => h.logs.some((l) => l.includes('"event":"tls-reloaded"')))
  t.ok(reloaded, 'reloaded after the files changed')
  ;(await dial(port, second.certFile)).destroy()
  await t.rejects(dial(port, first.certFile), /self.signed|verify|certificate/i, 'the old certificate is gone')
  // Mid-rotation: the first key with the second certificate.
  copyFileSync(first.keyFile, keyFile)
  t.ok(await until(() => h.logs.some((l) => l.includes('"event":"tls-reload-refused"'))), 'a key that does not fit is refused')
  ;(await dial(port, second.certFile)).destroy()
  const m = await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_tls_certificate_reloads_total')
  t.match(m, /result="success"} 1/)
  t.match(m, /result="failure"} 1/)
})

t.test('pipelined DoT queries on one connection are all answered, padded', async (t) => {
  const { port } = await start(t)
  const s = await dial(port, first.certFile)
  t.teardown(() => s.destroy())
  const got = readFrames(s, 3)
  s.write(Buffer.concat(['tiktok.com', 'example.org', 'telegram.org'].map((name, i) => frame(encodeQuery({ name, id: i + 1 })))))
  const replies = (await got).map((b) => ({ len: b.length, p: dnsPacket.decode(b) }))
  t.same(replies.map((r) => r.p.id).sort(), [1, 2, 3])
  t.ok(replies.every((r) => r.len % 468 === 0), 'every answer padded to the block')
  const byId = new Map(replies.map((r) => [r.p.id, r.p as unknown as { rcode: string }]))
  t.equal(byId.get(1)!.rcode, 'NXDOMAIN')
  t.equal(byId.get(2)!.rcode, 'NOERROR')
})

t.test('the connection cap and the idle timeout apply as for TCP', async (t) => {
  const { h, port } = await start(t, { tcpMaxConnections: 1, tcpIdleTimeout: '300ms' })
  const one = await dial(port, first.certFile)
  const closed = new Promise((r) => one.on('close', r))
  const two = await dial(port, first.certFile).then(
    (s) => new Promise<string>((r) => { s.on('close', () => r('closed')); s.on('error', () => r('closed')) }),
    () => 'refused',
  )
  t.ok(['closed', 'refused'].includes(two), `a second connection over the cap is not served (${two})`)
  await closed
  t.pass('the idle connection was closed by the server')
  let gauge = ''
  for (let i = 0; i < 100 && !/transport="dot"} 0/.test(gauge); i++) {
    gauge = await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_encrypted_connections')
    await new Promise((r) => setTimeout(r, 20))
  }
  t.match(gauge, /transport="dot"} 0/, 'the connection gauge goes back to 0')
})

t.test('close() answers what is in flight, then ends the connection', async (t) => {
  const { h, port } = await start(t)
  h.up.setRule('slow.test', { delay: 150 })
  const s = await dial(port, first.certFile)
  const got = readFrames(s, 1)
  s.write(frame(encodeQuery({ name: 'slow.test', id: 7 })))
  await until(() => h.gw.handler.inFlight > 0)
  const closing = h.gw.close(2000)
  t.equal(dnsPacket.decode((await got)[0]).id, 7)
  await closing
})

t.test('DoT: a frame that is no query is dropped and the connection goes on', async (t) => {
  const { port } = await start(t)
  const s = await dial(port, first.certFile)
  t.teardown(() => s.destroy())
  const got = readFrames(s, 1)
  s.write(Buffer.concat([frame(Buffer.alloc(5)), frame(encodeQuery({ name: 'example.org', id: 9 }))]))
  t.equal(dnsPacket.decode((await got)[0]).id, 9)
})

t.test('DoH: a body over 65535 bytes is 413, a message that is no query 400, over HTTP/2', async (t) => {
  const { h } = await start(t, { dot: [], doh: ['127.0.0.1:0'] })
  const port = h.gw.encrypted[0].port
  const { connect: h2 } = await import('node:http2')
  const session = h2(`https://127.0.0.1:${port}`, { ca: readFileSync(first.certFile), servername: 'dns.test' })
  t.teardown(() => session.close())
  const ask = (headers: Record<string, string>, body?: Buffer) =>
    new Promise<number>((resolve) => {
      const req = session.request({ ':path': '/dns-query', ...headers })
      req.on('response', (r) => resolve(Number(r[':status'])))
      req.on('error', () => resolve(-1))
      req.end(body)
    })
  t.equal(await ask({ ':method': 'POST', 'content-type': 'application/dns-message' }, Buffer.alloc(70_000)), 413)
  t.equal(await ask({ ':method': 'GET', ':path': `/dns-query?dns=${Buffer.alloc(5).toString('base64url')}` }), 400)
  t.equal(await ask({ ':method': 'POST', 'content-type': 'application/dns-message' }, encodeQuery({ name: 'example.org' })), 200)
})

t.test('start-up: warnings for a certificate without the name or the listener IPs; unreadable files refused', async (t) => {
  const bare = makeCert('DNS:elsewhere.test', 'elsewhere.test')
  const h = await startHarness({ listen: { dns: ['127.0.0.1:0'], admin: '', dot: ['127.0.0.1:0'] }, tls: { certFile: bare.certFile, keyFile: bare.keyFile, serverName: 'dns.test' } })
  t.teardown(() => h.close())
  t.ok(h.logs.some((l) => l.includes('"event":"tls-name-mismatch"')))
  t.ok(h.logs.some((l) => l.includes('"event":"ddr-unverifiable"') && l.includes('127.0.0.1')))
  t.throws(() => readTlsPair('/nonexistent.crt', bare.keyFile), { code: 'DNSVAKT_ERR_CONFIG', message: /cannot read \/nonexistent\.crt/ })
  t.throws(() => readTlsPair(bare.certFile, first.keyFile), { code: 'DNSVAKT_ERR_CONFIG', message: /does not belong/ })
})

t.test('a DoT port already in use fails start-up and closes what was bound', async (t) => {
  const { h, port } = await start(t)
  const config = validate({ listen: { dot: ['127.0.0.1:0'], doh: [`127.0.0.1:${port}`] }, tls: { certFile: first.certFile, keyFile: first.keyFile } }, 'test')
  const failed = await startEncryptedListeners(config, h.gw.handler, () => createEncryptedMetrics(new Registry()), pino({ level: 'silent' })).catch((e: unknown) => e)
  // One line naming the key and the address, as for listen.dns (bind-listeners.ts).
  t.match(failed, { code: 'DNSVAKT_ERR_LISTEN', message: new RegExp(`^listen\\.doh: cannot listen on 127\\.0\\.0\\.1:${port} \\(DoH\\): the port is already in use`) })
})

t.test('clients outside access.allow are cut before the TLS handshake, on DoT and DoH', async (t) => {
  const h = await startHarness({
    access: { allow: ['::1/128'] },
    listen: { dns: ['[::1]:0'], admin: '', dot: ['127.0.0.1:0', '[::1]:0'], doh: ['127.0.0.1:0'] },
    tls: { certFile: first.certFile, keyFile: first.keyFile },
  })
  t.teardown(() => h.close())
  const [dot4, dot6, doh4] = h.gw.encrypted.map((e) => e.port)
  // A raw TCP client from 127.0.0.1: the server closes without a byte (no ServerHello, no handshake work).
  for (const port of [dot4, doh4]) {
    const got = await new Promise<{ bytes: number; closed: boolean }>((resolve) => {
      let bytes = 0
      const s = netConnect({ host: '127.0.0.1', port }, () => s.write(Buffer.from('16030100', 'hex')))
      s.on('data', (c: Buffer) => (bytes += c.length))
      s.on('error', () => {})
      s.on('close', () => resolve({ bytes, closed: true }))
    })
    t.same(got, { bytes: 0, closed: true }, `port ${port}: closed before the handshake`)
  }
  await t.rejects(dial(dot4, first.certFile), 'a TLS client from 127.0.0.1 gets no session')
  const conns = await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_encrypted_connections')
  t.match(conns, /transport="dot"} 0/, 'never counted as a connection')
  // ::1 is allowed: the same listener kind answers it.
  const s = await new Promise<TLSSocket>((resolve, reject) => {
    const c = connect({ host: '::1', port: dot6, ca: readFileSync(first.certFile), servername: 'dns.test' }, () => resolve(c))
    c.on('error', reject)
  })
  t.teardown(() => s.destroy())
  const reply = readFrames(s, 1)
  s.write(frame(encodeQuery({ name: 'example.org', id: 7 })))
  t.equal(dnsPacket.decode((await reply)[0]).id, 7, 'an allowed client is answered')
})
