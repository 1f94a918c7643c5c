import t from 'tap'
import { createServer, type Socket } from 'node:net'
import dnsPacket from 'dns-packet'
import { tcpExchange } from '../../src/upstream/tcp-exchange.js'
import type { IgnoredReason } from '../../src/upstream/udp-exchange.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'

const query = (name = 'Www.Example.Test') =>
  dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] })
const frame = (msg: Buffer) => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg])
const answerOf = (msg: Buffer) => {
  const out = Buffer.from(msg)
  out[2] |= 0x80
  return out
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** A record's data (dns-packet types OPT without one). */
const dataOf = (a: dnsPacket.Answer) => (a as { data?: unknown }).data

/** A TCP server that reads one framed query and lets the test reply; counts closed connections. */
async function rawServer(onQuery: (msg: Buffer, sock: Socket) => void) {
  const state = { closed: 0 }
  const server = createServer((sock) => {
    sock.on('close', () => state.closed++)
    sock.on('error', () => {})
    const reader = new NaiveFrames()
    sock.on('data', (chunk: Buffer) => reader.push(chunk, (msg) => onQuery(msg, sock)))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return { target: { address: '127.0.0.1', port }, state, close: () => new Promise<void>((r) => server.close(() => r())) }
}
/** The server side reassembles naively (not with the FrameReader under test). */
class NaiveFrames {
  private buf = Buffer.alloc(0)
  push(chunk: Buffer, on: (m: Buffer) => void) {
    this.buf = Buffer.concat([this.buf, chunk])
    while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
      on(this.buf.subarray(2, 2 + this.buf.readUInt16BE(0)))
      this.buf = this.buf.subarray(2 + this.buf.readUInt16BE(0))
    }
  }
}

t.test('answers from the fake upstream are validated', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const reply = await tcpExchange(query(), up, { timeoutMs: 500, randomInt: () => 4321 })
  const d = dnsPacket.decode(reply)
  t.equal(d.id, 4321)
  t.equal(d.questions?.[0].name, 'Www.Example.Test')
  t.same(up.queries.map((q) => [q.transport, q.id]), [['tcp', 4321]])
  for (const [forge, reason] of [['wrong-id', 'wrong-id'], ['wrong-question', 'wrong-question']] as const) {
    up.setRule('f.test', { forge })
    const ignored: IgnoredReason[] = []
    const r = await tcpExchange(query('f.test'), up, { timeoutMs: 500, onIgnored: (x) => ignored.push(x) })
    t.same(dnsPacket.decode(r).answers?.map(dataOf), ['192.0.2.1'], forge)
    t.same(ignored, [reason])
  }
})

t.test('a reply written one byte per chunk is reassembled', async (t) => {
  const srv = await rawServer(async (msg, sock) => {
    sock.setNoDelay(true)
    const framed = frame(answerOf(msg))
    for (const byte of framed) {
      sock.write(Buffer.from([byte]))
      await sleep(1)
    }
  })
  t.teardown(() => srv.close())
  const q = query()
  const reply = await tcpExchange(q, srv.target, { timeoutMs: 2000 })
  t.equal(reply.length, q.length)
  t.equal(dnsPacket.decode(reply).questions?.[0].name, 'Www.Example.Test')
})

t.test('two replies in one chunk: the forged one is skipped, the real one taken', async (t) => {
  const srv = await rawServer((msg, sock) => {
    const forged = answerOf(msg)
    forged.writeUInt16BE(msg.readUInt16BE(0) ^ 0x8000, 0)
    sock.write(Buffer.concat([frame(forged), frame(answerOf(msg))]))
  })
  t.teardown(() => srv.close())
  const ignored: IgnoredReason[] = []
  const reply = await tcpExchange(query(), srv.target, { timeoutMs: 500, onIgnored: (r) => ignored.push(r) })
  t.equal(reply[2] & 0x80, 0x80)
  t.same(ignored, ['wrong-id'])
})

t.test('failures reject with a code and never leak the connection', async (t) => {
  const up = await startFakeUpstream({ rules: { 'drop.test': { drop: true } } })
  t.teardown(() => up.close())
  await t.rejects(tcpExchange(query('drop.test'), up, { timeoutMs: 50 }), { code: 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' })

  const junk = await rawServer((_msg, sock) => sock.end(frame(Buffer.from('not dns at all'))))
  const hangUp = await rawServer((_msg, sock) => sock.end())
  const silent = await rawServer(() => {})
  t.teardown(() => Promise.all([junk.close(), hangUp.close(), silent.close()]))
  await t.rejects(tcpExchange(query(), junk.target, { timeoutMs: 500 }), { code: 'DNSVAKT_ERR_UPSTREAM_ANSWER' }, 'closed after garbage')
  await t.rejects(tcpExchange(query(), hangUp.target, { timeoutMs: 500 }), { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' }, 'closed without an answer')

  const ac = new AbortController()
  const waiting = tcpExchange(query(), silent.target, { timeoutMs: 5000, signal: ac.signal })
  await sleep(30)
  ac.abort()
  await t.rejects(waiting, { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' }, 'aborted')
  await t.rejects(tcpExchange(query(), silent.target, { timeoutMs: 50 }), { code: 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' })
  await t.rejects(tcpExchange(query(), silent.target, { timeoutMs: 50, signal: ac.signal }), { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' }, 'already aborted')
  await sleep(30)
  t.equal(silent.state.closed, 2, 'the server saw both connections closed')

  // A port nothing listens on: connection refused at once.
  const gone = await rawServer(() => {})
  await gone.close()
  await t.rejects(tcpExchange(query(), gone.target, { timeoutMs: 1000 }), { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' })
  await t.rejects(tcpExchange(Buffer.alloc(3), gone.target, { timeoutMs: 50 }), { code: 'DNSVAKT_ERR_MALFORMED' })
})
