import t from 'tap'
import dnsPacket from 'dns-packet'
import { CacheEntry, renderEntry } from '../../src/cache/cache-entry.js'
import { makeEde } from '../../src/dns/build-reply.js'
import { readAnswer } from '../../src/dns/read-answer.js'
import { decode, decodedBytes, edeOf, encodeQuery, encodeResponse, makeQuery, optOf, optRecord, rr, soa, type QueryOptions } from '../fixtures/dns-wire.js'

const S = 1000
const STORED = 50_000_000

/** Upstream answer for example.com A: TTLs 300/60/5 in answer, 900 in authority, 30 in additional. */
function upstream(flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, rcode = 0) {
  return encodeResponse({
    id: 0,
    name: 'example.com',
    flags,
    rcode,
    answers: [rr('A', 'example.com', 300, '192.0.2.1'), rr('A', 'example.com', 60, '192.0.2.2'), rr('A', 'example.com', 5, '192.0.2.3')],
    authorities: [rr('NS', 'example.com', 900, 'ns.example.com')],
    additionals: [rr('A', 'ns.example.com', 30, '192.0.2.53'), optRecord({ udpSize: 1232, do: true })],
  })
}
const ORIGINAL_TTLS = [300, 60, 5, 900, 30]

const entryOf = (wire: Buffer) => new CacheEntry(readAnswer(wire), STORED, STORED + 5 * S, STORED + 3600 * S)
const ttls = (wire: Buffer) => {
  const p = decode(wire)
  return [...p.answers!, ...p.authorities!, ...p.additionals!].filter((r) => r.type !== 'OPT').map((r) => (r as { ttl: number }).ttl)
}

const CLIENTS: Array<[string, QueryOptions]> = [
  ['plain RD', { id: 0xbeef, name: 'ExAmPlE.CoM' }],
  ['no RD', { id: 0x0001, name: 'EXAMPLE.COM', flags: 0 }],
  ['CD', { id: 0x0002, name: 'example.com', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED }],
  ['EDNS', { id: 0x0003, name: 'eXample.com', edns: { udpSize: 1232 } }],
  ['EDNS+DO', { id: 0x0004, name: 'examplE.com', edns: { udpSize: 4096, do: true } }],
]

t.test('the client gets its own ID, question bytes (0x20), RD/CD, and the upstream rcode', async (t) => {
  for (const rcode of [0, 3]) {
    const entry = entryOf(upstream(undefined, rcode))
    for (const [what, opts] of CLIENTS) {
      const request = encodeQuery(opts)
      const q = makeQuery(opts)
      const out = renderEntry(entry, q, STORED)
      const p = decode(out)
      t.equal(decodedBytes(), out.length, `${what}: exact length`)
      const asked = decode(request)
      t.equal(p.id, opts.id, `${what}: id`)
      t.same(out.subarray(12, q.questionEnd), request.subarray(12, q.questionEnd), `${what}: question bytes of the client`)
      t.equal(p.flag_qr, true, `${what}: QR`)
      t.equal(p.flag_ra, true, `${what}: RA`)
      t.equal(p.flag_rd, asked.flag_rd, `${what}: RD echoed`)
      t.equal(p.flag_cd, asked.flag_cd, `${what}: CD echoed`)
      t.equal(p.rcode, rcode === 0 ? 'NOERROR' : 'NXDOMAIN', `${what}: rcode`)
      t.same((p.answers as Array<{ data: string }>).map((a) => a.data), ['192.0.2.1', '192.0.2.2', '192.0.2.3'], `${what}: answers`)
    }
  }
})

t.test('TTLs are aged by whole seconds and never go below zero', async (t) => {
  const entry = entryOf(upstream())
  const q = makeQuery({ name: 'example.com' })
  // [ms since stored, expected TTLs]
  const cases: Array<[number, number[]]> = [
    [0, ORIGINAL_TTLS],
    [999, ORIGINAL_TTLS],
    [1000, ORIGINAL_TTLS.map((x) => x - 1)],
    [1999, ORIGINAL_TTLS.map((x) => x - 1)],
    [4 * S + 500, ORIGINAL_TTLS.map((x) => x - 4)],
    [5 * S, ORIGINAL_TTLS.map((x) => Math.max(0, x - 5))],
    [61 * S, ORIGINAL_TTLS.map((x) => Math.max(0, x - 61))],
    [10_000 * S, ORIGINAL_TTLS.map(() => 0)],
  ]
  for (const [age, expected] of cases) {
    t.same(ttls(renderEntry(entry, q, STORED + age)), expected, `${age} ms in cache`)
  }
  t.same(ttls(entry.answer.wire), ORIGINAL_TTLS, 'the entry itself is never aged in place')
})

t.test('stale answers: one fixed TTL everywhere, EDE 3 for EDNS clients', async (t) => {
  const entry = entryOf(upstream())
  const stale = makeEde(3)
  for (const [what, opts] of CLIENTS) {
    const q = makeQuery(opts)
    const out = renderEntry(entry, q, STORED + 7200 * S, 30, stale)
    const p = decode(out)
    t.same(ttls(out), ORIGINAL_TTLS.map(() => 30), `${what}: all TTLs 30`)
    const opt = optOf(p)
    t.equal(opt !== undefined, q.edns, `${what}: OPT iff EDNS`)
    if (opt) t.same(edeOf(opt), { infoCode: 3, text: '' }, `${what}: EDE 3 Stale Answer`)
  }
  const q = makeQuery({ name: 'example.com' })
  t.same(ttls(renderEntry(entry, q, STORED + 7200 * S, 0)), ORIGINAL_TTLS.map(() => 0), 'fixed TTL 0 is honoured')
})

t.test('OPT: ours, only for EDNS clients; the upstream records stay', async (t) => {
  const entry = entryOf(upstream())
  for (const [what, opts] of CLIENTS) {
    const q = makeQuery(opts)
    const p = decode(renderEntry(entry, q, STORED))
    const opts2 = p.additionals!.filter((r) => r.type === 'OPT')
    t.equal(opts2.length, q.edns ? 1 : 0, `${what}: OPT count`)
    t.same(p.additionals!.filter((r) => r.type !== 'OPT').map((r) => r.name), ['ns.example.com'], `${what}: glue kept`)
    const opt = optOf(p)
    if (opt) {
      t.equal(opt.flag_do, q.dnssecOk, `${what}: DO echoed`)
      t.equal(edeOf(opt), undefined, `${what}: no EDE on a normal answer`)
    }
  }
})

t.test('AD bit only for clients that set DO or AD (RFC 6840 s5.8)', async (t) => {
  const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE
  const withAd = entryOf(upstream(flags | dnsPacket.AUTHENTIC_DATA))
  const withoutAd = entryOf(upstream(flags))
  // [what, client, AD expected from an AD upstream answer]
  const cases: Array<[string, QueryOptions, boolean]> = [
    ['plain client', { name: 'example.com' }, false],
    ['EDNS without DO', { name: 'example.com', edns: { udpSize: 1232 } }, false],
    ['DO client', { name: 'example.com', edns: { udpSize: 1232, do: true } }, true],
    ['AD client without EDNS', { name: 'example.com', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA }, true],
  ]
  for (const [what, opts, ad] of cases) {
    const q = makeQuery(opts)
    t.equal(decode(renderEntry(withAd, q, STORED)).flag_ad, ad, `${what}: AD from an authenticated answer`)
    t.equal(decode(renderEntry(withoutAd, q, STORED)).flag_ad, false, `${what}: never AD when upstream did not set it`)
  }
})

t.test('a truncated upstream answer keeps TC when rendered', async (t) => {
  // The forward stage renders every upstream answer through renderEntry; TC must reach the client,
  // or it takes a partial answer for a whole one and never retries over TCP (RFC 1035 s4.2.1).
  const tc = readAnswer(encodeResponse({ name: 'big.example', flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.RECURSION_AVAILABLE, answers: [rr('A', 'big.example', 60, '192.0.2.1')] }))
  t.equal(tc.truncated, true, 'test setup: readAnswer saw TC')
  const entry = new CacheEntry(tc, STORED, STORED, STORED)
  t.equal(decode(renderEntry(entry, makeQuery({ name: 'big.example' }), STORED)).flag_tc, true, 'TC set')
})

t.test('rendering copies: the entry is unchanged and renders are independent', async (t) => {
  const entry = entryOf(upstream())
  const before = Buffer.from(entry.answer.wire)
  const a = renderEntry(entry, makeQuery({ id: 1, name: 'EXAMPLE.com' }), STORED + 3 * S)
  const b = renderEntry(entry, makeQuery({ id: 2, name: 'example.COM', edns: { udpSize: 1232 } }), STORED + 4 * S, 30, makeEde(3))
  t.ok(entry.answer.wire.equals(before), 'entry wire untouched')
  t.equal(decode(a).id, 1)
  t.equal(decode(b).id, 2)
  t.not(a, b)
  const kept = entry.answer
  const offsets = kept.ttlOffsets.length + kept.v4Offsets.length + kept.v6Offsets.length + kept.extraV4Offsets.length + kept.extraV6Offsets.length
  t.equal(kept.extraV4Offsets.length, 1, 'test setup: the glue A of the additional section is kept for inspection')
  t.equal(entry.size, kept.wire.length + 8 * offsets, 'size: the wire and the offsets kept (no CNAME or target names here)')
  // A negative answer renders its SOA with aged TTLs too.
  const neg = new CacheEntry(readAnswer(encodeResponse({ name: 'x.example', rcode: 3, authorities: [soa('example', 100, 100)] })), STORED, STORED + 100 * S, STORED + 100 * S)
  t.same(ttls(renderEntry(neg, makeQuery({ name: 'x.example' }), STORED + 40 * S)), [60], 'SOA TTL aged')
})
