import t from 'tap'
import type { BlockMode } from '../../src/dns/build-block-reply.js'
import { explain, type Explanation } from '../../src/policy/explain.js'
import { EXEMPT, EXPLAIN_NOW, explainLists, OUTSIDE } from '../fixtures/explain-lists.js'
import { STAFF, STUDENT, testClassifier } from '../fixtures/test-groups.js'

const NOW = EXPLAIN_NOW
const MODES: BlockMode[] = ['nxdomain', 'nodata', 'null', 'refused', 'sinkhole']
const snapshot = await explainLists()
const classifier = testClassifier()
const run = (client: string, name: string, mode: BlockMode, type = 'A'): Explanation =>
  explain({ name, client, type, now: NOW, snapshot, classifier, mode })

/** What the block answer looks like for a query type in a mode (build-block-reply.ts). */
function blockAnswer(mode: BlockMode, type: string): RegExp {
  if (mode === 'nxdomain') return /^NXDOMAIN \("nxdomain" mode\) with EDE 15 Blocked$/
  if (mode === 'refused') return /^REFUSED /
  if (mode === 'nodata' || !['A', 'AAAA'].includes(type)) return /^NODATA \(NOERROR, no records\)/
  if (mode === 'null') return type === 'A' ? /^A 0\.0\.0\.0 / : /^AAAA :: /
  return type === 'A' ? /^A blocking\.sinkhole\.ipv4 / : /^AAAA blocking\.sinkhole\.ipv6 /
}

t.test('decision x block mode', async (t) => {
  for (const mode of MODES) {
    // [client, name, type, decision, answer mode (null: forwarded), answer text]
    const cases: Array<[string, string, string, Explanation['decision'], BlockMode | null, RegExp]> = [
      [STAFF, 'www.tiktok.com', 'A', 'blocked', mode, blockAnswer(mode, 'A')],
      [STAFF, 'WWW.TikTok.com.', 'AAAA', 'blocked', mode, blockAnswer(mode, 'AAAA')],
      [STAFF, 'www.tiktok.com', 'TXT', 'blocked', mode, blockAnswer(mode, 'TXT')],
      // iCloud Private Relay: NXDOMAIN whatever the mode (the drift this test pins down).
      [STAFF, 'mask.icloud.com', 'A', 'blocked', 'nxdomain', blockAnswer('nxdomain', 'A')],
      [STAFF, 'x.mask-h2.icloud.com', 'AAAA', 'blocked', 'nxdomain', blockAnswer('nxdomain', 'AAAA')],
      // Built-in names: for every allowed client, whatever its group.
      [STAFF, 'use-application-dns.net', 'A', 'builtin', 'nxdomain', /^NXDOMAIN for every client: Firefox/],
      [STUDENT, 'use-application-dns.net', 'A', 'builtin', 'nxdomain', /^NXDOMAIN for every client/],
      [STUDENT, '_dns.resolver.arpa', 'SVCB', 'builtin', 'nodata', /^NODATA for every client: .*RFC 9462/],
      [STAFF, 'ok.tiktok.com', 'A', 'allowed', null, /^forwarded upstream$/],
      [EXEMPT, 'www.tiktok.com', 'A', 'exempted', null, /^forwarded upstream$/],
      [EXEMPT, 'dns.google', 'A', 'blocked', mode, blockAnswer(mode, 'A')],
      [STUDENT, 'www.tiktok.com', 'A', 'allowed', null, /^forwarded upstream \(answers are still inspected/],
      [STAFF, 'example.org', 'A', 'allowed', null, /^forwarded upstream/],
      [OUTSIDE, 'use-application-dns.net', 'A', 'refused', 'refused', /^REFUSED \(EDE 18/],
      [OUTSIDE, 'www.tiktok.com', 'A', 'refused', 'refused', /^REFUSED \(EDE 18/],
    ]
    for (const [client, name, type, decision, answerMode, answer] of cases) {
      const e = run(client, name, mode, type)
      const what = `${mode}: ${client} ${name} ${type}`
      t.equal(e.decision, decision, `${what}: decision`)
      t.equal(e.answerMode, answerMode, `${what}: answer mode`)
      t.match(e.answer, answer, `${what}: answer`)
      t.equal(e.listVersion, snapshot.version, `${what}: list version`)
    }
  }
})

t.test('explain adds file, line and version to the decision', async (t) => {
  const blocked = run(STAFF, 'www.tiktok.com', 'nxdomain')
  t.same(blocked.matches, [{ category: 'tiktok', enforced: true, entry: 'tiktok.com', file: 'tiktok.txt', line: 3 }])
  t.match(blocked.summary, `group "staff", which enforces "tiktok"; the name matches tiktok.com (tiktok.txt:3) in list version ${snapshot.version}`)
  t.same(run(STAFF, 'mask.icloud.com', 'null').matches, [{ category: 'doh-bypass', enforced: true, entry: 'mask.icloud.com', file: 'doh-bypass.txt', line: 3 }])
  const allowed = run(STAFF, 'ok.tiktok.com', 'nxdomain')
  t.same(allowed.allowListEntry, { entry: 'ok.tiktok.com', file: 'allow.txt', line: 1 })
  t.match(allowed.summary, 'allow list entry ok.tiktok.com (allow.txt:1) overrides tiktok')
  const exempted = run(EXEMPT, 'www.tiktok.com', 'nxdomain')
  t.match(exempted.exemptions, [{ id: 'ex-comms', status: 'applied', reason: 'communications', approvedBy: 'CISO' }])
  t.match(exempted.summary, 'Allowed by exemption ex-comms: without it, "tiktok" would block')
  t.match(run(EXEMPT, 'dns.google', 'nxdomain').exemptions, [{ id: 'ex-comms', status: 'not-needed' }])
  const later = explain({ name: 'www.tiktok.com', client: EXEMPT, type: 'A', now: Date.UTC(2026, 6, 1), snapshot, classifier, mode: 'nxdomain' })
  t.equal(later.decision, 'blocked', 'after the exemption ends')
  t.match(later.exemptions, [{ id: 'ex-comms', status: 'expired' }])
  t.match(run(STUDENT, 'www.tiktok.com', 'nxdomain').summary, 'listed in "tiktok", which group "students" does not enforce')
  t.same(run(STUDENT, 'www.tiktok.com', 'nxdomain').groupEnforces, [])
  t.throws(() => run('not-an-ip', 'x.example', 'nxdomain'), /client must be an IP address/)
})
