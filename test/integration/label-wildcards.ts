/**
 * End to end: an inner-label wildcard entry in a list folder, served by a
 * whole gateway on loopback. It blocks by name and in a CNAME chain, the
 * decision log and explain name the pattern, and lookalikes are forwarded.
 */
import t from 'tap'
import { udpAsk } from '../fixtures/dns-client.js'
import { startHarness } from '../fixtures/gateway-harness.js'
import { ClientClassifier } from '../../src/policy/client-classifier.js'
import { explain } from '../../src/policy/explain.js'

const PATTERN = 'p16-tiktok-*.ibyteimg.com'

t.test('a wildcard entry blocks through a running gateway', async (t) => {
  const h = await startHarness({}, {
    'tiktok.txt': `# TikTok\ntiktok.com\n||${PATTERN}^\n`,
    'telegram.txt': 'telegram.org\n',
    'doh-bypass.txt': 'dns.google\n',
  })
  t.teardown(() => h.close())

  for (const name of ['p16-tiktok-va.ibyteimg.com', 'P16-TikTok-SG.ibyteimg.com', 'img.p16-tiktok-va.ibyteimg.com']) {
    const r = await udpAsk(h.port, { name })
    t.equal(r.rcode, 'NXDOMAIN', `${name} is blocked`)
    t.equal(h.up.countFor(name.toLowerCase()), 0, `${name} never went upstream`)
  }
  for (const name of ['p16-tiktokva.example', 'ibyteimg.com', 'p16-tiktok.ibyteimg.com', 'p16-tiktok-va.x.ibyteimg.com']) {
    const r = await udpAsk(h.port, { name })
    t.equal(r.rcode, 'NOERROR', `${name} is forwarded`)
    t.equal(h.up.countFor(name), 1, `${name} went upstream`)
  }

  h.up.setRule('cloak.example.test', { answers: [{ type: 'CNAME', data: 'p16-tiktok-eu.ibyteimg.com' }, { type: 'A', name: 'p16-tiktok-eu.ibyteimg.com', data: '192.0.2.99' }] })
  t.equal((await udpAsk(h.port, { name: 'cloak.example.test' })).rcode, 'NXDOMAIN', 'a CNAME into the pattern is blocked')

  const events = h.logs.map((l) => JSON.parse(l)).filter((e) => e.event === 'blocked')
  t.match(events[0], { name: 'p16-tiktok-va.ibyteimg.com', category: 'tiktok', caughtBy: 'name', entry: PATTERN }, 'the decision log names the pattern')
  t.match(events.at(-1), { name: 'cloak.example.test', caughtBy: 'cname', entry: PATTERN })

  const snapshot = h.gw.store.snapshot
  const why = explain({
    name: 'p16-tiktok-va.ibyteimg.com', client: '127.0.0.1', type: 'A', now: h.clock.ms, snapshot,
    classifier: new ClientClassifier(h.gw.config.config.access.allow, h.gw.config.config.groups), mode: 'nxdomain',
  })
  t.equal(why.decision, 'blocked')
  t.match(why.matches, [{ category: 'tiktok', entry: PATTERN, file: 'tiktok.txt', line: 3 }], 'explain finds the pattern\'s file and line')
})
