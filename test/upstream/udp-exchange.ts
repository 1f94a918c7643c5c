import t from 'tap'
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import dnsPacket from 'dns-packet'
import { isDnsvaktError } from '../../src/errors.js'
import { canonicalIp, checkReply, type IgnoredReason, UdpExchanger, type UdpExchangerOptions } from '../../src/upstream/udp-exchange.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'

const LOOPBACK = { v4: '127.0.0.1', v6: '::1' }
const query = (name = 'Www.Example.Test', type: dnsPacket.RecordType = 'A') =>
  dnsPacket.encode({ type: 'query', id: 0x4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] })
const exchanger = (o: UdpExchangerOptions = {}) => new UdpExchanger({ localAddress: LOOPBACK, ...o })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** A record's data (dns-packet types OPT without one). */
const dataOf = (a: dnsPacket.Answer) => (a as { data?: unknown }).data

/** A raw UDP server whose reply logic the test writes; records each query's source port and ID. */
async function rawServer(type: 'udp4' | 'udp6', onQuery: (msg: Buffer, rinfo: RemoteInfo, s: Socket) => void) {
  const s = createSocket(type)
  const seen: Array<{ port: number; id: number }> = []
  s.on('message', (msg, rinfo) => {
    seen.push({ port: rinfo.port, id: msg.readUInt16BE(0) })
    onQuery(msg, rinfo, s)
  })
  await new Promise<void>((r) => s.bind(0, type === 'udp6' ? '::1' : '127.0.0.1', r))
  return { port: s.address().port, seen, close: () => new Promise<void>((r) => s.close(() => r())) }
}
/** The query itself with QR set: a valid answer with no records. */
const answerOf = (msg: Buffer) => {
  const out = Buffer.from(msg)
  out[2] |= 0x80
  return out
}

t.test('checkReply: ID, QR and the question byte for byte', async (t) => {
  const sent = query()
  const end = sent.length
  const ok = answerOf(sent)
  const cases: Array<[string, Buffer, IgnoredReason | undefined]> = [
    ['valid', ok, undefined],
    ['short', ok.subarray(0, 11), 'malformed'],
    ['wrong id', Buffer.concat([Buffer.from([0x42, 0x43]), ok.subarray(2)]), 'wrong-id'],
    ['QR=0', sent, 'malformed'],
    ['letter case differs (0x20)', answerOf(query('www.example.test')), 'wrong-question'],
    ['other type', answerOf(query('Www.Example.Test', 'AAAA')), 'wrong-question'],
    ['question cut short', ok.subarray(0, end - 2), 'wrong-question'],
    ['no question', Buffer.concat([ok.subarray(0, 4), Buffer.from([0, 0]), ok.subarray(6, 12)]), 'wrong-question'],
  ]
  for (const [name, reply, want] of cases) t.equal(checkReply(sent, end, reply), want, name)
})

t.test('canonicalIp: textual IPv6 forms and scopes compare equal', async (t) => {
  t.equal(canonicalIp('0:0:0:0:0:0:0:1'), '::1')
  t.equal(canonicalIp('FE80::1%eth0'), 'fe80::1')
  t.equal(canonicalIp('127.0.0.1'), '127.0.0.1')
})

t.test('answers come back validated, with a fresh ID; the caller buffer is untouched', async (t) => {
  const up = await startFakeUpstream()
  const ids = [1111, 2222]
  const ex = exchanger({ randomInt: (max) => (max === 0x10000 ? ids.shift()! : 0) })
  t.teardown(async () => { ex.close(); await up.close() })
  const q = query()
  const before = Buffer.from(q)
  const reply = await ex.exchange(q, up, { timeoutMs: 500 })
  const decoded = dnsPacket.decode(reply)
  t.equal(decoded.id, 1111)
  t.equal(decoded.questions?.[0].name, 'Www.Example.Test', 'question echoed with its case')
  t.same(decoded.answers?.map(dataOf), ['192.0.2.1'])
  t.same(q, before, 'query not mutated')
  await ex.exchange(q, up, { timeoutMs: 500 })
  t.same(up.queries.map((x) => x.id), [1111, 2222], 'a new ID per exchange')
})

t.test('forged replies are ignored and reported; the real one is accepted', async (t) => {
  const up = await startFakeUpstream()
  const ex = exchanger()
  t.teardown(async () => { ex.close(); await up.close() })
  for (const [forge, reason] of [['wrong-id', 'wrong-id'], ['wrong-question', 'wrong-question'], ['wrong-port', 'wrong-source']] as const) {
    up.setRule('x.test', { forge })
    const ignored: IgnoredReason[] = []
    const reply = await ex.exchange(query('x.test'), up, { timeoutMs: 500, onIgnored: (r) => ignored.push(r) })
    t.same(dnsPacket.decode(reply).answers?.map(dataOf), ['192.0.2.1'], forge)
    t.same(ignored, [reason], `${forge} reported as ${reason}`)
  }
})

t.test('garbage is ignored until the try times out', async (t) => {
  const up = await startFakeUpstream({ rules: { 'junk.test': { garbage: true } } })
  const ex = exchanger()
  t.teardown(async () => { ex.close(); await up.close() })
  const ignored: IgnoredReason[] = []
  await t.rejects(ex.exchange(query('junk.test'), up, { timeoutMs: 80, onIgnored: (r) => ignored.push(r) }), { code: 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' })
  t.equal(ignored.length, 1)
  t.ok(['wrong-id', 'malformed', 'wrong-question'].includes(ignored[0]), ignored[0])
})

t.test('QR=0 and short packets from the upstream are malformed; the answer after them wins', async (t) => {
  const srv = await rawServer('udp4', (msg, r, s) => {
    s.send(msg, r.port, r.address) // our own query echoed: QR=0
    s.send(Buffer.from([1, 2, 3]), r.port, r.address)
    setTimeout(() => s.send(answerOf(msg), r.port, r.address), 10)
  })
  const ex = exchanger()
  t.teardown(async () => { ex.close(); await srv.close() })
  const ignored: IgnoredReason[] = []
  const reply = await ex.exchange(query(), { address: '127.0.0.1', port: srv.port }, { timeoutMs: 500, onIgnored: (r) => ignored.push(r) })
  t.equal(reply[2] & 0x80, 0x80)
  t.same(ignored, ['malformed', 'malformed'])
})

t.test('a stray packet from a stranger goes to onStray, not to the exchange', async (t) => {
  const stranger = createSocket('udp4')
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r))
  const srv = await rawServer('udp4', (msg, r, s) => {
    const junk = answerOf(msg)
    junk.writeUInt16BE(msg.readUInt16BE(0) ^ 1, 0)
    stranger.send(junk, r.port, r.address)
    setTimeout(() => s.send(answerOf(msg), r.port, r.address), 20)
  })
  const strays: IgnoredReason[] = []
  const ignored: IgnoredReason[] = []
  const ex = exchanger({ onStray: (r) => strays.push(r) })
  t.teardown(async () => { ex.close(); stranger.close(); await srv.close() })
  await ex.exchange(query(), { address: '127.0.0.1', port: srv.port }, { timeoutMs: 500, onIgnored: (r) => ignored.push(r) })
  t.same(strays, ['wrong-id'])
  t.same(ignored, [])
})

t.test('a late reply after the timeout is dropped quietly', async (t) => {
  const up = await startFakeUpstream({ rules: { 'late.test': { delay: 80 } } })
  const strays: IgnoredReason[] = []
  const ignored: IgnoredReason[] = []
  const ex = exchanger({ onStray: (r) => strays.push(r) })
  t.teardown(async () => { ex.close(); await up.close() })
  await t.rejects(ex.exchange(query('late.test'), up, { timeoutMs: 30, onIgnored: (r) => ignored.push(r) }), { code: 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' })
  await sleep(120)
  t.equal(up.countFor('late.test'), 1)
  t.same([...strays, ...ignored], [], 'not counted as a spoof')
})

t.test('source ports move: sockets are replaced after N queries and after their age', async (t) => {
  const srv = await rawServer('udp4', (msg, r, s) => s.send(answerOf(msg), r.port, r.address))
  let clock = 0
  const ex = exchanger({ sockets: 1, queriesPerSocket: 2, socketMaxAgeMs: 1000, now: () => clock })
  t.teardown(async () => { ex.close(); await srv.close() })
  const target = { address: '127.0.0.1', port: srv.port }
  for (let i = 0; i < 6; i++) await ex.exchange(query(), target, { timeoutMs: 500 })
  const ports = srv.seen.map((s) => s.port)
  t.equal(new Set(ports).size, 3, `two queries per port: ${ports.join(' ')}`)
  t.equal(ports[0], ports[1])
  await ex.exchange(query(), target, { timeoutMs: 500 })
  clock += 1000
  await ex.exchange(query(), target, { timeoutMs: 500 })
  t.not(srv.seen[7].port, srv.seen[6].port, 'an old socket is replaced')
})

t.test('a retired socket is closed once, after its last exchange ends (timeouts included)', async (t) => {
  // Regression: docs/benchmarks.md saw ERR_SOCKET_DGRAM_NOT_RUNNING from a second close() of a retired socket.
  const up = await startFakeUpstream({ rules: { 'drop.test': { drop: true } } })
  const ex = exchanger({ sockets: 1, queriesPerSocket: 1 })
  t.teardown(async () => { ex.close(); await up.close() })
  const tries = Array.from({ length: 6 }, (_, i) => ex.exchange(query(i % 2 ? 'drop.test' : 'ok.test'), up, { timeoutMs: 30 + i * 5 }).then(() => 'ok', (e: { code: string }) => e.code))
  t.same(await Promise.all(tries), ['ok', 'DNSVAKT_ERR_UPSTREAM_TIMEOUT', 'ok', 'DNSVAKT_ERR_UPSTREAM_TIMEOUT', 'ok', 'DNSVAKT_ERR_UPSTREAM_TIMEOUT'])
  ex.close()
  ex.close()
  await sleep(20)
  t.pass('no uncaught socket error')
})

t.test('an ID used before on a socket is never used again on it', async (t) => {
  // One query at a time per socket: the second query reuses the socket, and the first ID is a tombstone there.
  const srv = await rawServer('udp4', (msg, r, s) => setTimeout(() => s.send(answerOf(msg), r.port, r.address), 20))
  const draws = [7, 7, 7, 9]
  const ex = exchanger({ sockets: 1, queriesPerSocket: 1000, randomInt: () => draws.shift() ?? 11 })
  t.teardown(async () => { ex.close(); await srv.close() })
  const target = { address: '127.0.0.1', port: srv.port }
  for (let i = 0; i < 2; i++) await ex.exchange(query(), target, { timeoutMs: 500 })
  t.same(srv.seen.map((s) => s.id), [7, 9])
  t.equal(srv.seen[0].port, srv.seen[1].port, 'the same socket')
})

t.test('IPv6: a non-canonical upstream address still matches the reply source', async (t) => {
  const srv = await rawServer('udp6', (msg, r, s) => s.send(answerOf(msg), r.port, r.address))
  const ignored: IgnoredReason[] = []
  const ex = exchanger()
  t.teardown(async () => { ex.close(); await srv.close() })
  const reply = await ex.exchange(query(), { address: '0:0:0:0:0:0:0:1', port: srv.port }, { timeoutMs: 500, onIgnored: (r) => ignored.push(r) })
  t.equal(reply[2] & 0x80, 0x80)
  t.same(ignored, [])
})

t.test('errors: bad query, bad address, drop, close', async (t) => {
  const up = await startFakeUpstream({ rules: { 'drop.test': { drop: true } } })
  const ex = exchanger()
  t.teardown(() => up.close())
  await t.rejects(ex.exchange(Buffer.alloc(5), up, { timeoutMs: 50 }), { code: 'DNSVAKT_ERR_MALFORMED' })
  await t.rejects(ex.exchange(query(), { address: 'dns.example', port: 53 }, { timeoutMs: 50 }), { code: 'DNSVAKT_ERR_CONFIG' })
  await t.rejects(ex.exchange(query('drop.test'), up, { timeoutMs: 50 }), { code: 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' })
  const waiting = ex.exchange(query('drop.test'), up, { timeoutMs: 5000 })
  ex.close()
  await t.rejects(waiting, { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' })
  const after = await ex.exchange(query(), up, { timeoutMs: 50 }).catch((e: unknown) => e)
  t.ok(isDnsvaktError(after, 'DNSVAKT_ERR_UPSTREAM_NETWORK'), 'closed exchanger refuses')
})

t.test('a socket that cannot bind fails its exchange at once with a network error', async (t) => {
  // An IPv4 local address for the IPv6 sockets: bind() fails with EINVAL, nothing is sent.
  const ex = exchanger({ sockets: 1, localAddress: { v6: '127.0.0.1' } })
  t.teardown(() => ex.close())
  const started = Date.now()
  await t.rejects(ex.exchange(query(), { address: '::1', port: 53 }, { timeoutMs: 5000 }), { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' })
  await t.rejects(ex.exchange(query(), { address: '::1', port: 53 }, { timeoutMs: 5000 }), { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' }, 'the broken socket is replaced, not reused')
  t.ok(Date.now() - started < 2000, 'no timeout waited')
})

t.test('RFC 5452: 32 consecutive queries use at least 24 distinct source ports', async (t) => {
  // The old default (8 pooled sockets, 1000 queries each) gave at most 8 here.
  const srv = await rawServer('udp4', (msg, r, s) => s.send(answerOf(msg), r.port, r.address))
  const ex = new UdpExchanger() // defaults, bound to any address like the gateway's
  t.teardown(async () => { ex.close(); await srv.close() })
  const target = { address: '127.0.0.1', port: srv.port }
  for (let i = 0; i < 32; i++) await ex.exchange(query(), target, { timeoutMs: 1000 })
  await Promise.all(Array.from({ length: 32 }, () => ex.exchange(query(), target, { timeoutMs: 1000 })))
  const sequential = new Set(srv.seen.slice(0, 32).map((x) => x.port)).size
  const concurrent = new Set(srv.seen.slice(32).map((x) => x.port)).size
  t.ok(sequential >= 24, `sequential: ${sequential} distinct ports of 32`)
  t.ok(concurrent >= 24, `concurrent: ${concurrent} distinct ports of 32`)
})

t.test('the socket rotation: one query at a time per socket, least recently used first, worn out after N queries or a failure', async (t) => {
  let drop = false
  const srv = await rawServer('udp4', (msg, r, s) => drop || s.send(answerOf(msg), r.port, r.address))
  const ex = exchanger({ sockets: 4, queriesPerSocket: 3 })
  t.teardown(async () => { ex.close(); await srv.close() })
  const target = { address: '127.0.0.1', port: srv.port }
  for (let i = 0; i < 12; i++) await ex.exchange(query(), target, { timeoutMs: 500 })
  const ports = srv.seen.map((x) => x.port)
  t.same(ports.slice(4, 8), ports.slice(0, 4), 'the rotation is filled, then its sockets are used least recently used first')
  t.equal(new Set(ports.slice(0, 4)).size, 4)
  t.ok(ports.every((p, i) => i === 0 || p !== ports[i - 1]), `consecutive queries, different ports: ${ports.join(' ')}`)
  const uses = new Map<number, number>()
  for (const p of ports) uses.set(p, (uses.get(p) ?? 0) + 1)
  t.ok([...uses.values()].every((n) => n <= 3), 'no socket carries more than 3 queries')
  t.ok(new Set(ports).size > 4, 'worn-out sockets were replaced by new ports')

  const before = srv.seen.length
  await Promise.all(Array.from({ length: 6 }, () => ex.exchange(query(), target, { timeoutMs: 500 })))
  t.equal(new Set(srv.seen.slice(before).map((x) => x.port)).size, 6, 'six at once: six sockets (two extras beyond the rotation of 4)')

  drop = true
  await t.rejects(ex.exchange(query(), target, { timeoutMs: 30 }), { code: 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' })
  const timedOutPort = srv.seen[srv.seen.length - 1].port
  drop = false
  for (let i = 0; i < 8; i++) await ex.exchange(query(), target, { timeoutMs: 500 })
  t.notOk(srv.seen.slice(-8).some((x) => x.port === timedOutPort), 'the port of a timed-out query is not used again')
})

t.test('sockets bind to the configured upstream-facing source address', async (t) => {
  const srv = await rawServer('udp4', (msg, r, s) => s.send(answerOf(msg), r.port, r.address))
  const from: string[] = []
  const spy = createSocket('udp4')
  t.teardown(() => spy.close())
  const ex = exchanger({ localAddress: { v4: '127.0.0.2' } })
  t.teardown(async () => { ex.close(); await srv.close() })
  const seenFrom = await new Promise<string>((resolve) => {
    spy.on('message', (_m, r) => resolve(r.address))
    spy.bind(0, '127.0.0.1', () => void ex.exchange(query(), { address: '127.0.0.1', port: spy.address().port }, { timeoutMs: 200 }).catch(() => {}))
  })
  from.push(seenFrom)
  await ex.exchange(query(), { address: '127.0.0.1', port: srv.port }, { timeoutMs: 500 })
  t.same(from, ['127.0.0.2'], 'the query came from 127.0.0.2')
})

t.test('0x20: the question goes out in a random case, a reply must echo it, and the caller gets its case back', async (t) => {
  const name = 'www.randomized-case.example.test'
  const sent: string[] = []
  const srv = await rawServer('udp4', (msg, r, s) => {
    sent.push(dnsPacket.decode(msg).questions![0].name)
    // The answer's owner name written out in full (dns-packet does not compress), in the case received.
    const d = dnsPacket.decode(msg)
    const out = dnsPacket.encode({ type: 'response', id: d.id, flags: 0x8180, questions: d.questions, answers: [{ type: 'A', name: d.questions![0].name, ttl: 60, data: '192.0.2.7' }] })
    s.send(out, r.port, r.address)
  })
  const ex = exchanger()
  t.teardown(async () => { ex.close(); await srv.close() })
  const target = { address: '127.0.0.1', port: srv.port }
  const q = query(name)
  const before = Buffer.from(q)
  for (let i = 0; i < 4; i++) {
    const reply = dnsPacket.decode(await ex.exchange(q, target, { timeoutMs: 500, randomizeCase: true }))
    t.equal(reply.questions![0].name, name, 'the reply carries the caller case in the question')
    t.equal(reply.answers![0].name, name, '...and in the owner name the upstream wrote out')
  }
  t.same(q, before, 'the caller buffer keeps the client case')
  t.ok(sent.every((n) => n.toLowerCase() === name), 'same name')
  t.ok(new Set(sent).size >= 3, `a different case each time upstream: ${sent.join(' ')}`)
  t.ok(sent.some((n) => n !== name && n !== name.toUpperCase()), 'mixed case')

  // An upstream (or a spoofer) that answers in lower case is ignored until the timeout.
  const lower = await rawServer('udp4', (msg, r, s) => {
    const out = answerOf(msg)
    for (let i = 12; i < out.length - 4; i++) if (out[i] >= 0x41 && out[i] <= 0x5a) out[i] |= 0x20
    s.send(out, r.port, r.address)
  })
  t.teardown(() => lower.close())
  const ignored: IgnoredReason[] = []
  await t.rejects(ex.exchange(q, { address: '127.0.0.1', port: lower.port }, { timeoutMs: 100, randomizeCase: true, onIgnored: (r) => ignored.push(r) }), { code: 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' })
  t.same(ignored, ['wrong-question'])
  const plain = await ex.exchange(q, { address: '127.0.0.1', port: lower.port }, { timeoutMs: 500 })
  t.equal(dnsPacket.decode(plain).questions![0].name, name, 'without 0x20 the same upstream is fine')
})
