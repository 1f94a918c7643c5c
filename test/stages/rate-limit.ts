import t from 'tap'
import { RateLimitStage } from '../../src/stages/rate-limit.js'
import type { Next, Reply } from '../../src/pipeline/types.js'
import type { Transport } from '../../src/pipeline/transport.js'
import { decode, makeQuery } from '../fixtures/dns-wire.js'

const S = 1000
const FORWARDED: Reply = { kind: 'answer', wire: Buffer.alloc(12), source: 'forwarded' }

function harness(perSecond: number, burst: number) {
  const stage = new RateLimitStage(perSecond, burst)
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
  const s = new RateLimitStage(1, 2)
  t.same([s.take('a', 0), s.take('a', 0), s.take('a', 0), s.take('a', 1000), s.take('a', 1000)], [true, true, false, true, false])
})
