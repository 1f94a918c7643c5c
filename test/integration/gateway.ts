/**
 * End to end: the whole gateway on loopback sockets against a scripted fake
 * upstream, answers decoded by dns-packet.
 */
import t from 'tap'
import dnsPacket from 'dns-packet'
import { decode, edeOf, encodeQuery, tcpAsk, tcpAskMany, udpAsk, udpRaw } from '../fixtures/dns-client.js'
import { startHarness } from '../fixtures/gateway-harness.js'

const aOf = (p: dnsPacket.Packet) => (p.answers ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: string }).data)
const ttlOf = (p: dnsPacket.Packet) => ((p.answers ?? [])[0] as { ttl?: number } | undefined)?.ttl

t.test('forwarding, cache and blocking over UDP and TCP', async (t) => {
  const h = await startHarness()
  t.teardown(() => h.close())

  await t.test('a forwarded answer echoes ID and the 0x20 question', async (t) => {
    const r = await udpAsk(h.port, { name: 'WwW.ExAmPle.TEST', id: 4242 })
    t.equal(r.id, 4242)
    t.equal(r.questions?.[0].name, 'WwW.ExAmPle.TEST')
    t.equal(r.rcode, 'NOERROR')
    t.ok(r.flag_ra && r.flag_rd, 'RA set, RD echoed')
    t.same(aOf(r), ['192.0.2.1'])
    t.equal(h.up.countFor('www.example.test'), 1)
  })

  await t.test('a repeat comes from the cache with a lower TTL', async (t) => {
    h.clock.ms += 10_000
    const r = await udpAsk(h.port, { name: 'www.example.test' })
    t.equal(ttlOf(r), 290)
    t.equal(h.up.countFor('www.example.test'), 1, 'no second upstream query')
  })

  await t.test('TCP answers the same', async (t) => {
    const r = await tcpAsk(h.port, { name: 'tcp.example.test', type: 'AAAA' })
    t.equal((r.answers?.[0] as { data: string }).data, '2001:db8::1')
  })

  await t.test('a blocked name gets NXDOMAIN, SOA and EDE 15, and never goes upstream', async (t) => {
    for (const name of ['tiktok.com', 'Www.TikTok.com', 'a.b.c.tiktokv.com', 'telegram.org', 't.me']) {
      for (const type of ['A', 'AAAA', 'HTTPS', 'TXT']) {
        const r = await udpAsk(h.port, { name, type })
        t.equal(r.rcode, 'NXDOMAIN', `${name} ${type}`)
        t.equal(r.authorities?.[0]?.type, 'SOA')
        t.same(edeOf(r), { code: 15, text: 'Blocked by municipal ICT rules (NSM 2023)' })
      }
      t.equal(h.up.countFor(name), 0, `${name} not sent upstream`)
    }
  })

  await t.test('lookalikes are forwarded', async (t) => {
    for (const name of ['xtiktok.com', 'tiktok.com.example.org', 'nottelegram.org']) {
      const r = await udpAsk(h.port, { name })
      t.equal(r.rcode, 'NOERROR', name)
      t.equal(h.up.countFor(name), 1)
    }
  })

  await t.test('the Firefox canary is NXDOMAIN and DDR is NODATA', async (t) => {
    t.equal((await udpAsk(h.port, { name: 'use-application-dns.net' })).rcode, 'NXDOMAIN')
    const ddr = await udpAsk(h.port, { name: '_dns.resolver.arpa', type: 'SVCB' })
    t.equal(ddr.rcode, 'NOERROR')
    t.equal(ddr.answers?.length, 0)
  })

  await t.test('a CNAME cloak through a blocked name is blocked, also from the cache', async (t) => {
    h.up.setRule('cloak.example.test', { answers: [{ type: 'CNAME', data: 'edge.tiktokv.com' }, { type: 'A', name: 'edge.tiktokv.com', data: '192.0.2.99' }] })
    for (let i = 0; i < 2; i++) {
      const r = await udpAsk(h.port, { name: 'cloak.example.test' })
      t.equal(r.rcode, 'NXDOMAIN', `try ${i + 1}`)
      t.equal(edeOf(r)?.code, 15)
    }
    t.equal(h.up.countFor('cloak.example.test'), 1, 'second answer came from the cache and was inspected again')
  })

  await t.test('an answer in Telegram\'s address ranges is blocked', async (t) => {
    h.up.setRule('dc.example.test', { answers: [{ type: 'A', data: '149.154.167.50' }] })
    h.up.setRule('dc6.example.test', { answers: [{ type: 'AAAA', data: '2001:67c:4e8::1' }] })
    t.equal((await udpAsk(h.port, { name: 'dc.example.test' })).rcode, 'NXDOMAIN')
    t.equal((await udpAsk(h.port, { name: 'dc6.example.test', type: 'AAAA' })).rcode, 'NXDOMAIN')
    h.up.setRule('near.example.test', { answers: [{ type: 'A', data: '149.154.176.1' }] })
    t.same(aOf(await udpAsk(h.port, { name: 'near.example.test' })), ['149.154.176.1'], 'outside the /20')
  })

  await t.test('an answer too big for UDP comes back with TC=1; TCP gets it whole', async (t) => {
    h.up.setRule('big.example.test', { big: true })
    const r = await udpAsk(h.port, { name: 'big.example.test', edns: false })
    t.ok(r.flag_tc, 'TC set')
    t.equal(r.answers?.length, 0)
    t.ok(r.raw.length <= 512)
    const full = await tcpAsk(h.port, { name: 'big.example.test' })
    t.equal(full.answers?.length, 60)
  })

  await t.test('TCP: pipelined queries answered out of order, frames split byte by byte', async (t) => {
    h.up.setRule('slow.example.test', { delay: 150 })
    const wires = [encodeQuery({ name: 'slow.example.test', id: 1 }), encodeQuery({ name: 'fast1.example.test', id: 2 }), encodeQuery({ name: 'tiktok.com', id: 3 })]
    const replies = await tcpAskMany(h.port, wires, { chunk: 1 })
    const ids = replies.map((r) => r.readUInt16BE(0))
    t.same([...ids].sort(), [1, 2, 3])
    t.equal(ids[2], 1, 'the slow answer came last')
  })

  await t.test('identical concurrent misses share one upstream exchange', async (t) => {
    h.up.setRule('shared.example.test', { delay: 100 })
    const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => udpAsk(h.port, { name: i % 2 ? 'SHARED.example.test' : 'shared.example.test', id: 100 + i })))
    t.same(rs.map((r) => r.id), [100, 101, 102, 103, 104])
    t.equal(rs[1].questions?.[0].name, 'SHARED.example.test')
    t.equal(h.up.countFor('shared.example.test'), 1)
  })

  await t.test('forged replies are ignored and counted; the real one is accepted', async (t) => {
    for (const forge of ['wrong-id', 'wrong-question', 'wrong-port'] as const) {
      h.up.setRule(`xforge-${forge}.example.test`, { forge })
      const r = await udpAsk(h.port, { name: `xforge-${forge}.example.test` })
      t.same(aOf(r), ['192.0.2.1'], forge)
    }
    const metrics = await h.gw.metrics.registry.metrics()
    t.match(metrics, /dnsvakt_upstream_ignored_replies_total\{[^}]*reason="wrong-question"[^}]*\} [1-9]/)
    t.match(metrics, /dnsvakt_upstream_ignored_replies_total\{[^}]*reason="wrong-source"[^}]*\} [1-9]/)
  })

  await t.test('a truncated upstream answer is retried over TCP', async (t) => {
    h.up.setRule('tc.example.test', { truncate: true })
    const r = await udpAsk(h.port, { name: 'tc.example.test' })
    t.same(aOf(r), ['192.0.2.1'])
    t.equal(h.up.queries.filter((q) => q.name === 'tc.example.test' && q.transport === 'tcp').length, 1)
  })

  await t.test('NXDOMAIN from upstream is cached for the SOA negative TTL', async (t) => {
    h.up.setRule('nx.example.test', { rcode: 'NXDOMAIN', soaTtl: 60, soaMinimum: 30 })
    t.equal((await udpAsk(h.port, { name: 'nx.example.test' })).rcode, 'NXDOMAIN')
    h.clock.ms += 29_000
    t.equal((await udpAsk(h.port, { name: 'nx.example.test' })).rcode, 'NXDOMAIN')
    t.equal(h.up.countFor('nx.example.test'), 1)
    h.clock.ms += 2_000
    await udpAsk(h.port, { name: 'nx.example.test' })
    t.equal(h.up.countFor('nx.example.test'), 2, 'expired after 30 s')
  })

  await t.test('bad packets: garbage is survived, FORMERR/NOTIMP/BADVERS with ID echoed', async (t) => {
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.alloc(1 + ((i * 37) % 300))
      for (let j = 0; j < junk.length; j++) junk[j] = (i * 131 + j * 17) & 0xff
      await udpRaw(h.port, junk, 5)
    }
    const noQuestion = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])
    const formerr = decode((await udpRaw(h.port, noQuestion))!)
    t.equal(formerr.id, 0x1234)
    t.equal(formerr.rcode, 'FORMERR')
    const notimp = Buffer.from(encodeQuery({ name: 'x.test', id: 7 }))
    notimp[2] = (notimp[2] & 0x87) | (2 << 3) // opcode STATUS
    t.equal(decode((await udpRaw(h.port, notimp))!).rcode, 'NOTIMP')
    const v1 = encodeQuery({ name: 'x.test', id: 8 })
    v1[v1.length - 5] = 1 // EDNS version 1 (OPT TTL byte 2)
    const badvers = (await udpRaw(h.port, v1))!
    t.equal(badvers.readUInt16BE(0), 8)
    const opt = dnsPacket.decode(badvers).additionals?.find((a) => a.type === 'OPT') as unknown as { extendedRcode: number }
    t.equal(opt?.extendedRcode, 1, 'BADVERS: extended rcode 1 (16 >> 4)')
    const response = encodeQuery({ name: 'x.test' })
    response[2] |= 0x80
    t.equal(await udpRaw(h.port, response, 200), null, 'a packet with QR=1 is ignored')
    t.same(aOf(await udpAsk(h.port, { name: 'still.example.test' })), ['192.0.2.1'], 'still answering')
  })
})

t.test('upstream failure: SERVFAIL within the deadline, then serve-stale', async (t) => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await udpAsk(h.port, { name: 'stale.example.test' })
  h.up.setRule('stale.example.test', { drop: true })
  h.up.setRule('dead.example.test', { drop: true })
  const t0 = Date.now()
  const r = await udpAsk(h.port, { name: 'dead.example.test' })
  t.equal(r.rcode, 'SERVFAIL')
  t.ok(Date.now() - t0 < 2500, 'answered within the deadline (800 ms) plus slack')
  h.clock.ms += 400_000
  const s = await udpAsk(h.port, { name: 'stale.example.test' })
  t.same(aOf(s), ['192.0.2.1'], 'stale answer')
  t.equal(ttlOf(s), 30)
  t.equal(edeOf(s)?.code, 3, 'EDE 3 Stale Answer')
})

t.test('a client outside access.allow gets REFUSED', async (t) => {
  const h = await startHarness({ access: { allow: ['10.0.0.0/8'] } })
  t.teardown(() => h.close())
  const r = await udpAsk(h.port, { name: 'www.example.test' })
  t.equal(r.rcode, 'REFUSED')
  t.equal(edeOf(r)?.code, 18)
  t.equal(h.up.queries.length, 0)
})

t.test('a group enforcing nothing resolves TikTok; the canary still gets NXDOMAIN', async (t) => {
  const h = await startHarness({ groups: { default: { enforce: [] } } })
  t.teardown(() => h.close())
  t.same(aOf(await udpAsk(h.port, { name: 'www.tiktok.com' })), ['192.0.2.1'])
  t.equal((await udpAsk(h.port, { name: 'use-application-dns.net' })).rcode, 'NXDOMAIN')
})

t.test('decision log: blocked events with a truncated client address, no raw address', async (t) => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await udpAsk(h.port, { name: 'www.tiktok.com' })
  await udpAsk(h.port, { name: 'allowed.example.test' })
  const events = h.logs.map((l) => JSON.parse(l)).filter((e) => e.event === 'blocked')
  t.equal(events.length, 1)
  t.match(events[0], { name: 'www.tiktok.com', category: 'tiktok', caughtBy: 'name', entry: 'tiktok.com', client: '127.0.0.0/24', group: 'default' })
  t.notOk(h.logs.some((l) => l.includes('"127.0.0.1"')), 'the full address is never logged')
  t.notOk(h.logs.some((l) => l.includes('allowed.example.test')), 'forwarded queries are not logged by default')
})

t.test('an exemption lifts one category for one client until it expires', async (t) => {
  const lists = {
    'tiktok.txt': 'tiktok.com\n',
    'telegram.txt': 'telegram.org\n',
    'exemptions.yaml': [
      'exemptions:',
      '  - id: RA-2026-014',
      '    client: 127.0.0.1/32',
      '    categories: [telegram]',
      '    reason: crisis communication (risk assessment RA-2026-014)',
      '    approvedBy: information security officer',
      '    expires: "2026-11-24T00:00:00Z"',
      '',
    ].join('\n'),
  }
  // clientAddress full: only then does the exempted line carry the exemption id (it names the device).
  const h = await startHarness({ groups: { default: { enforce: ['tiktok', 'telegram'] } }, log: { clientAddress: 'full' } }, lists)
  t.teardown(() => h.close())
  t.same((await udpAsk(h.port, { name: 'web.telegram.org' })).rcode, 'NOERROR', 'exempt: telegram resolves')
  t.equal((await udpAsk(h.port, { name: 'tiktok.com' })).rcode, 'NXDOMAIN', 'tiktok still blocked')
  t.ok(h.logs.some((l) => l.includes('"event":"exempted"') && l.includes('RA-2026-014')))
  t.match(await h.gw.metrics.registry.metrics(), /dnsvakt_policy_exemptions_applied_total\{category="telegram",group="default"\} 1/)
  t.match(await h.gw.metrics.registry.metrics(), /dnsvakt_policy_exemptions_active 1\b/)
  h.clock.ms = Date.UTC(2026, 10, 24, 0, 0, 1)
  t.match(await h.gw.metrics.registry.metrics(), /dnsvakt_policy_exemptions_active 0\b/, 'the active count drops at expiry, no reload')
  t.equal((await udpAsk(h.port, { name: 'web.telegram.org' })).rcode, 'NXDOMAIN', 'expired: blocked again with no reload (also the cached answer)')
})

t.test('IPv6 listener: UDP and TCP on [::1]', async (t) => {
  const h = await startHarness({ listen: { dns: ['[::1]:0'], admin: '' } })
  t.teardown(() => h.close())
  const r = await udpAsk(h.port, { name: 'v6.example.test' }, 4000, '::1')
  t.same(aOf(r), ['192.0.2.1'])
  t.equal((await udpAsk(h.port, { name: 'tiktok.com' }, 4000, '::1')).rcode, 'NXDOMAIN')
  const [tcp] = await tcpAskMany(h.port, [encodeQuery({ name: 'v6tcp.example.test', id: 9 })], {}, '::1')
  t.equal(decode(tcp).id, 9)
})

t.test('TCP: idle connections are closed; connections past the cap are refused', async (t) => {
  const h = await startHarness({ listen: { dns: ['127.0.0.1:0'], admin: '', tcpIdleTimeout: '200ms', tcpMaxConnections: 2 } })
  t.teardown(() => h.close())
  const { connect } = await import('node:net')
  const open = () =>
    new Promise<import('node:net').Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: h.port }, () => resolve(s))
      s.on('error', reject)
    })
  const closed = (s: import('node:net').Socket) => new Promise<number>((resolve) => {
    const t0 = Date.now()
    s.on('close', () => resolve(Date.now() - t0))
    s.resume()
  })
  const a = await open()
  const b = await open()
  const aClosed = closed(a)
  const c = await open()
  const cClosedIn = await closed(c)
  t.ok(cClosedIn < 150, 'a third connection is closed at once (tcpMaxConnections: 2)')
  const idleFor = await aClosed
  t.ok(idleFor >= 150 && idleFor < 2000, `an idle connection is closed after the idle timeout (${idleFor} ms)`)
  b.destroy()
})
