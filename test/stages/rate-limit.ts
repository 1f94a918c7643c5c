import t from 'tap'
import { validate } from '../../src/config/load-config.js'
import { clientKey, RateLimitStage, workerShare } from '../../src/stages/rate-limit.js'
import type { Next, Reply } from '../../src/pipeline/types.js'
import type { Transport } from '../../src/pipeline/transport.js'
import { decode, makeQuery } from '../fixtures/dns-wire.js'

const S = 1000
const FORWARDED: Reply = { kind: 'answer', wire: Buffer.alloc(12), source: 'forwarded' }

function harness(perSecond: number, burst: number) {
  const stage = new RateLimitStage({ queriesPerSecond: perSecond, burst })
  let calls = 0
  const next: Next = () => (calls++, FORWARDED)
  const ask = (address: string, now: number, transport: Transport = 'udp', id = 1, name = 'example.com') =>
    stage.handle(makeQuery({ id, name, edns: { udpSize: 1232 } }, { address, now, transport }), next) as Reply
  return { stage, ask, calls: () => calls }
}

/** How many of `n` queries at `now` get through. */
const passes = (h: ReturnType<typeof harness>, address: string, now: number, n: number) => {
  let ok = 0
  for (let i = 0; i < n; i++) if (h.ask(address, now) === FORWARDED) ok++
  return ok
}

t.test('a full bucket lets `burst` queries through at once', async (t) => {
  for (const [rate, burst] of [[1, 1], [1, 3], [10, 20], [0.5, 5]]) {
    const h = harness(rate, burst)
    t.equal(passes(h, '10.0.0.1', 0, burst + 10), burst, `rate ${rate} burst ${burst}`)
    t.equal(h.calls(), burst, 'next called only for those')
  }
})

t.test('tokens come back at the configured rate (explicit clock)', async (t) => {
  // [rate/s, burst, ms after emptying the bucket, queries that pass then]
  const cases: Array<[number, number, number, number]> = [
    [1, 5, 999, 0],
    [1, 5, 1000, 1],
    [1, 5, 2500, 2],
    [1, 5, 60 * S, 5],
    [2, 5, 500, 1],
    [2, 5, 1000, 2],
    [10, 100, 250, 2],
    [0.5, 3, 1999, 0],
    [0.5, 3, 2000, 1],
  ]
  for (const [rate, burst, after, expected] of cases) {
    const h = harness(rate, burst)
    const t0 = 1_700_000_000_000
    t.equal(passes(h, '10.0.0.2', t0, burst), burst, 'setup: bucket emptied')
    t.equal(passes(h, '10.0.0.2', t0 + after, burst + 5), expected, `rate ${rate} burst ${burst}: ${after} ms later ${expected} pass`)
  }
})

t.test('the bucket never holds more than burst, however long the client was away', async (t) => {
  const h = harness(100, 4)
  t.equal(passes(h, '10.0.0.3', 0, 4), 4)
  t.equal(passes(h, '10.0.0.3', 365 * 86_400 * S, 50), 4)
})

t.test('over the limit: UDP is dropped, TCP gets REFUSED', async (t) => {
  const h = harness(1, 1)
  t.equal(h.ask('10.0.0.4', 0, 'udp'), FORWARDED)
  const udp = h.ask('10.0.0.4', 0, 'udp')
  t.same(udp, { kind: 'drop', source: 'rate-limited' }, 'UDP: dropped (no amplification)')
  const tcp = h.ask('10.0.0.4', 0, 'tcp', 0x7777, 'ExAmple.com')
  t.equal(tcp.kind, 'answer')
  t.equal(tcp.source, 'rate-limited')
  if (tcp.kind === 'answer') {
    const p = decode(tcp.wire)
    t.equal(p.rcode, 'REFUSED')
    t.equal(p.id, 0x7777, 'id echoed')
    t.equal(p.questions![0].name, 'ExAmple.com', 'question echoed')
  }
  t.equal(h.calls(), 1, 'next never called for limited queries')
})

t.test('keyed on the source address only', async (t) => {
  const h = harness(1, 2)
  t.equal(passes(h, '10.0.0.5', 0, 2), 2)
  t.equal(h.ask('10.0.0.5', 0, 'udp', 999, 'other.example').kind, 'drop', 'another id and name: same bucket')
  t.equal(h.ask('10.0.0.5', 0, 'tcp').kind, 'answer', 'TCP from the same address shares the bucket (REFUSED)')
  t.equal(h.ask('10.0.0.5', 0, 'tcp').source, 'rate-limited')
  t.equal(passes(h, '10.0.0.6', 0, 5), 2, 'another client has its own bucket')
  t.equal(passes(h, '2001:db8::5', 0, 5), 2, 'IPv6 clients too')
})

t.test('take() directly', async (t) => {
  const s = new RateLimitStage({ queriesPerSecond: 1, burst: 2 })
  t.same([s.take('a', 0), s.take('a', 0), s.take('a', 0), s.take('a', 1000), s.take('a', 1000)], [true, true, false, true, false])
})

/** A stage with options, its hook calls recorded; `ask` sets the client's group as the acl stage would. */
function withOptions(opts: Partial<ConstructorParameters<typeof RateLimitStage>[0]> = {}) {
  const events = { limited: [] as string[], episodes: 0, evicted: 0 }
  const stage = new RateLimitStage({
    queriesPerSecond: 1, burst: 2, ...opts,
    onLimited: (a, g, n) => void events.limited.push(`${a} ${g} ${n}`),
    onEpisode: () => void events.episodes++,
    onEvicted: () => void events.evicted++,
  })
  const next: Next = () => FORWARDED
  const ask = (address: string, now: number, group = 'default') => {
    const q = makeQuery({ id: 1, name: 'example.com' }, { address, now, transport: 'udp' })
    q.client = { group, enforced: 0, shadow: 0, exemptions: [] }
    return stage.handle(q, next) === FORWARDED
  }
  const count = (address: string, now: number, n: number, group?: string) => Array.from({ length: n }, () => ask(address, now, group)).filter(Boolean).length
  return { stage, ask, count, events }
}

t.test('keyed per prefix: an IPv6 client rotating through its /56 is one client; /32 for IPv4', async (t) => {
  const h = withOptions()
  t.equal(h.count('2001:db8:0:ab01::1', 0, 1), 1)
  t.equal(h.count('2001:db8:0:ab02::9', 0, 1), 1)
  t.equal(h.count('2001:db8:0:abff:1234::7', 0, 5), 0, 'same /56, new /64: still limited')
  t.equal(h.count('2001:db8:0:ac00::1', 0, 5), 2, 'another /56 has its own bucket')
  t.equal(h.count('10.1.1.1', 0, 5), 2)
  t.equal(h.count('10.1.1.2', 0, 5), 2, 'IPv4 /32: a neighbour has its own bucket')
  t.equal(h.count('::ffff:10.1.1.1', 0, 5), 0, 'IPv4-mapped counts as the IPv4 address')
  const wide = withOptions({ ipv4Prefix: 24, ipv6Prefix: 64 })
  t.equal(wide.count('192.0.2.1', 0, 1) + wide.count('192.0.2.200', 0, 5), 2, 'a /24 shares a bucket')
  t.equal(wide.count('2001:db8::1', 0, 1) + wide.count('2001:db8:0:0:ffff::1', 0, 5), 2, 'a /64 shares one')
  t.equal(wide.count('2001:db8:0:1::1', 0, 5), 2)
})

t.test('clientKey: prefixes', async (t) => {
  t.equal(clientKey('10.0.0.1', 32, 56), '10.0.0.1')
  t.equal(clientKey('10.0.0.1', 24, 56), 'v4:0a0000/24')
  t.equal(clientKey('10.0.0.129', 25, 56), 'v4:0a000080/25')
  t.equal(clientKey('2001:db8:aa:bbcc::1', 32, 56), 'v6:20010db800aabb/56')
  t.equal(clientKey('2001:db8::1', 32, 128), '2001:db8::1')
  t.equal(clientKey('not-an-address', 24, 56), 'not-an-address')
})

t.test('per-group limits: a NAT concentrator gets its own size; 0 means unlimited', async (t) => {
  const h = withOptions({ groups: { vpn: { queriesPerSecond: 100, burst: 50 }, servers: { queriesPerSecond: 0, burst: 1 } } })
  t.equal(h.count('10.9.0.1', 0, 80, 'vpn'), 50, 'the vpn group has a burst of 50')
  t.equal(h.count('10.9.0.2', 0, 80, 'default'), 2, 'the default limit elsewhere')
  t.equal(h.count('10.9.0.3', 0, 500, 'servers'), 500, 'unlimited group')
  t.ok(RateLimitStage.active({ queriesPerSecond: 0, burst: 1, groups: { vpn: { queriesPerSecond: 5, burst: 5 } } }), 'active when only a group is limited')
  t.notOk(RateLimitStage.active({ queriesPerSecond: 0, burst: 1 }))
  const off = withOptions({ queriesPerSecond: 0, groups: { kiosk: { queriesPerSecond: 1, burst: 1 } } })
  t.equal(off.count('10.9.0.4', 0, 5, 'default'), 5)
  t.equal(off.count('10.9.0.5', 0, 5, 'kiosk'), 1)
})

t.test('bounded store: the least recently used bucket goes, the flooder stays limited', async (t) => {
  // The old store emptied itself at 100k clients, so a spoofed flood reset the flooder's bucket too.
  const h = withOptions({ maxTracked: 100 })
  t.equal(h.count('10.0.0.66', 0, 10), 2, 'the flooder empties its bucket')
  let flooderPassed = 0
  let maxTracked = 0
  for (let i = 0; i < 1000; i++) {
    h.ask(`10.1.${i >> 8}.${i & 0xff}`, 0)
    if (h.ask('10.0.0.66', 0)) flooderPassed++
    maxTracked = Math.max(maxTracked, h.stage.tracked)
  }
  t.equal(flooderPassed, 0, 'the flooder stays limited through 1,000 new clients')
  t.equal(maxTracked, 100)
  t.equal(h.stage.tracked, 100, 'never more than maxTracked')
  t.equal(h.events.evicted, 901, 'each new client past the bound evicts one')
  t.equal(h.count('10.1.0.0', 0, 5), 2, 'an evicted idle client starts with a full bucket again')
})

t.test('a throttled log line per limited client, a metric per limiting episode', async (t) => {
  const h = withOptions({ logIntervalMs: 60_000 })
  h.count('10.0.0.7', 0, 12)
  t.same(h.events.limited, ['10.0.0.7 default 1'], 'logged once at the first limited query')
  t.equal(h.events.episodes, 1, 'one episode while it stays limited')
  h.count('10.0.0.7', 500, 40)
  t.equal(h.events.episodes, 1, 'still the same episode (no token came back)')
  h.count('10.0.0.7', 30_000, 40)
  t.equal(h.events.limited.length, 1, 'no second line within the interval')
  t.equal(h.events.episodes, 2, 'the bucket refilled, passed, and ran dry again: a new episode')
  h.count('10.0.0.7', 60_000, 3)
  t.equal(h.events.limited.length, 2)
  t.equal(h.events.limited[1], '10.0.0.7 default 88', 'with the count dropped since the last line')
})

t.test('workerShare: each of N workers enforces 1/N of every rate and burst; 0 stays unlimited', async (t) => {
  const section = validate({ rateLimit: { queriesPerSecond: 50, burst: 200, groups: { vpn: { queriesPerSecond: 0, burst: 10 }, nat: { queriesPerSecond: 1000, burst: 3 } } } }, 'test').rateLimit
  t.equal(workerShare(section, 1), section, 'one worker: as configured')
  const share = workerShare(section, 4)
  t.match(share, { queriesPerSecond: 12.5, burst: 50, ipv4Prefix: 32, maxClients: section.maxClients })
  t.same(share.groups, { vpn: { queriesPerSecond: 0, burst: 2.5 }, nat: { queriesPerSecond: 250, burst: 1 } }, 'a burst never below one query')
  const limiter = new RateLimitStage(share)
  let passed = 0
  for (let i = 0; i < 100; i++) if (limiter.take('10.0.0.1', 0)) passed++
  t.equal(passed, 50, 'a quarter of the burst in one worker')
})
