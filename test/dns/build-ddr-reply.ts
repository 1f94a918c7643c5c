/**
 * The DDR SVCB records (build-ddr-reply.ts) and when they are given
 * (ddr-designation.ts): decoded with dns-packet plus the RFC 9460 reader in
 * fixtures/svcb.ts.
 */
import t from 'tap'
import dnsPacket from 'dns-packet'
import { buildDdrReply, makeDdrPlan } from '../../src/dns/build-ddr-reply.js'
import { DdrDesignation } from '../../src/policy/ddr-designation.js'
import { parseSvcb } from '../fixtures/svcb-reader.js'
import { makeQuery } from '../fixtures/dns-wire.js'

const SVCB = 'UNKNOWN_64'
const records = (wire: Buffer) => dnsPacket.decode(wire).answers!.map((a) => a as unknown as { ttl: number; type: string; data: Buffer }).map((a) => ({ ttl: a.ttl, type: a.type, ...parseSvcb(a.data) }))

t.test('one record per protocol and port, DoT first, hints from the listener addresses', async (t) => {
  const plan = makeDdrPlan('dns.kommune.example', [
    { transport: 'doh', address: '10.0.0.53', port: 443 },
    { transport: 'dot', address: '10.0.0.53', port: 853 },
    { transport: 'dot', address: '2001:db8::53', port: 853 },
    { transport: 'doh', address: '::', port: 8443 },
  ], 300)!
  const q = makeQuery({ name: '_dns.resolver.arpa', type: SVCB, edns: {} })
  const d = dnsPacket.decode(buildDdrReply(q, plan))
  t.equal(d.id, q.id)
  t.equal((d as unknown as { rcode: string }).rcode, 'NOERROR')
  t.equal(d.additionals!.length, 1, 'an OPT for an EDNS client')
  t.same(records(buildDdrReply(q, plan)), [
    { ttl: 300, type: SVCB, priority: 1, target: 'dns.kommune.example', alpn: ['dot'], port: 853, ipv4hint: ['10.0.0.53'], ipv6hint: ['2001:db8:0:0:0:0:0:53'] },
    { ttl: 300, type: SVCB, priority: 2, target: 'dns.kommune.example', alpn: ['h2'], port: 443, ipv4hint: ['10.0.0.53'], dohpath: '/dns-query{?dns}' },
    { ttl: 300, type: SVCB, priority: 3, target: 'dns.kommune.example', alpn: ['h2'], port: 8443, dohpath: '/dns-query{?dns}' },
  ], 'a wildcard listener gives no hint')
  const noEdns = makeQuery({ name: '_dns.resolver.arpa', type: SVCB })
  t.same(dnsPacket.decode(buildDdrReply(noEdns, plan)).additionals, [])
  t.equal(makeDdrPlan('dns.test', [], 300), null, 'no listeners: no plan')
})

t.test('DdrDesignation answers SVCB for the two designation names only, once designated', async (t) => {
  const ddr = new DdrDesignation()
  const ask = (name: string, type = SVCB) => ddr.answer(makeQuery({ name, type }))
  t.equal(ask('_dns.resolver.arpa'), null, 'nothing before the listeners are bound')
  ddr.designate(makeDdrPlan('dns.test', [{ transport: 'dot', address: '127.0.0.1', port: 853 }], 60))
  t.ok(ddr.active)
  t.equal(ask('_dns.resolver.arpa')!.block!.category, 'builtin')
  t.ok(ask('_dns.dns.test'))
  t.equal(ask('_dns.other.test'), null)
  t.equal(ask('_dns.resolver.arpa', 'A'), null, 'other types go on to the policy stage')
  ddr.designate(null)
  t.notOk(ddr.active)
  t.equal(ask('_dns.resolver.arpa'), null)
})
