/**
 * Explain and the gateway agree: for every built-in name, the iCloud Private
 * Relay names and an ordinary blocked name, in every block mode, the answer
 * explain announces is the answer a running gateway sends. And with DDR on
 * (DoT/DoH served, tls.serverName set), the designation names: SVCB records
 * for their SVCB queries, the usual answers for every other type.
 */
import t from 'tap'
import type { BlockMode } from '../../src/dns/build-block-reply.js'
import { ClientClassifier } from '../../src/policy/client-classifier.js'
import { BUILTIN_NAMES, NXDOMAIN_WHEN_BLOCKED } from '../../src/policy/decide.js'
import { explain } from '../../src/policy/explain.js'
import { type Decoded, udpAsk } from '../fixtures/dns-client.js'
import { startHarness } from '../fixtures/gateway-harness.js'
import { makeCert } from '../fixtures/test-certs.js'
import { parseSvcb } from '../fixtures/svcb-reader.js'
import { ddrServerName } from '../../src/config/encrypted-schema.js'

const MODES: BlockMode[] = ['nxdomain', 'nodata', 'null', 'refused', 'sinkhole']
const SINK4 = '10.20.0.80'
const SINK6 = 'fd00:20::80'
const NAMES = [...BUILTIN_NAMES.map((b) => b.name), ...NXDOMAIN_WHEN_BLOCKED, 'x.mask.icloud.com', 'www.tiktok.com', 'telegram.org']
const TYPES = ['A', 'AAAA', 'HTTPS', 'TXT', 'SVCB']

/** The reply a mode's answer must be, decoded by dns-packet. */
function expectedShape(mode: BlockMode | 'ddr' | null, type: string): { rcode: string; answers: string[] } {
  if (mode === null || mode === 'ddr') throw new Error(`no fixed shape for ${mode}`)
  if (mode === 'nxdomain') return { rcode: 'NXDOMAIN', answers: [] }
  if (mode === 'refused') return { rcode: 'REFUSED', answers: [] }
  if (mode === 'nodata' || (type !== 'A' && type !== 'AAAA')) return { rcode: 'NOERROR', answers: [] }
  if (mode === 'null') return { rcode: 'NOERROR', answers: [type === 'A' ? '0.0.0.0' : '::'] }
  return { rcode: 'NOERROR', answers: [type === 'A' ? SINK4 : SINK6] }
}

/** dns-packet has no SVCB mnemonic: its name for type 64. */
const SVCB = 'UNKNOWN_64'

const shapeOf = (r: Decoded) => ({ rcode: r.rcode, answers: (r.answers ?? []).map((a) => String((a as { data: unknown }).data)) })

for (const mode of MODES) {
  t.test(`${mode} mode: explain announces what the gateway answers`, async (t) => {
    const h = await startHarness({ blocking: { mode, sinkhole: { ipv4: SINK4, ipv6: SINK6 } } })
    t.teardown(() => h.close())
    const { config } = h.gw.config
    const classifier = new ClientClassifier(config.access.allow, config.groups)
    for (const name of NAMES) {
      for (const type of TYPES) {
        const e = explain({ name, client: '127.0.0.1', type, now: h.clock.ms, snapshot: h.gw.store.snapshot, classifier, mode: config.blocking.mode, ddrServerName: ddrServerName(config) })
        t.not(e.answerMode, null, `${name}: answered by dnsvakt itself`)
        t.not(e.answerMode, 'ddr', `${name}: no designation without DoT/DoH`)
        const got = shapeOf(await udpAsk(h.port, { name, type: type === 'SVCB' ? SVCB : type }))
        t.same(got, expectedShape(e.answerMode, type), `${mode} ${name} ${type}: explain says ${e.decision}, ${e.answer}`)
      }
      t.equal(h.up.countFor(name), 0, `${mode} ${name}: never sent upstream`)
    }
  })
}

t.test('DDR on: explain announces the designation exactly where the gateway gives it', async (t) => {
  const cert = makeCert()
  const h = await startHarness({
    listen: { dns: ['127.0.0.1:0'], admin: '', dot: ['127.0.0.1:0'], doh: ['127.0.0.1:0'] },
    tls: { certFile: cert.certFile, keyFile: cert.keyFile, serverName: 'dns.test' },
  })
  t.teardown(() => h.close())
  const { config } = h.gw.config
  t.equal(ddrServerName(config), 'dns.test')
  const classifier = new ClientClassifier(config.access.allow, config.groups)
  const ask = (name: string, type: string) =>
    explain({ name, client: '127.0.0.1', type, now: h.clock.ms, snapshot: h.gw.store.snapshot, classifier, mode: config.blocking.mode, ddrServerName: ddrServerName(config) })
  const dot = h.gw.encrypted.find((e) => e.transport === 'dot')!.port
  for (const name of ['_dns.resolver.arpa', '_dns.dns.test']) {
    for (const type of ['SVCB', 'svcb', '64']) {
      const e = ask(name, type)
      t.equal(e.answerMode, 'ddr', `${name} ${type}: explain says designated`)
      t.equal(e.decision, 'builtin')
      t.match(e.answer, /SVCB records designating dnsvakt's own DoT\/DoH as dns\.test/)
    }
    const r = await udpAsk(h.port, { name, type: SVCB })
    t.equal(r.rcode, 'NOERROR', `${name}: the gateway answers`)
    const svcb = (r.answers ?? []).map((a) => parseSvcb((a as { data: Buffer }).data))
    t.ok(svcb.some((s) => s.target === 'dns.test' && s.port === dot && s.alpn?.includes('dot')), `${name}: SVCB records naming dnsvakt's DoT listener`)
    t.equal(h.up.countFor(name), 0, `${name} SVCB: never sent upstream`)
  }
  // Every other type of _dns.resolver.arpa is still NODATA, in explain and on the wire.
  for (const type of ['A', 'AAAA', 'HTTPS', 'TXT']) {
    const e = ask('_dns.resolver.arpa', type)
    t.equal(e.answerMode, 'nodata', `_dns.resolver.arpa ${type}: explain says NODATA`)
    t.same(shapeOf(await udpAsk(h.port, { name: '_dns.resolver.arpa', type })), expectedShape('nodata', type))
  }
  // _dns.<serverName> of another type is an ordinary name: explain says forwarded, and it is.
  const other = ask('_dns.dns.test', 'A')
  t.equal(other.answerMode, null, 'explain: _dns.dns.test A goes upstream')
  await udpAsk(h.port, { name: '_dns.dns.test', type: 'A' })
  t.equal(h.up.countFor('_dns.dns.test'), 1, 'and the gateway forwards it')
})
