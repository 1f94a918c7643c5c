/**
 * bind-listeners.ts on real loopback sockets: UDP and TCP on every address of
 * listen.dns, on one port each; a bind that fails names the key and the
 * address in one line, and the sockets already open are closed again.
 */
import t from 'tap'
import { createSocket, type Socket } from 'node:dgram'
import { createServer, type Server } from 'node:net'
import { validate } from '../../src/config/load-config.js'
import { emptyReply } from '../../src/dns/build-reply.js'
import { RCODE } from '../../src/dns/constants.js'
import { isDnsvaktError } from '../../src/errors.js'
import { bindListeners, listenError } from '../../src/server/bind-listeners.js'
import { QueryHandler } from '../../src/server/query-handler.js'
import { decode, encodeQuery, tcpAskMany, udpAsk } from '../fixtures/dns-client.js'
import { snapshotOf } from '../fixtures/dns-wire.js'

/** Answers REFUSED to everything: enough to see which listeners answer. */
const handler = () => {
  const snapshot = snapshotOf({ categories: [] })
  return new QueryHandler((q) => ({ kind: 'answer', wire: emptyReply(q, RCODE.REFUSED), source: 'refused' }), () => snapshot, Date.now, { observe() {} })
}
const listen = (dns: string[]) => validate({ listen: { dns } }, 'test').listen

const udpHolder = (address: string, port = 0) =>
  new Promise<Socket>((resolve, reject) => {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4')
    s.once('error', reject)
    s.bind(port, address, () => resolve(s))
  })
const tcpHolder = (address: string, port = 0) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(port, address, () => resolve(s))
  })
/** A port that was free a moment ago (for checking that a failed start let go of it). */
const freePort = async () => {
  const s = await udpHolder('127.0.0.1')
  const port = s.address().port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

t.test('UDP and TCP on every address, one port per address; close frees them', async (t) => {
  const connections: number[] = []
  const l = await bindListeners(listen(['127.0.0.1:0', '[::1]:0']), handler(), (d) => connections.push(d))
  t.same(l.bound.map((b) => b.address), ['127.0.0.1', '::1'])
  for (const { address, port } of l.bound) {
    t.ok(port > 0, `${address}: a port was picked`)
    t.equal((await udpAsk(port, { name: 'x.test' }, 2000, address)).rcode, 'REFUSED', `${address}: UDP answers`)
    const [tcp] = await tcpAskMany(port, [encodeQuery({ name: 'x.test' })], {}, address)
    t.equal(decode(tcp).rcode, 'REFUSED', `${address}: TCP answers on the same port`)
  }
  t.ok(connections.includes(1), 'TCP connections are reported')
  const port = l.bound[0].port
  await l.stopAccepting(100)
  await l.close()
  const again = await bindListeners(listen([`127.0.0.1:${port}`]), handler(), () => {})
  t.equal(again.bound[0].port, port, 'the port is free again after close')
  await again.close()
})

t.test('a busy UDP port: one line naming listen.dns and the address; the listeners already bound are closed', async (t) => {
  const busy = await udpHolder('127.0.0.1')
  t.teardown(() => busy.close())
  const busyPort = busy.address().port
  const first = await freePort()
  const failed = await bindListeners(listen([`127.0.0.1:${first}`, `127.0.0.1:${busyPort}`]), handler(), () => {}).catch((e: unknown) => e)
  t.ok(isDnsvaktError(failed, 'DNSVAKT_ERR_LISTEN'), String(failed))
  t.equal((failed as Error).message, `listen.dns: cannot listen on 127.0.0.1:${busyPort} (UDP): the port is already in use (another DNS server, or dnsvakt already running?)`)
  t.notOk((failed as Error).message.includes('\n'), 'one line')
  const u = await udpHolder('127.0.0.1', first)
  const s = await tcpHolder('127.0.0.1', first)
  t.pass(`the first listener's UDP and TCP sockets on ${first} were closed`)
  u.close()
  s.close()
})

t.test('a busy TCP port is named as TCP, with IPv6 in brackets', async (t) => {
  const busy = await tcpHolder('::1')
  t.teardown(() => busy.close())
  const port = (busy.address() as { port: number }).port
  const failed = await bindListeners(listen([`[::1]:${port}`]), handler(), () => {}).catch((e: unknown) => e)
  t.match((failed as Error).message, new RegExp(`^listen\\.dns: cannot listen on \\[::1\\]:${port} \\(TCP\\): the port is already in use`))
  t.ok(await udpHolder('::1', port).then((s) => (s.close(), true)), 'the UDP socket bound before it was closed')
})

t.test('listenError: permission and address errors get their own reason; anything else passes through', async (t) => {
  const errno = (code: string) => Object.assign(new Error(code), { code })
  const where = { address: '10.0.0.53', port: 53 }
  t.match((listenError('listen.admin', where, 'HTTP', errno('EACCES')) as Error).message, /^listen\.admin: cannot listen on 10\.0\.0\.53:53 \(HTTP\): permission denied \(ports below 1024 need root or CAP_NET_BIND_SERVICE\)$/)
  t.match((listenError('listen.dns', where, 'UDP', errno('EADDRNOTAVAIL')) as Error).message, /this host has no such address$/)
  const other = errno('EMFILE')
  t.equal(listenError('listen.dns', where, 'UDP', other), other)
  t.equal(listenError('listen.dns', where, 'UDP', null), null)
})
