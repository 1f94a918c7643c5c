import t from 'tap'
import { AnswerCache, type AnswerCacheOptions, cacheKey, ENTRY_OVERHEAD } from '../../src/cache/answer-cache.js'
import { readAnswer } from '../../src/dns/read-answer.js'
import dnsPacket from 'dns-packet'
import { decode, encodeResponse, makeQuery, rawQuery, queryOf, rr, soa } from '../fixtures/dns-wire.js'

const S = 1000
const OPTS: AnswerCacheOptions = {
  maxEntries: 1000,
  maxBytes: 1024 * 1024,
  minTtl: 0,
  maxTtl: 86_400 * S,
  negativeMaxTtl: 3_600 * S,
  maxStale: 0,
}

const positive = (ttl: number, name = 'example.com') =>
  readAnswer(encodeResponse({ name, answers: [rr('A', name, ttl, '192.0.2.1'), rr('A', name, ttl + 100, '192.0.2.2')], additionals: [rr('A', 'ns.' + name, ttl + 50, '192.0.2.53')] }))
const nxdomain = (soaTtl: number, minimum: number) =>
  readAnswer(encodeResponse({ name: 'nope.example', rcode: 3, authorities: [soa('example', soaTtl, minimum)] }))
const nodata = (soaTtl: number, minimum: number) =>
  readAnswer(encodeResponse({ name: 'example.com', type: 'MX', authorities: [soa('example.com', soaTtl, minimum)] }))
const ttlsOf = (wire: Buffer) =>
  [...decode(wire).answers!, ...decode(wire).authorities!, ...decode(wire).additionals!].map((r) => (r as { ttl: number }).ttl)

t.test('positive TTLs are clamped to [minTtl, maxTtl], in the entry and in the wire', async (t) => {
  // [what, answer ttl, minTtl s, maxTtl s, expected cache seconds]
  const cases: Array<[string, number, number, number, number]> = [
    ['inside the range', 300, 0, 86_400, 300],
    ['raised to minTtl', 5, 60, 86_400, 60],
    ['lowered to maxTtl', 200_000, 0, 86_400, 86_400],
    ['both limits equal', 5, 30, 30, 30],
    ['at minTtl exactly', 60, 60, 3600, 60],
  ]
  for (const [what, ttl, min, max, expected] of cases) {
    const cache = new AnswerCache({ ...OPTS, minTtl: min * S, maxTtl: max * S })
    const a = positive(ttl)
    const now = 1_000_000
    const { entry, stored } = cache.store('k', a, now)
    t.equal(stored, true, `${what}: stored`)
    t.equal(entry.expiresAt - now, expected * S, `${what}: expires after the clamped TTL`)
    t.equal(entry.storedAt, now, `${what}: storedAt`)
    for (const v of ttlsOf(entry.answer.wire)) t.ok(v >= min && v <= max, `${what}: wire TTL ${v} inside [${min}, ${max}]`)
    t.equal(Math.min(...ttlsOf(entry.answer.wire).slice(0, 2)), expected, `${what}: lowest answer TTL in the wire`)
  }
})

t.test('negative answers: min(SOA TTL, MINIMUM), capped by negativeMaxTtl', async (t) => {
  const cases: Array<[string, ReturnType<typeof nxdomain>, number, number]> = [
    ['NXDOMAIN 900/300', nxdomain(900, 300), 3600, 300],
    ['NXDOMAIN 60/3600', nxdomain(60, 3600), 3600, 60],
    ['NXDOMAIN capped', nxdomain(86_400, 86_400), 3600, 3600],
    ['NODATA 120/120', nodata(120, 120), 3600, 120],
    ['NODATA capped at 10s', nodata(7200, 7200), 10, 10],
  ]
  for (const [what, a, cap, expected] of cases) {
    const cache = new AnswerCache({ ...OPTS, negativeMaxTtl: cap * S })
    const { entry, stored } = cache.store('k', a, 0)
    t.equal(stored, true, `${what}: stored`)
    t.equal(entry.expiresAt, expected * S, `${what}: expiry`)
    const soaTtl = (decode(entry.answer.wire).authorities![0] as { ttl: number }).ttl
    t.ok(soaTtl <= cap, `${what}: SOA TTL in the wire capped (${soaTtl})`)
  }
})

t.test('answers that must not be stored', async (t) => {
  const cases: Array<[string, Buffer]> = [
    ['SERVFAIL', encodeResponse({ name: 'x.example', rcode: 2 })],
    ['SERVFAIL with a SOA', encodeResponse({ name: 'x.example', rcode: 2, authorities: [soa('example', 60, 60)] })],
    ['REFUSED', encodeResponse({ name: 'x.example', rcode: 5 })],
    ['FORMERR', encodeResponse({ name: 'x.example', rcode: 1 })],
    ['TC set', encodeResponse({ name: 'x.example', flags: dnsPacket.TRUNCATED_RESPONSE, answers: [rr('A', 'x.example', 300, '192.0.2.1')] })],
    ['NXDOMAIN without SOA', encodeResponse({ name: 'x.example', rcode: 3 })],
    ['NODATA without SOA', encodeResponse({ name: 'x.example' })],
    ['TTL 0 with minTtl 0', encodeResponse({ name: 'x.example', answers: [rr('A', 'x.example', 0, '192.0.2.1')] })],
    ['negative with SOA minimum 0', encodeResponse({ name: 'x.example', rcode: 3, authorities: [soa('example', 60, 0)] })],
  ]
  for (const [what, wire] of cases) {
    const cache = new AnswerCache({ ...OPTS, maxStale: 3600 * S })
    const { entry, stored } = cache.store('k', readAnswer(wire), 500)
    t.equal(stored, false, `${what}: not stored`)
    t.equal(cache.entries, 0, `${what}: cache still empty`)
    t.equal(cache.get('k', 500), undefined, `${what}: not served`)
    t.equal(entry.expiresAt, 500, `${what}: the returned entry is already expired`)
    t.equal(entry.staleUntil, 500, `${what}: and never servable stale`)
  }
})

t.test('expiry and the stale window, with an injected clock', async (t) => {
  const cache = new AnswerCache({ ...OPTS, maxStale: 30 * S })
  const t0 = 10_000_000
  cache.store('k', positive(60), t0)
  const fresh = (now: number) => {
    const e = cache.get('k', now)
    return e === undefined ? 'gone' : now < e.expiresAt ? 'fresh' : 'stale'
  }
  t.equal(fresh(t0), 'fresh', 'at store time')
  t.equal(fresh(t0 + 60 * S - 1), 'fresh', 'one ms before expiry')
  t.equal(fresh(t0 + 60 * S), 'stale', 'at expiry: stale, still servable')
  t.equal(fresh(t0 + 90 * S - 1), 'stale', 'end of the stale window')
  t.equal(fresh(t0 + 90 * S), 'gone', 'past the stale window')
  t.equal(cache.entries, 0, 'dropped from the cache')

  const noStale = new AnswerCache({ ...OPTS, maxStale: 0 })
  noStale.store('k', positive(60), t0)
  t.ok(noStale.get('k', t0 + 60 * S - 1), 'fresh until expiry')
  t.equal(noStale.get('k', t0 + 60 * S), undefined, 'maxStale 0: gone at expiry')
})

t.test('LRU bound by entries', async (t) => {
  const cache = new AnswerCache({ ...OPTS, maxEntries: 3 })
  for (const k of ['a', 'b', 'c']) cache.store(k, positive(300), 0)
  t.ok(cache.get('a', 1), 'touch a')
  cache.store('d', positive(300), 2)
  t.equal(cache.entries, 3, 'still 3 entries')
  t.equal(cache.get('b', 3), undefined, 'the least recently used (b) went')
  for (const k of ['a', 'c', 'd']) t.ok(cache.get(k, 3), `${k} kept`)
})

t.test('LRU bound by bytes', async (t) => {
  const probe = new AnswerCache(OPTS)
  probe.store('key-0000', positive(300, 'host-0000.example.com'), 0)
  const perEntry = probe.bytes
  t.ok(perEntry >= positive(300, 'host-0000.example.com').wire.length, `an entry counts at least its wire bytes (${perEntry})`)
  const maxBytes = Math.floor(perEntry * 5.5)
  const cache = new AnswerCache({ ...OPTS, maxBytes })
  for (let i = 0; i < 50; i++) {
    const n = String(i).padStart(4, '0')
    cache.store(`key-${n}`, positive(300, `host-${n}.example.com`), i)
    t.ok(cache.bytes <= maxBytes, `after ${i + 1} stores: ${cache.bytes} <= ${maxBytes}`)
  }
  t.equal(cache.entries, 5, 'five entries fit')
  t.ok(cache.get('key-0049', 100), 'the newest is there')
  t.equal(cache.get('key-0000', 100), undefined, 'the oldest went')
  cache.clear()
  t.equal(cache.entries, 0, 'clear empties it')
  t.equal(cache.bytes, 0, 'and frees the bytes')
})

t.test('an answer too large for the byte bound: "stored" tells the truth', async (t) => {
  const cache = new AnswerCache({ ...OPTS, maxBytes: 300 })
  const big = readAnswer(encodeResponse({ name: 'big.example', answers: Array.from({ length: 30 }, (_, i) => rr('A', 'big.example', 300, `192.0.2.${i}`)) }))
  t.ok(big.wire.length > 300, 'test setup: larger than maxBytes')
  const { stored } = cache.store('big', big, 0)
  t.equal(stored, cache.get('big', 0) !== undefined, `stored=${stored} must match whether the cache holds it`)
})

t.test('cacheKey', async (t) => {
  const key = (o: Parameters<typeof makeQuery>[0]) => cacheKey(makeQuery(o))
  const base = { name: 'example.com', type: 'A' }
  t.equal(key({ ...base, name: 'ExAmPlE.CoM' }), key(base), 'case-insensitive (0x20)')
  t.equal(key({ ...base, id: 1 }), key({ ...base, id: 2 }), 'id is not part of it')
  t.equal(key({ ...base, edns: { udpSize: 4096 } }), key(base), 'EDNS size is not part of it')
  const different: Array<[string, Parameters<typeof makeQuery>[0]]> = [
    ['qtype AAAA', { ...base, type: 'AAAA' }],
    ['qtype HTTPS', { ...base, type: 'UNKNOWN_65' }],
    ['DO bit', { ...base, edns: { udpSize: 1232, do: true } }],
    ['CD bit', { ...base, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED }],
    ['qclass CH', { ...base, class: 'CH' }],
    ['another name', { ...base, name: 'example.net' }],
    ['a subdomain', { ...base, name: 'www.example.com' }],
  ]
  const keys = new Set([key(base)])
  for (const [what, o] of different) {
    const k = key(o)
    t.not(k, key(base), what)
    keys.add(k)
  }
  t.equal(keys.size, different.length + 1, 'all pairwise distinct')
  // Odd bytes: "a.b" as one label is not the name a.b
  const oneLabel = cacheKey(queryOf(rawQuery([Buffer.from('example.com')])))
  const twoLabels = cacheKey(queryOf(rawQuery([Buffer.from('example'), Buffer.from('com')])))
  t.not(oneLabel, twoLabels, 'a dot inside a label is a different key')
  // The key is all a cache needs: an entry stored under one spelling is found under another.
  const cache = new AnswerCache(OPTS)
  cache.store(key({ ...base, name: 'EXAMPLE.com' }), positive(60), 0)
  t.ok(cache.get(key({ ...base, name: 'example.COM' }), 1), 'found under another letter case')
  t.equal(cache.get(key({ ...base, edns: { udpSize: 1232, do: true } }), 1), undefined, 'not for a DO query')
})

t.test('the byte bound counts what an entry really costs, not just its answer bytes', async (t) => {
  const cache = new AnswerCache({ ...OPTS, maxEntries: 1_000_000, maxBytes: 1024 * 1024 })
  let expected = 0
  for (let i = 0; i < 100; i++) {
    const key = `1/1/00/h${i}.bench.test`
    const { entry } = cache.store(key, positive(300, `h${i}.bench.test`), 0)
    expected += entry.size + key.length + ENTRY_OVERHEAD
  }
  t.equal(cache.bytes, expected)
  t.ok(ENTRY_OVERHEAD >= 700, 'the measured per-entry overhead (docs/benchmarks.md), not the old guess of 200')
  for (let i = 100; i < 5000; i++) cache.store(`1/1/00/h${i}.bench.test`, positive(300, `h${i}.bench.test`), 0)
  t.ok(cache.bytes <= 1024 * 1024, 'within the bound')
  t.ok(cache.entries < 1024 * 1024 / ENTRY_OVERHEAD, `1 MiB holds ${cache.entries} entries, fewer than 1 MiB / overhead`)
})

t.test('a CNAME chain counts its target strings', async (t) => {
  const cache = new AnswerCache(OPTS)
  const a = readAnswer(encodeResponse({ name: 'www.example.com', answers: [rr('CNAME', 'www.example.com', 60, 'cdn.example.net'), rr('A', 'cdn.example.net', 60, '192.0.2.1')] }))
  const { entry } = cache.store('k', a, 0)
  t.equal(entry.size, a.wire.length + 8 * 3 + 24 + 'cdn.example.net'.length)
})
