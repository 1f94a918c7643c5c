/**
 * The listener edge in process, with a recording sink: UDP replies never
 * exceed min(client's size, udpMaxPayload) and carry TC=1 when cut (a 43-byte
 * query advertising 65,000 bytes used to get a 21 KB reply); a TCP reply over
 * 65,535 bytes is TC=1 instead of a throw; oversized queries are FORMERR or
 * dropped; a throwing chain is SERVFAIL.
 */
import t from 'tap'
import dnsPacket from 'dns-packet'
import { QueryHandler, type QueryHandlerOptions, type ReplySink } from '../../src/server/query-handler.js'
import type { Next } from '../../src/pipeline/types.js'
import type { PolicySnapshot } from '../../src/lists/policy-snapshot.js'
import { decode, encodeQuery } from '../fixtures/dns-wire.js'

/** A reply to `q` padded with TXT records to about `size` bytes, encoded by dns-packet. */
function answerOfSize(query: Buffer, size: number): Buffer {
  const q = dnsPacket.decode(query)
  const answers: dnsPacket.Answer[] = []
  for (let total = 40; total < size; total += 255 + 14) {
    answers.push({ type: 'TXT', name: q.questions![0].name, ttl: 60, data: ['x'.repeat(255)] } as dnsPacket.Answer)
  }
  return dnsPacket.encode({ type: 'response', id: q.id, flags: 0x8180, questions: q.questions, answers })
}

function setup(chain: Next, opts: QueryHandlerOptions = {}) {
  const sent: Buffer[] = []
  let dropped = 0
  const sink: ReplySink = { send: (w) => void sent.push(w), dropped: () => void dropped++ }
  const handler = new QueryHandler(chain, () => null as unknown as PolicySnapshot, () => 0, { observe() {}, error() {} }, opts)
  return { sent, sink, handler, dropped: () => dropped }
}

t.test('UDP: replies capped at min(client size, udpMaxPayload), TC=1 when cut', async (t) => {
  const big = (size: number): Next => (q) => ({ kind: 'answer', wire: answerOfSize(q.wire, size), source: 'forwarded' })
  const cases: Array<[string, number | false, number | undefined, number, boolean]> = [
    // [what, client EDNS size (false: no EDNS), udpMaxPayload, answer size, truncated]
    ['client asks 65,000, default max 1232: a 21 KB answer is cut', 65000, undefined, 21000, true],
    ['client asks 65,000, default max 1232: 1,100 bytes pass', 65000, undefined, 1100, false],
    ['client asks 600: 1,100 bytes are cut', 600, undefined, 1100, true],
    ['no EDNS: 512', false, undefined, 600, true],
    ['udpMaxPayload 4096, client 65,000: 3,500 bytes pass', 65000, 4096, 3500, false],
    ['udpMaxPayload 4096, client 65,000: 5,000 bytes are cut', 65000, 4096, 5000, true],
  ]
  for (const [what, udpSize, max, size, truncated] of cases) {
    const h = setup(big(size), { udpMaxPayload: max })
    const query = encodeQuery({ name: 'big.example', id: 77, edns: udpSize === false ? false : { udpSize } })
    h.handler.handle(query, '10.0.0.1', 5353, 'udp', h.sink)
    const reply = h.sent[0]
    const limit = Math.min(udpSize === false ? 512 : udpSize, max ?? 1232)
    t.ok(reply.length <= limit, `${what}: ${reply.length} <= ${limit}`)
    const d = decode(reply)
    t.equal((d.flags! & 0x200) !== 0, truncated, `${what}: TC ${truncated}`)
    t.equal(d.id, 77)
    if (truncated) t.equal(d.answers?.length, 0, 'no records in a cut answer')
  }
})

t.test('TCP: a reply over 65,535 bytes is TC=1, not a throw', async (t) => {
  const h = setup((q) => ({ kind: 'answer', wire: Buffer.concat([answerOfSize(q.wire, 60000), Buffer.alloc(10000)]), source: 'forwarded' }))
  h.handler.handle(encodeQuery({ name: 'huge.example', id: 9 }), '10.0.0.1', 5353, 'tcp', h.sink)
  t.equal(h.sent.length, 1, 'the client gets an answer')
  const d = decode(h.sent[0])
  t.equal(d.id, 9)
  t.ok((d.flags! & 0x200) !== 0, 'TC=1')
  t.ok(h.sent[0].length < 512)
})

t.test('oversized queries: FORMERR, or nothing for a response', async (t) => {
  let calls = 0
  const h = setup(() => (calls++, { kind: 'drop', source: 'refused' }))
  const padded = Buffer.concat([encodeQuery({ name: 'pad.example', id: 5 }), Buffer.alloc(5000)])
  h.handler.handle(padded, '10.0.0.1', 5353, 'udp', h.sink)
  t.equal(decode(h.sent[0]).rcode, 'FORMERR')
  t.ok(h.sent[0].length < 100, 'a small answer')
  padded[2] |= 0x80
  h.handler.handle(padded, '10.0.0.1', 5353, 'udp', h.sink)
  t.equal(h.sent.length, 1, 'a response is never answered')
  t.equal(h.dropped(), 1)
  t.equal(calls, 0, 'the chain never saw them')
})

t.test('a name over 255 bytes: FORMERR without echoing the illegal question (found by the fuzzer)', async (t) => {
  const h = setup(() => ({ kind: 'drop', source: 'refused' }))
  const label = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])
  const wire = Buffer.concat([Buffer.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), label, label, label, label, label, Buffer.from([0, 0, 1, 0, 1])])
  h.handler.handle(wire, '10.0.0.1', 5353, 'udp', h.sink)
  const d = decode(h.sent[0]) // dns-packet refuses a reply that carries a name over 255 bytes
  t.equal(d.rcode, 'FORMERR')
  t.equal(d.id, 7)
  t.equal(d.questions?.length, 0)
})
