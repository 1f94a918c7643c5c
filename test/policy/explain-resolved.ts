import t from 'tap'
import { AnswerCache } from '../../src/cache/answer-cache.js'
import { compose } from '../../src/pipeline/compose.js'
import { explainResolved, type Lookup, lookupThrough } from '../../src/policy/explain-resolved.js'
import { CacheStage } from '../../src/stages/cache.js'
import { ForwardStage } from '../../src/stages/forward.js'
import { UpstreamPool } from '../../src/upstream/upstream-pool.js'
import { EXEMPT, EXPLAIN_NOW, explainLists } from '../fixtures/explain-lists.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { STAFF, STUDENT, testClassifier } from '../fixtures/test-groups.js'
import { ClientClassifier } from '../../src/policy/client-classifier.js'

const snapshot = await explainLists()
const classifier = testClassifier()

/** The gateway's cache and forward stages against a fake upstream, as the admin route and the CLI wire them. */
async function setup(t: { teardown(fn: () => unknown): void }) {
  const up = await startFakeUpstream({
    rules: {
      'video.example': { cname: ['v16.tiktokv.com', 'edge.cdn.example'], a: ['192.0.2.10'] },
      'tg.example': { a: ['192.0.2.1', '149.154.167.50'] },
      'tg6.example': { aaaa: ['2001:67c:4e8:f002::a'] },
      'ok.tiktok.com': { cname: ['v.tiktokv.com'], a: ['192.0.2.4'] },
      'gone.example': { servfail: true },
    },
  })
  const now = () => EXPLAIN_NOW
  const pool = new UpstreamPool([{ address: up.address, port: up.port }], { tryTimeoutMs: 300, deadlineMs: 800, localAddress: { v4: '127.0.0.1', v6: '::1' } })
  const cache = new AnswerCache({ maxEntries: 100, maxBytes: 1 << 20, minTtl: 0, maxTtl: 86_400_000, negativeMaxTtl: 3_600_000, maxStale: 0 })
  const chain = compose([new CacheStage(cache, { serveStale: false, staleAnswerTtl: 30, now }), new ForwardStage(pool, [], now)])
  t.teardown(async () => {
    pool.close()
    await up.close()
  })
  return { up, lookup: lookupThrough(chain, now) }
}

const ask = (lookup: Lookup, client: string, name: string, type = 'A') =>
  explainResolved({ name, client, type, now: EXPLAIN_NOW, snapshot, classifier, mode: 'null' }, lookup)

t.test('a name blocked through its answer is reported as blocked, with the catch', async (t) => {
  const { up, lookup } = await setup(t)
  const cname = await ask(lookup, STAFF, 'video.example')
  t.equal(cname.decision, 'blocked')
  t.equal(cname.answerMode, 'null')
  t.match(cname.answer, /^A 0\.0\.0\.0/)
  t.same(cname.resolved, { rcode: 0, caught: { category: 'tiktok', caughtBy: 'cname', entry: 'tiktokv.com', exempted: false } })
  t.match(cname.summary, 'Blocked through its answer: its answer passes through tiktokv.com, listed in "tiktok"')
  const ip = await ask(lookup, STAFF, 'tg.example')
  t.same(ip.resolved?.caught, { category: 'telegram', caughtBy: 'ip', entry: '149.154.160.0/20', exempted: false })
  t.equal(ip.decision, 'blocked')
  const ip6 = await ask(lookup, STAFF, 'tg6.example', 'AAAA')
  t.same(ip6.resolved?.caught, { category: 'telegram', caughtBy: 'ip', entry: '2001:67c:4e8::/48', exempted: false })
  t.match(ip6.answer, /^AAAA ::/)
  t.equal(up.countFor('video.example'), 1)
  await ask(lookup, STUDENT, 'video.example')
  t.equal(up.countFor('video.example'), 1, 'the second lookup came from the cache')
})

t.test('what is not caught, and what is not looked up', async (t) => {
  const { up, lookup } = await setup(t)
  const clean = await ask(lookup, STAFF, 'clean.example')
  t.equal(clean.decision, 'allowed')
  t.same(clean.resolved, { rcode: 0, caught: null })
  const student = await ask(lookup, STUDENT, 'video.example')
  t.equal(student.decision, 'allowed', 'a group that enforces nothing')
  t.same(student.resolved?.caught, null)
  const exempt = await ask(lookup, EXEMPT, 'video.example')
  t.equal(exempt.decision, 'exempted', 'the exemption lifts tiktok')
  t.same(exempt.resolved?.caught, { category: 'tiktok', caughtBy: 'cname', entry: 'tiktokv.com', exempted: true })
  t.equal(exempt.answerMode, null)
  t.equal((await ask(lookup, EXEMPT, 'tg.example')).decision, 'blocked', 'an exemption from tiktok does not lift telegram')
  const allowListed = await ask(lookup, STAFF, 'ok.tiktok.com')
  t.equal(allowListed.decision, 'allowed', 'the allow list covers the query name: its answer is not inspected (as in the stage)')
  t.same(allowListed.resolved?.caught, null)
  const byName = await ask(lookup, STAFF, 'www.tiktok.com')
  t.equal(byName.decision, 'blocked')
  t.equal(byName.resolved, undefined, 'blocked by name: nothing to look up')
  t.equal(up.countFor('www.tiktok.com'), 0, 'and the upstream was not asked')
  await t.rejects(ask(lookup, STAFF, 'gone.example'), /no upstream answer for gone\.example A \(servfail\)/)
  await t.rejects(ask(lookup, STAFF, 'x.example', 'NOPE'), /unknown record type "NOPE"/)
  t.equal((await ask(lookup, STAFF, 'tg.example', 'TYPE1')).decision, 'blocked', 'RFC 3597 type names work')
})

t.test('a shadow category is reported through the answer too, and never changes the decision', async (t) => {
  const { lookup } = await setup(t)
  const shadowClassifier = new ClientClassifier(['10.0.0.0/8'], {
    default: { networks: [], enforce: ['tiktok', 'doh-bypass'], shadow: ['telegram'] },
    students: { networks: ['10.40.0.0/16'], enforce: [], shadow: ['tiktok'] },
  })
  const shadowAsk = (client: string, name: string) => explainResolved({ name, client, type: 'A', now: EXPLAIN_NOW, snapshot, classifier: shadowClassifier, mode: 'null' }, lookup)
  const ip = await shadowAsk('10.99.0.1', 'tg.example')
  t.equal(ip.decision, 'allowed', 'telegram is in shadow: the address is let through')
  t.same(ip.resolved?.caught, null)
  t.same(ip.wouldBlock, { category: 'telegram', caughtBy: 'ip', entry: '149.154.160.0/20' })
  t.match(ip.summary, /In shadow: "telegram" would block it \(its answer holds an address in 149\.154\.160\.0\/20\)/)
  const cname = await shadowAsk(STUDENT, 'video.example')
  t.same(cname.wouldBlock, { category: 'tiktok', caughtBy: 'cname', entry: 'tiktokv.com' })
  const blocked = await shadowAsk('10.99.0.1', 'video.example')
  t.equal(blocked.decision, 'blocked', 'tiktok is enforced for the default group')
  t.equal(blocked.wouldBlock, null, 'blocked anyway: nothing would change')
})
