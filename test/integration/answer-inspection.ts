/**
 * Answer inspection against a running gateway and the fake upstream: each
 * shape that used to reach an enforced client (issue 9) is blocked for it and
 * passed to an exempt client, on the first lookup and from the cache; an
 * exempted answer's TTL ends with the exemption (injected clock).
 */
import t from 'tap'
import { createSocket } from 'node:dgram'
import { type Decoded, decode, encodeQuery } from '../fixtures/dns-client.js'
import type { Rule } from '../fixtures/fake-upstream.js'
import { startHarness } from '../fixtures/gateway-harness.js'
import { serviceRecord } from '../fixtures/svcb.js'

const ENFORCED = '127.0.0.1'
const EXEMPT = '127.0.0.2'
const LISTS = {
  'telegram.txt': 'telegram.org\n',
  'telegram.cidrs.txt': '149.154.160.0/20\n2001:67c:4e8::/48\n',
  'tiktok.txt': 'tiktok.com\n',
  'doh-bypass.txt': 'dns.google\n',
  'exemptions.yaml': `exemptions:
  - { id: ex-lab, client: ${EXEMPT}, categories: [telegram], reason: security lab, approvedBy: CISO, expires: "2026-11-23T13:00:00Z" }
`,
}
const TG = '149.154.167.50'

/** [name, type, the upstream's answer] */
const SHAPES: Array<[string, string, Rule]> = [
  ['svc.example', 'HTTPS', { answers: [serviceRecord({ priority: 1, target: '.', alpn: ['h2'], ipv4hint: [TG] })] }],
  ['svc6.example', 'HTTPS', { answers: [serviceRecord({ priority: 1, target: '.', ipv6hint: ['2001:67c:4e8:f002::a'] })] }],
  ['alias.example', 'HTTPS', { answers: [serviceRecord({ priority: 0, target: 'web.telegram.org' })] }],
  ['chat.example', 'DNAME', { answers: [{ type: 'DNAME', data: 'telegram.org' }] }],
  ['nat64.example', 'AAAA', { answers: [{ type: 'AAAA', data: '64:ff9b::959a:a732' }] }],
  ['nat64-org.example', 'AAAA', { answers: [{ type: 'AAAA', data: '2001:db8:64::959a:a732' }] }],
  ['6to4.example', 'AAAA', { answers: [{ type: 'AAAA', data: '2002:959a:a732::1' }] }],
  ['mx.example', 'MX', { answers: [{ type: 'MX', data: { preference: 10, exchange: 'mail.mx.example' } }], additionals: [{ type: 'A', name: 'mail.mx.example', data: TG }] }],
]

/** A UDP query sent from `from` (any 127/8 address works on loopback), so the gateway sees that client. */
function askFrom(port: number, from: string, name: string, type: string): Promise<Decoded> {
  const s = createSocket('udp4')
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (s.close(), reject(new Error(`no answer for ${name} from ${from}`))), 4000)
    s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(decode(m))))
    s.bind(0, from, () => s.send(encodeQuery({ name, type }), port, '127.0.0.1'))
  })
}

const ttls = (r: Decoded) => (r.answers ?? []).map((a) => (a as { ttl: number }).ttl)

t.test('every shape: blocked for an enforced client, passed to an exempt one, first and cached', async (t) => {
  const h = await startHarness({ blocking: { nat64Prefixes: ['2001:db8:64::/96'] } }, LISTS)
  t.teardown(() => h.close())
  for (const [name, , rule] of SHAPES) h.up.setRule(name, rule)
  h.up.setRule('clean.example', { answers: [serviceRecord({ priority: 1, target: 'cdn.example', ipv4hint: ['192.0.2.1'], ipv6hint: ['64:ff9b::c000:201'] })] })
  const blocked = (r: Decoded, what: string) => {
    t.equal(r.rcode, 'NXDOMAIN', `${what}: blocked`)
    t.same(r.answers, [], `${what}: nothing of the upstream answer leaks`)
  }
  const passed = (r: Decoded, what: string) => {
    t.equal(r.rcode, 'NOERROR', `${what}: passed`)
    t.ok((r.answers ?? []).length > 0, `${what}: with the upstream's records`)
  }
  for (const [name, type] of SHAPES) {
    blocked(await askFrom(h.port, ENFORCED, name, type), `${name} enforced, first`)
    blocked(await askFrom(h.port, ENFORCED, name, type), `${name} enforced, cached`)
    passed(await askFrom(h.port, EXEMPT, name, type), `${name} exempt, cached`)
    t.equal(h.up.countFor(name), 1, `${name}: one upstream query so far`)
    h.gw.cache!.clear()
    passed(await askFrom(h.port, EXEMPT, name, type), `${name} exempt, first`)
    blocked(await askFrom(h.port, ENFORCED, name, type), `${name} enforced, cached after the exempt lookup`)
    t.equal(h.up.countFor(name), 2, `${name}: the second came from the cache`)
  }
  passed(await askFrom(h.port, ENFORCED, 'clean.example', 'HTTPS'), 'hints outside every range')
})

t.test('an exempted answer\'s TTL ends with the exemption', async (t) => {
  const h = await startHarness({}, LISTS)
  t.teardown(() => h.close())
  h.up.setRule('long.example', { a: [TG], ttl: 86_400 })
  h.up.setRule('web.telegram.org', { a: ['192.0.2.7'], ttl: 86_400 })
  const hourLeft = await askFrom(h.port, EXEMPT, 'long.example', 'A')
  t.same(ttls(hourLeft), [3600], 'caught by address, let through by the exemption: the hour left, not a day')
  t.same(ttls(await askFrom(h.port, EXEMPT, 'web.telegram.org', 'A')), [3600], 'listed by name, let through by the exemption: the same')
  t.same(ttls(await askFrom(h.port, '127.0.0.3', 'www.example.org', 'A')), [300], 'answers without an exemption keep their TTL')
  h.clock.ms += 59 * 60_000
  t.same(ttls(await askFrom(h.port, EXEMPT, 'long.example', 'A')), [60], 'from the cache a minute before the end: 60 s')
  t.same(ttls(await askFrom(h.port, EXEMPT, 'web.telegram.org', 'A')), [60])
  h.clock.ms += 60_000
  t.equal((await askFrom(h.port, EXEMPT, 'long.example', 'A')).rcode, 'NXDOMAIN', 'at the end: blocked')
  t.equal((await askFrom(h.port, EXEMPT, 'web.telegram.org', 'A')).rcode, 'NXDOMAIN')
  t.equal(h.up.countFor('long.example'), 1, 'all but the first from the cache')
})
