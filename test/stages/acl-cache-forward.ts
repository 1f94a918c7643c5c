/**
 * The acl, cache and forward stages driven in process through the whole
 * chain (test/fixtures/inject.ts: real stages from config, the real
 * QueryHandler, an in-memory upstream): no socket anywhere, so each case
 * shows the stage's behaviour alone, with the upstream's traffic counted.
 */
import t from 'tap'
import dnsPacket from 'dns-packet'
import { decode, edeOf, encodeResponse, optOf, rr, soa } from '../fixtures/dns-wire.js'
import { inject, type UpstreamFn } from '../fixtures/inject.js'

const LISTS = { 'tiktok.txt': 'tiktok.com\n' }
const CONFIG = { access: { allow: ['10.0.0.0/8', '::1/128'] } }

/** Answers A with 192.0.2.1 (TTL 300), NXDOMAIN for names starting "nx", SERVFAIL for "fail". */
const upstream: UpstreamFn = (query) => {
  const q = decode(query)
  const question = q.questions![0]
  const name = question.name
  if (/^fail/i.test(name)) return encodeResponse({ id: q.id, name, rcode: 2 })
  if (/^nx/i.test(name)) return encodeResponse({ id: q.id, name, rcode: 3, authorities: [soa('example', 3600, 600)] })
  return encodeResponse({ id: q.id, name, type: question.type, answers: [rr('A', name, 300, '192.0.2.1')] })
}

t.test('acl: a client outside access.allow is refused with EDE 18, and nothing goes upstream', async (t) => {
  const g = await inject(CONFIG, LISTS, upstream)
  const out = await g.ask({ name: 'example.org', edns: {} }, '192.0.2.99')
  t.equal(out?.p.rcode, 'REFUSED')
  t.equal(edeOf(optOf(out!.p))?.infoCode, 18)
  t.equal(g.upstreamQueries.length, 0)
  const ok = await g.ask({ name: 'example.org' }, '10.1.2.3')
  t.equal(ok?.p.rcode, 'NOERROR')
  const mapped = await g.ask({ name: 'example.org' }, '::ffff:10.1.2.3')
  t.equal(mapped?.p.rcode, 'NOERROR', 'an IPv4-mapped address is judged as IPv4')
})

t.test('cache: a repeat is answered without the upstream, its TTL aged by the clock', async (t) => {
  const g = await inject(CONFIG, LISTS, upstream)
  const first = await g.ask({ name: 'www.example.org' })
  t.equal((first!.p.answers![0] as dnsPacket.StringAnswer).ttl, 300)
  g.clock.ms += 100_000
  const again = await g.ask({ name: 'WWW.Example.ORG', id: 7 })
  t.equal(g.upstreamQueries.length, 1, 'one upstream query for two answers')
  t.equal(again!.p.id, 7, 'the repeat carries its own ID')
  t.equal(again!.p.questions![0].name, 'WWW.Example.ORG', "and the client's question bytes")
  t.equal((again!.p.answers![0] as dnsPacket.StringAnswer).ttl, 200, 'TTL aged by 100 s')
})

t.test('cache: NXDOMAIN is cached (RFC 2308), SERVFAIL is not', async (t) => {
  const g = await inject(CONFIG, LISTS, upstream)
  t.equal((await g.ask({ name: 'nx.example.org' }))!.p.rcode, 'NXDOMAIN')
  t.equal((await g.ask({ name: 'nx.example.org' }))!.p.rcode, 'NXDOMAIN')
  t.equal(g.upstreamQueries.length, 1, 'the negative answer came from the cache')
  t.equal((await g.ask({ name: 'fail.example.org' }))!.p.rcode, 'SERVFAIL')
  t.equal((await g.ask({ name: 'fail.example.org' }))!.p.rcode, 'SERVFAIL')
  t.equal(g.upstreamQueries.length, 3, 'each SERVFAIL went upstream again')
})

t.test('cache: serve-stale answers an expired entry with EDE 3 when the upstream fails', async (t) => {
  let down = false
  const g = await inject(CONFIG, LISTS, (q) => {
    if (down) throw Object.assign(new Error('upstream down'), { code: 'DNSVAKT_ERR_UPSTREAM' })
    return upstream(q)
  })
  await g.ask({ name: 'stale.example.org', edns: {} })
  g.clock.ms += 400_000
  down = true
  const stale = await g.ask({ name: 'stale.example.org', edns: {} })
  t.equal(stale!.p.rcode, 'NOERROR')
  t.equal(edeOf(optOf(stale!.p))?.infoCode, 3, 'EDE 3 Stale Answer')
  t.equal((stale!.p.answers![0] as dnsPacket.StringAnswer).ttl, 30, 'cache.serveStale.answerTtl')
})

t.test('forward: an upstream failure is SERVFAIL with EDE 22; a blocked name never goes upstream', async (t) => {
  const g = await inject({ ...CONFIG, cache: { enabled: false } }, LISTS, () => {
    throw Object.assign(new Error('no upstream answered'), { code: 'DNSVAKT_ERR_UPSTREAM' })
  })
  const out = await g.ask({ name: 'example.org', edns: {} })
  t.equal(out!.p.rcode, 'SERVFAIL')
  t.equal(edeOf(optOf(out!.p))?.infoCode, 22, 'EDE 22 No Reachable Authority')
  const blocked = await g.ask({ name: 'www.tiktok.com' })
  t.equal(blocked!.p.rcode, 'NXDOMAIN')
  t.equal(g.upstreamQueries.length, 1, 'only example.org was sent')
})

t.test('forward: the upstream answer reaches the client with its ID and question, the upstream gets ours', async (t) => {
  const g = await inject({ ...CONFIG, cache: { enabled: false } }, LISTS, upstream)
  const out = await g.ask({ name: 'Mixed.Example.org', id: 0xbeef })
  t.equal(out!.p.id, 0xbeef)
  t.equal(out!.p.questions![0].name, 'Mixed.Example.org')
  t.equal((out!.p.answers![0] as dnsPacket.StringAnswer).data, '192.0.2.1')
  t.equal(decode(g.upstreamQueries[0]).questions![0].name.toLowerCase(), 'mixed.example.org')
})
