import t from 'tap'
import { createServer } from 'node:net'
import dnsPacket from 'dns-packet'
import { isDnsvaktError } from '../../src/errors.js'
import { type PoolHooks, type PoolOptions, type Upstream, UpstreamPool, upstreamLabel } from '../../src/upstream/upstream-pool.js'
import { type FakeUpstream, type Rule, startFakeUpstream } from '../fixtures/fake-upstream.js'

const query = (name = 'www.example.test') =>
  dnsPacket.encode({
    type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer],
  })
const rcodeOf = (wire: Buffer) => wire[3] & 0x0f
const aOf = (wire: Buffer) => dnsPacket.decode(wire).answers?.filter((a) => a.type === 'A').map(dataOf)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** A record's data (dns-packet types OPT without one). */
const dataOf = (a: dnsPacket.Answer) => (a as { data?: unknown }).data

/** Hooks that record every call as `hook upstream detail`; waitFor(line) resolves when that call happens. */
function recorder() {
  const calls: string[] = []
  const latencies: number[] = []
  const waiters: Array<{ line: string; resolve: () => void }> = []
  const log = (line: string) => {
    calls.push(line)
    for (const w of waiters.filter((x) => x.line === line)) w.resolve()
  }
  const hooks: PoolHooks = {
    onTry: (u) => log(`try ${u}`),
    onFailure: (u, r) => log(`failure ${u} ${r}`),
    onHealthChange: (u, up) => log(`health ${u} ${up ? 'up' : 'down'}`),
    onIgnored: (u, r) => log(`ignored ${u} ${r}`),
    onLatency: (_u, seconds) => void latencies.push(seconds),
  }
  const waitFor = (line: string) => new Promise<void>((resolve) => (calls.includes(line) ? resolve() : waiters.push({ line, resolve })))
  return { calls, latencies, hooks, waitFor, count: (line: string) => calls.filter((c) => c === line).length }
}

/** `n` fake upstreams with `rules[i]` as their default rule, and a pool over them. */
async function setup(t: { teardown(fn: () => Promise<void>): void }, rules: Array<Rule | undefined>, opts: PoolOptions = {}, protocols: Array<'udp' | 'tcp'> = []) {
  const ups: FakeUpstream[] = await Promise.all(rules.map((r) => startFakeUpstream({ defaultRule: r })))
  const rec = recorder()
  const clock = { ms: 1_000_000 }
  const pool = new UpstreamPool(
    ups.map((u, i) => ({ address: u.address, port: u.port, protocol: protocols[i] ?? 'udp' })),
    { tryTimeoutMs: 60, deadlineMs: 400, probeIntervalMs: 1000, now: () => clock.ms, localAddress: { v4: '127.0.0.1', v6: '::1' }, ...opts },
    rec.hooks,
  )
  t.teardown(async () => {
    pool.close()
    await Promise.all(ups.map((u) => u.close()))
  })
  return { ups, pool, clock, ...rec }
}

t.test('sequential failover: timeout, SERVFAIL, REFUSED, garbage', async (t) => {
  for (const [name, rule, reason] of [
    ['timeout', { drop: true }, 'timeout'],
    ['servfail', { servfail: true }, 'servfail'],
    ['refused', { refused: true }, 'refused'],
    ['garbage', { garbage: true }, 'timeout'],
  ] as const) {
    const { ups, pool, calls, latencies } = await setup(t, [rule, undefined])
    const r = await pool.exchange(query())
    t.ok(latencies.length > 0 && latencies.every((s) => s >= 0 && s < 1), 'latency in seconds')
    t.equal(r.upstream, ups[1].label, `${name}: answered by the second`)
    t.same(aOf(r.wire), ['192.0.2.1'])
    t.ok(r.ms >= 0)
    t.ok(calls.includes(`failure ${ups[0].label} ${reason}`), `${name}: failure counted as ${reason}`)
    if (name === 'garbage') t.match(calls.join('\n'), new RegExp(`ignored ${ups[0].label} (wrong-id|malformed|wrong-question)`))
  }
})

t.test('network error: a tcp-only upstream on a closed port fails fast', async (t) => {
  const probe = createServer()
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
  const deadPort = (probe.address() as { port: number }).port
  await new Promise<void>((r) => probe.close(() => r()))
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const calls: string[] = []
  const pool = new UpstreamPool([{ address: '127.0.0.1', port: deadPort, protocol: 'tcp' }, up], { tryTimeoutMs: 2000 }, { onFailure: (u, r) => calls.push(`${u} ${r}`) })
  t.teardown(() => pool.close())
  const started = Date.now()
  const r = await pool.exchange(query())
  t.equal(r.upstream, up.label)
  t.same(calls, [`127.0.0.1:${deadPort} network`])
  t.ok(Date.now() - started < 1500, 'no try timeout spent on it')
})

t.test('every upstream says SERVFAIL: the real SERVFAIL comes back; only REFUSED: a coded error', async (t) => {
  const sf = await setup(t, [{ servfail: true }, { servfail: true }])
  const r = await sf.pool.exchange(query())
  t.equal(rcodeOf(r.wire), 2)
  t.equal(r.upstream, sf.ups[1].label, 'the last one tried')
  const rf = await setup(t, [{ refused: true }, { refused: true }])
  await t.rejects(rf.pool.exchange(query()), { code: 'DNSVAKT_ERR_UPSTREAM_ANSWER' })
  t.same(rf.pool.health().map((h) => h.up), [true, true], 'REFUSED proves the upstream reachable')
  const mixed = await setup(t, [{ servfail: true }, { drop: true }], { deadlineMs: 200 })
  t.equal(rcodeOf((await mixed.pool.exchange(query())).wire), 2, 'SERVFAIL rather than DEADLINE when one answered it')
})

t.test('round-robin spreads queries; sequential keeps to the first', async (t) => {
  const rr = await setup(t, [undefined, undefined, undefined], { strategy: 'round-robin' })
  for (let i = 0; i < 9; i++) await rr.pool.exchange(query(`n${i}.test`))
  t.same(rr.ups.map((u) => u.queries.length), [3, 3, 3])
  const seq = await setup(t, [undefined, undefined])
  for (let i = 0; i < 4; i++) await seq.pool.exchange(query(`n${i}.test`))
  t.same(seq.ups.map((u) => u.queries.length), [4, 0])
  const failover = await setup(t, [{ drop: true }, undefined, undefined], { strategy: 'round-robin', failuresBeforeDown: 100 })
  const served = []
  for (let i = 0; i < 3; i++) served.push((await failover.pool.exchange(query(`m${i}.test`))).upstream)
  t.same(served, [failover.ups[1].label, failover.ups[1].label, failover.ups[2].label], 'a failed start fails over to the next')
})

t.test('the deadline rejects with DNSVAKT_ERR_UPSTREAM_DEADLINE; timed-out upstreams are retried until then', async (t) => {
  const { pool, ups } = await setup(t, [{ drop: true }, { drop: true }], { tryTimeoutMs: 50, deadlineMs: 180, failuresBeforeDown: 100 })
  const started = Date.now()
  const e = await pool.exchange(query()).catch((x: unknown) => x)
  const took = Date.now() - started
  t.ok(isDnsvaktError(e, 'DNSVAKT_ERR_UPSTREAM_DEADLINE'), String(e))
  t.ok(took >= 150 && took < 1500, `rejected after ${took} ms`)
  t.ok(ups[0].queries.length >= 2, 'the first upstream was tried again in the time left')
  const fast = await pool.exchange(query(), { deadlineMs: 20 }).catch((x: unknown) => x)
  t.ok(isDnsvaktError(fast, 'DNSVAKT_ERR_UPSTREAM_DEADLINE'), 'per-call deadline')
})

t.test('health: down after N failures, skipped, probed back up', async (t) => {
  const { ups, pool, clock, calls, count, waitFor } = await setup(t, [{ drop: true }, undefined], { failuresBeforeDown: 2 })
  const [a, b] = ups
  await pool.exchange(query('q1.test'))
  t.same(pool.health(), [{ upstream: a.label, up: true, consecutiveFailures: 1 }, { upstream: b.label, up: true, consecutiveFailures: 0 }])
  await pool.exchange(query('q2.test'))
  t.ok(calls.includes(`health ${a.label} down`))
  t.same(pool.health()[0], { upstream: a.label, up: false, consecutiveFailures: 2 })
  const triesBefore = count(`try ${a.label}`)
  const seenBefore = a.queries.length
  for (let i = 0; i < 5; i++) t.equal((await pool.exchange(query(`s${i}.test`))).upstream, b.label)
  t.equal(count(`try ${a.label}`), triesBefore, 'a down upstream is skipped...')
  t.equal(a.queries.length, seenBefore, '...so no query waits for its timeout')

  // Probe due, upstream still dead: it stays down and the next probe waits an interval.
  clock.ms += 1000
  await pool.exchange(query('p1.test'))
  t.equal(a.countFor('.', 'NS'), 1, 'a background probe for . NS')
  await sleep(120)
  t.equal(pool.health()[0].up, false)
  await pool.exchange(query('p2.test'))
  t.equal(a.countFor('.', 'NS'), 1, 'no second probe within the interval')

  // Probe due and the upstream is back.
  a.setRule('.', {})
  const upAgain = waitFor(`health ${a.label} up`)
  clock.ms += 1000
  const r = await pool.exchange(query('p3.test'))
  t.equal(r.upstream, b.label, 'the client query does not wait for the probe')
  await upAgain
  t.same(pool.health()[0], { upstream: a.label, up: true, consecutiveFailures: 0 })
  a.setRule('after.test', {})
  t.equal((await pool.exchange(query('after.test'))).upstream, a.label, 'back in first place')
})

t.test('when all are down they are still tried, in order, so recovery is seen', async (t) => {
  const { ups, pool } = await setup(t, [{ drop: true }], { failuresBeforeDown: 1, deadlineMs: 100 })
  await t.rejects(pool.exchange(query('x.test')), { code: 'DNSVAKT_ERR_UPSTREAM_DEADLINE' })
  t.equal(pool.health()[0].up, false)
  ups[0].setRule('y.test', {})
  const r = await pool.exchange(query('y.test'))
  t.equal(r.upstream, ups[0].label)
  t.equal(pool.health()[0].up, true)
})

t.test('TC=1 over UDP is retried over TCP at the same upstream; tcp-only upstreams use TCP', async (t) => {
  const { ups, pool } = await setup(t, [{ truncate: true }, undefined])
  const r = await pool.exchange(query('tc.test'))
  t.equal(r.upstream, ups[0].label)
  t.same(aOf(r.wire), ['192.0.2.1'])
  t.same(ups[0].queries.map((q) => q.transport), ['udp', 'tcp'])
  const tcp = await setup(t, [{ big: true }], {}, ['tcp'])
  const big = await tcp.pool.exchange(query('big.test'))
  t.equal(aOf(big.wire)?.length, 60)
  t.same(tcp.ups[0].queries.map((q) => q.transport), ['tcp'])
})

t.test('forged replies are ignored and counted; the real reply is accepted', async (t) => {
  for (const [forge, reason] of [['wrong-id', 'wrong-id'], ['wrong-question', 'wrong-question'], ['wrong-port', 'wrong-source']] as const) {
    const { ups, pool, calls } = await setup(t, [{ forge }])
    const r = await pool.exchange(query())
    t.same(aOf(r.wire), ['192.0.2.1'], forge)
    t.same(calls.filter((c) => c.startsWith('ignored')), [`ignored ${ups[0].label} ${reason}`])
    t.equal(pool.health()[0].consecutiveFailures, 0)
  }
})

t.test('caller mistakes, config mistakes and close()', async (t) => {
  t.throws(() => new UpstreamPool([]), { code: 'DNSVAKT_ERR_CONFIG' })
  t.throws(() => new UpstreamPool([{ address: 'dns.example', port: 53 }]), { code: 'DNSVAKT_ERR_CONFIG' })
  t.throws(() => new UpstreamPool([{ address: '127.0.0.1', port: 0 }]), { code: 'DNSVAKT_ERR_CONFIG' })
  t.equal(upstreamLabel({ address: '::1', port: 53 }), '[::1]:53')
  t.equal(upstreamLabel({ address: '127.0.0.1', port: 5300 } satisfies Upstream), '127.0.0.1:5300')

  const { pool } = await setup(t, [{ drop: true }], { tryTimeoutMs: 5000, deadlineMs: 10_000 })
  await t.rejects(pool.exchange(Buffer.alloc(4)), { code: 'DNSVAKT_ERR_MALFORMED' })
  t.equal(pool.health()[0].consecutiveFailures, 0, 'not held against the upstream')
  const waiting = pool.exchange(query())
  await sleep(20)
  pool.close()
  await t.rejects(waiting, { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' })
  await t.rejects(pool.exchange(query()), { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' })
  const tcp = await setup(t, [{ drop: true }], { tryTimeoutMs: 5000, deadlineMs: 10_000 }, ['tcp'])
  const tcpWaiting = tcp.pool.exchange(query())
  await sleep(20)
  tcp.pool.close()
  await t.rejects(tcpWaiting, { code: 'DNSVAKT_ERR_UPSTREAM_NETWORK' }, 'TCP in flight is aborted')
})

t.test('maxPending: past the global bound an exchange is refused at once, shared by pools, and counted', async (t) => {
  const { PendingBudget } = await import('../../src/upstream/pending-budget.js')
  let refused = 0
  const budget = new PendingBudget(3, () => refused++)
  const { pool, ups } = await setup(t, [{ delay: 100 }], { budget, tryTimeoutMs: 500, deadlineMs: 1000 })
  const other = new UpstreamPool([{ address: ups[0].address, port: ups[0].port }], { budget, localAddress: { v4: '127.0.0.1' } })
  t.teardown(() => other.close())
  const waiting = [pool.exchange(query('a.test')), pool.exchange(query('b.test')), other.exchange(query('c.test'))]
  t.equal(budget.current, 3)
  const started = Date.now()
  const over = await other.exchange(query('d.test')).catch((e: unknown) => e)
  t.ok(isDnsvaktError(over, 'DNSVAKT_ERR_UPSTREAM_OVERLOAD'), 'the fourth is refused')
  t.ok(Date.now() - started < 90, 'at once, not after the upstream delay')
  t.equal(refused, 1)
  t.equal(ups[0].countFor('d.test'), 0, 'never sent upstream')
  await Promise.all(waiting)
  t.equal(budget.current, 0, 'slots freed when the exchanges end')
  t.same(aOf((await pool.exchange(query('e.test'))).wire), ['192.0.2.1'], 'room again')
})

t.test('0x20 over UDP and TCP: mixed case upstream, checked, switchable per upstream', async (t) => {
  const name = 'mixed-case.example.test'
  const { pool, ups } = await setup(t, [{ big: true }], {}, ['udp'])
  for (let i = 0; i < 3; i++) {
    const r = dnsPacket.decode((await pool.exchange(query(name))).wire)
    t.equal(r.answers?.length, 60, 'UDP TC=1, then the whole answer over TCP')
    t.ok(r.answers?.every((a) => a.name === name), 'owner names in the caller case again')
  }
  const sent = ups[0].queries.map((q) => `${q.transport} ${dnsPacket.decode(q.wire).questions![0].name}`)
  t.equal(sent.length, 6)
  t.ok(sent.filter((s) => s.startsWith('tcp')).length === 3, sent.join(', '))
  t.ok(new Set(sent.map((s) => s.split(' ')[1])).size >= 4, `random case per try: ${sent.join(', ')}`)
  const off = new UpstreamPool([{ address: ups[0].address, port: ups[0].port, randomizeCase: false }], { localAddress: { v4: '127.0.0.1' } })
  t.teardown(() => off.close())
  await off.exchange(query(name))
  t.equal(dnsPacket.decode(ups[0].queries.at(-1)!.wire).questions![0].name, name, 'randomizeCase: false sends the case as given')
})
