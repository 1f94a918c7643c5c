/**
 * Shadow categories against a running gateway and the fake upstream: a
 * client whose group has "telegram" in shadow gets the normal answer for a
 * name, a CNAME into a listed name and an address in a listed range, on the
 * first lookup and from the cache; each is counted in
 * dnsvakt_policy_would_block_total (no client label) and logged as a
 * would-block event under the same privacy rules as a block. The allow list,
 * an exemption and an enforcing group are honoured as for an enforced
 * category; explain reports the would-block.
 */
import t from 'tap'
import { createSocket } from 'node:dgram'
import { type Decoded, decode, encodeQuery } from '../fixtures/dns-client.js'
import { startHarness } from '../fixtures/gateway-harness.js'
import { ClientClassifier } from '../../src/policy/client-classifier.js'
import { explain } from '../../src/policy/explain.js'

const SHADOWED = '127.0.0.1' // group default: telegram in shadow
const STAFF = '127.0.0.2' // group staff: telegram enforced
const EXEMPT = '127.0.0.3' // group default, with an exemption for telegram
const TG = '149.154.167.50'
const LISTS = {
  'telegram.txt': 'telegram.org\n',
  'telegram.cidrs.txt': '149.154.160.0/20\n',
  'tiktok.txt': 'tiktok.com\n',
  'doh-bypass.txt': 'dns.google\n',
  'allow.txt': 'ok.telegram.org\n',
  'exemptions.yaml': `exemptions:
  - { id: ex-lab, client: ${EXEMPT}, categories: [telegram], reason: security lab, approvedBy: CISO, expires: "2026-12-23T13:00:00Z" }
`,
}
const GROUPS = {
  staff: { networks: [`${STAFF}/32`], enforce: ['tiktok', 'telegram', 'doh-bypass'] },
  default: { enforce: ['tiktok', 'doh-bypass'], shadow: ['telegram'] },
}

function askFrom(port: number, from: string, name: string): Promise<Decoded> {
  const s = createSocket('udp4')
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (s.close(), reject(new Error(`no answer for ${name} from ${from}`))), 4000)
    s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(decode(m))))
    s.bind(0, from, () => s.send(encodeQuery({ name, type: 'A' }), port, '127.0.0.1'))
  })
}

const addresses = (r: Decoded) => (r.answers ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: unknown }).data)

t.test('a shadow category answers normally, counts and logs would-block for name, CNAME and IP catches', async (t) => {
  const h = await startHarness({ groups: GROUPS }, LISTS)
  t.teardown(() => h.close())
  h.up.setRule('cloak.example', { cname: ['web.telegram.org'], a: ['192.0.2.7'] })
  h.up.setRule('ip.example', { a: [TG] })
  const wouldBlock = async () => {
    const text = await h.gw.metrics.registry.metrics()
    const series = text.split('\n').filter((l) => l.startsWith('dnsvakt_policy_would_block_total{'))
    t.notOk(series.some((l) => /client|127\.0\.0/.test(l)), 'no client in any would-block series')
    const value = (caughtBy: string) => Number(series.find((l) => l.includes('category="telegram"') && l.includes('group="default"') && l.includes(`caught_by="${caughtBy}"`))?.split(' ')[1] ?? NaN)
    return { name: value('name'), cname: value('cname'), ip: value('ip') }
  }
  t.same(await wouldBlock(), { name: 0, cname: 0, ip: 0 }, 'the shadow series exist at 0 from the start')

  for (const round of ['first', 'cached']) {
    const byName = await askFrom(h.port, SHADOWED, 'telegram.org')
    t.equal(byName.rcode, 'NOERROR', `${round}: the name is answered`)
    t.same(addresses(byName), ['192.0.2.1'], `${round}: with the upstream's address`)
    const byCname = await askFrom(h.port, SHADOWED, 'cloak.example')
    t.same(addresses(byCname), ['192.0.2.7'], `${round}: a CNAME into telegram.org is answered`)
    const byIp = await askFrom(h.port, SHADOWED, 'ip.example')
    t.same(addresses(byIp), [TG], `${round}: an address in Telegram's range is answered`)
  }
  t.equal(h.up.countFor('telegram.org'), 1, 'asked upstream once, then served from the cache')
  t.same(await wouldBlock(), { name: 2, cname: 2, ip: 2 }, 'each catch counted on the first and the cached lookup')

  const events = h.logs.map((l) => JSON.parse(l)).filter((e) => e.event === 'would-block')
  t.equal(events.length, 6, 'one would-block line per answer')
  t.match(events[0], { name: 'telegram.org', group: 'default', category: 'telegram', caughtBy: 'name', entry: 'telegram.org', listVersion: h.gw.store.snapshot.version })
  t.match(events[1], { name: 'cloak.example', caughtBy: 'cname', entry: 'telegram.org' })
  t.match(events[2], { name: 'ip.example', caughtBy: 'ip', entry: '149.154.160.0/20' })
  t.notOk(h.logs.some((l) => l.includes('"event":"blocked"')), 'nothing was blocked')

  // The same privacy rule as a block line: log.clientAddress (truncate by default), never the full address.
  t.equal((await askFrom(h.port, SHADOWED, 'www.tiktok.com')).rcode, 'NXDOMAIN', 'an enforced category still blocks')
  const blockedLine = h.logs.map((l) => JSON.parse(l)).find((e) => e.event === 'blocked')
  t.equal(events[0].client, blockedLine.client, 'the client field as in a block line')
  t.not(events[0].client, SHADOWED, 'not the full address')
})

t.test('the rules of an enforced category hold: allow list, exemptions, enforcing groups, names already blocked', async (t) => {
  const h = await startHarness({ groups: GROUPS }, LISTS)
  t.teardown(() => h.close())
  h.up.setRule('ip.example', { a: [TG] })
  t.equal((await askFrom(h.port, SHADOWED, 'ok.telegram.org')).rcode, 'NOERROR')
  t.equal((await askFrom(h.port, EXEMPT, 'telegram.org')).rcode, 'NOERROR')
  t.equal((await askFrom(h.port, EXEMPT, 'ip.example')).rcode, 'NOERROR')
  t.equal((await askFrom(h.port, STAFF, 'telegram.org')).rcode, 'NXDOMAIN', 'a group enforcing it blocks it')
  t.equal((await askFrom(h.port, STAFF, 'ip.example')).rcode, 'NXDOMAIN')
  t.notOk(h.logs.some((l) => l.includes('"event":"would-block"')), 'no would-block: allow-listed, exempted, or blocked anyway')

  const classifier = new ClientClassifier(h.gw.config.config.access.allow, h.gw.config.config.groups)
  const why = (client: string, name: string) => explain({ name, client, type: 'A', now: h.clock.ms, snapshot: h.gw.store.snapshot, classifier, mode: 'nxdomain' })
  const shadowed = why(SHADOWED, 'www.telegram.org')
  t.equal(shadowed.decision, 'allowed', 'explain: the decision is unchanged')
  t.same(shadowed.groupShadows, ['telegram'])
  t.same(shadowed.wouldBlock, { category: 'telegram', caughtBy: 'name', entry: 'telegram.org', file: 'telegram.txt', line: 1 })
  t.match(shadowed.summary, /In shadow for group "default": "telegram" would block it \(telegram\.org, telegram\.txt:1\)/)
  t.equal(why(EXEMPT, 'telegram.org').wouldBlock, null, 'explain: the exemption lifts it')
  t.equal(why(SHADOWED, 'ok.telegram.org').wouldBlock, null, 'explain: the allow list covers it')
  t.equal(why(STAFF, 'telegram.org').wouldBlock, null, 'explain: blocked, so nothing would change')
})
