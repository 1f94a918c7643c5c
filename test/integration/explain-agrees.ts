/**
 * Explain and the gateway agree: for every built-in name, the iCloud Private
 * Relay names and an ordinary blocked name, in every block mode, the answer
 * explain announces is the answer a running gateway sends.
 */
import t from 'tap'
import type { BlockMode } from '../../src/dns/build-block-reply.js'
import { ClientClassifier } from '../../src/policy/client-classifier.js'
import { BUILTIN_NAMES, NXDOMAIN_WHEN_BLOCKED } from '../../src/policy/decide.js'
import { explain } from '../../src/policy/explain.js'
import { type Decoded, udpAsk } from '../fixtures/dns-client.js'
import { startHarness } from '../fixtures/gateway-harness.js'

const MODES: BlockMode[] = ['nxdomain', 'nodata', 'null', 'refused', 'sinkhole']
const SINK4 = '10.20.0.80'
const SINK6 = 'fd00:20::80'
const NAMES = [...BUILTIN_NAMES.map((b) => b.name), ...NXDOMAIN_WHEN_BLOCKED, 'x.mask.icloud.com', 'www.tiktok.com', 'telegram.org']
const TYPES = ['A', 'AAAA', 'HTTPS', 'TXT']

/** The reply a mode's answer must be, decoded by dns-packet. */
function expectedShape(mode: BlockMode, type: string): { rcode: string; answers: string[] } {
  if (mode === 'nxdomain') return { rcode: 'NXDOMAIN', answers: [] }
  if (mode === 'refused') return { rcode: 'REFUSED', answers: [] }
  if (mode === 'nodata' || (type !== 'A' && type !== 'AAAA')) return { rcode: 'NOERROR', answers: [] }
  if (mode === 'null') return { rcode: 'NOERROR', answers: [type === 'A' ? '0.0.0.0' : '::'] }
  return { rcode: 'NOERROR', answers: [type === 'A' ? SINK4 : SINK6] }
}

const shapeOf = (r: Decoded) => ({ rcode: r.rcode, answers: (r.answers ?? []).map((a) => String((a as { data: unknown }).data)) })

for (const mode of MODES) {
  t.test(`${mode} mode: explain announces what the gateway answers`, async (t) => {
    const h = await startHarness({ blocking: { mode, sinkhole: { ipv4: SINK4, ipv6: SINK6 } } })
    t.teardown(() => h.close())
    const { config } = h.gw.config
    const classifier = new ClientClassifier(config.access.allow, config.groups)
    for (const name of NAMES) {
      for (const type of TYPES) {
        const e = explain({ name, client: '127.0.0.1', type, now: h.clock.ms, snapshot: h.gw.store.snapshot, classifier, mode: config.blocking.mode })
        t.not(e.answerMode, null, `${name}: answered by dnsvakt itself`)
        const got = shapeOf(await udpAsk(h.port, { name, type }))
        t.same(got, expectedShape(e.answerMode!, type), `${mode} ${name} ${type}: explain says ${e.decision}, ${e.answer}`)
      }
      t.equal(h.up.countFor(name), 0, `${mode} ${name}: never sent upstream`)
    }
  })
}
