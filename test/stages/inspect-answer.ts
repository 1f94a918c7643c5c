import t from 'tap'
import { parseExemptions } from '../../src/lists/exemptions.js'
import type { PolicySnapshot } from '../../src/lists/policy-snapshot.js'
import { CacheEntry, renderEntry } from '../../src/cache/cache-entry.js'
import { makeBlockAnswerPlan } from '../../src/dns/build-block-reply.js'
import { readAnswer } from '../../src/dns/read-answer.js'
import { compose } from '../../src/pipeline/compose.js'
import type { Query } from '../../src/pipeline/query.js'
import type { AnswerReply, Reply, Stage } from '../../src/pipeline/types.js'
import { BlockResponder } from '../../src/policy/block-responder.js'
import { AclStage } from '../../src/stages/acl.js'
import { ClientGroupStage } from '../../src/stages/client-group.js'
import { InspectAnswerStage } from '../../src/stages/inspect-answer.js'
import { inspectAnswer } from '../../src/policy/answer-inspection.js'
import { PolicyStage } from '../../src/stages/policy.js'
import { decode, encodeQuery, encodeResponse, queryOf, rr, snapshotOf, type CategorySpec } from '../fixtures/dns-wire.js'
import { CHAT, STAFF, STUDENT, testClassifier } from '../fixtures/test-groups.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 0, 15, 12)
const CATEGORIES: CategorySpec[] = [
  { name: 'tiktok', domains: ['tiktok.com', 'tiktokcdn.com'] },
  { name: 'telegram', domains: ['telegram.org'], cidrs: ['149.154.160.0/20', '2001:67c:4e8::/48'] },
  { name: 'doh-bypass', domains: ['dns.google'] },
]
const known = new Set(CATEGORIES.map((c) => c.name))
const ex = parseExemptions(
  `
exemptions:
  - { id: ex-comms, client: 10.20.0.99, categories: [tiktok], reason: comms, approvedBy: CISO, expires: 2026-06-30 }
  - { id: ex-ended, client: 10.20.0.98, categories: [tiktok], reason: ended, approvedBy: CISO, expires: 2026-01-01 }
`,
  'exemptions.yaml',
  { knownCategories: known, maxDurationMs: 365 * DAY, now: NOW - 30 * DAY },
)
if (ex.problems.length > 0) throw new Error(`test setup: ${JSON.stringify(ex.problems)}`)
const SNAP = snapshotOf({ categories: CATEGORIES, allow: ['allowed.tiktok.com', 'ok.tiktokcdn.com'], exemptions: ex.exemptions })

const classifier = testClassifier()

/** Upstream answers, encoded by dns-packet, keyed by query name. */
const UPSTREAM: Record<string, Buffer> = {
  'video.example.net': encodeResponse({
    name: 'video.example.net',
    answers: [
      rr('CNAME', 'video.example.net', 300, 'V16.TikTokCDN.com'),
      rr('CNAME', 'v16.tiktokcdn.com', 300, 'edge.cdn.example'),
      rr('A', 'edge.cdn.example', 60, '192.0.2.10'),
    ],
  }),
  'innocent.example': encodeResponse({ name: 'innocent.example', answers: [rr('A', 'innocent.example', 60, '192.0.2.1'), rr('A', 'innocent.example', 60, '149.154.167.99')] }),
  'innocent6.example': encodeResponse({ name: 'innocent6.example', type: 'AAAA', answers: [rr('AAAA', 'innocent6.example', 60, '2001:67c:4e8:f002::a')] }),
  'both.example': encodeResponse({
    name: 'both.example',
    answers: [rr('CNAME', 'both.example', 60, 'x.tiktok.com'), rr('A', 'x.tiktok.com', 60, '149.154.160.1')],
  }),
  'clean.example': encodeResponse({ name: 'clean.example', answers: [rr('A', 'clean.example', 60, '192.0.2.1'), rr('AAAA', 'clean.example', 60, '2001:db8::1')] }),
  'via-allowed.example': encodeResponse({ name: 'via-allowed.example', answers: [rr('CNAME', 'via-allowed.example', 60, 'ok.tiktokcdn.com'), rr('A', 'ok.tiktokcdn.com', 60, '192.0.2.3')] }),
  'allowed.tiktok.com': encodeResponse({ name: 'allowed.tiktok.com', answers: [rr('CNAME', 'allowed.tiktok.com', 60, 'v.tiktokcdn.com'), rr('A', 'v.tiktokcdn.com', 60, '192.0.2.4')] }),
  'near.example': encodeResponse({ name: 'near.example', answers: [rr('A', 'near.example', 60, '149.154.176.0'), rr('AAAA', 'near.example', 60, '2001:67c:4e9::1')] }),
  'lookalike.example': encodeResponse({ name: 'lookalike.example', answers: [rr('CNAME', 'lookalike.example', 60, 'nottiktok.com'), rr('A', 'nottiktok.com', 60, '192.0.2.5')] }),
}

const plan = makeBlockAnswerPlan({ ttl: 300, ipv4: null, ipv6: null, edeText: 'Blocked' })

/**
 * The chain above the cache, with a fake cache+forward below it that hands out one
 * CacheEntry object per name (as a cache would), synchronously or as a promise.
 */
function harness(opts: { async?: boolean } = {}) {
  const entries = new Map<string, CacheEntry>()
  let calls = 0
  let promises = 0
  const entryFor = (name: string) => {
    let e = entries.get(name)
    if (!e) {
      e = new CacheEntry(readAnswer(Buffer.from(UPSTREAM[name])), NOW, NOW + 60_000, NOW + 60_000)
      entries.set(name, e)
    }
    return e
  }
  const below: Stage = {
    name: 'forward',
    handle(q: Query) {
      calls++
      const entry = entryFor(q.name)
      const r: Reply = { kind: 'answer', wire: renderEntry(entry, q, NOW), source: 'forwarded', answer: entry.answer }
      return opts.async ? Promise.resolve(r) : r
    },
  }
  const responder = new BlockResponder('nxdomain', plan)
  const chain = compose([new AclStage(classifier), new ClientGroupStage(classifier), new PolicyStage(responder), new InspectAnswerStage(responder), below])
  const run = async (address: string, name: string, snapshot: PolicySnapshot = SNAP, type = 'A'): Promise<AnswerReply> => {
    const q = queryOf(encodeQuery({ name, type }), { address, now: NOW })
    q.snapshot = snapshot
    const r = chain(q)
    promises += r instanceof Promise ? 1 : 0
    const x = await r
    if (x.kind !== 'answer') throw new Error('expected an answer')
    return x
  }
  return { run, entryFor, calls: () => calls, promises: () => promises }
}

for (const mode of ['synchronous', 'asynchronous'] as const) {
  t.test(`${mode} next: CNAME and IP inspection`, async (t) => {
    const h = harness({ async: mode === 'asynchronous' })
    // [client, name, source, block reason]
    const cases: Array<[string, string, string, object | undefined]> = [
      [STAFF, 'video.example.net', 'blocked-cname', { category: 'tiktok', caughtBy: 'cname', entry: 'tiktokcdn.com' }],
      [STAFF, 'innocent.example', 'blocked-ip', { category: 'telegram', caughtBy: 'ip', entry: '149.154.160.0/20' }],
      [STAFF, 'innocent6.example', 'blocked-ip', { category: 'telegram', caughtBy: 'ip', entry: '2001:67c:4e8::/48' }],
      [STAFF, 'clean.example', 'forwarded', undefined],
      [STAFF, 'near.example', 'forwarded', undefined],
      [STAFF, 'lookalike.example', 'forwarded', undefined],
      [STAFF, 'via-allowed.example', 'forwarded', undefined],
      [STAFF, 'allowed.tiktok.com', 'forwarded', undefined],
      [STUDENT, 'video.example.net', 'forwarded', undefined],
      [STUDENT, 'innocent.example', 'forwarded', undefined],
      [CHAT, 'video.example.net', 'forwarded', undefined],
      [CHAT, 'innocent.example', 'blocked-ip', { category: 'telegram', caughtBy: 'ip', entry: '149.154.160.0/20' }],
    ]
    for (const [client, name, source, block] of cases) {
      const promisesBefore = h.promises()
      const r = await h.run(client, name)
      t.equal(h.promises() - promisesBefore, mode === 'asynchronous' ? 1 : 0, `${client} ${name}: ${mode} all the way up`)
      t.equal(r.source, source, `${client} ${name}`)
      t.same(r.block, block, `${client} ${name}: reason`)
      const p = decode(r.wire)
      if (source.startsWith('blocked')) {
        t.equal(p.rcode, 'NXDOMAIN', `${client} ${name}: sinkhole answer`)
        t.equal(p.answers!.length, 0, `${client} ${name}: no upstream records leak`)
        t.equal(r.answer, undefined, `${client} ${name}: the blocked reply carries no upstream answer`)
      } else {
        t.equal(r.answer, h.entryFor(name).answer, `${client} ${name}: the upstream answer passes through`)
        t.same(p.answers, decode(UPSTREAM[name]).answers, `${client} ${name}: with its records`)
      }
    }
  })
}

t.test('exemptions apply to answer inspection too', async (t) => {
  const h = harness()
  const exempted = await h.run('10.20.0.99', 'video.example.net')
  t.equal(exempted.source, 'forwarded')
  t.same(exempted.exempted, { categories: ['tiktok'], exemptionId: 'ex-comms' })
  t.equal((await h.run('10.20.0.98', 'video.example.net')).source, 'blocked-cname', 'an ended exemption does not apply')
  // CNAME into tiktok (exempted) and an address in telegram (not exempted): telegram still blocks.
  const mixed = await h.run('10.20.0.99', 'both.example')
  t.equal(mixed.source, 'blocked-ip')
  t.same(mixed.block, { category: 'telegram', caughtBy: 'ip', entry: '149.154.160.0/20' })
  t.equal((await h.run(STAFF, 'both.example')).source, 'blocked-cname', 'without the exemption the first category hit wins')
})

t.test('the memo is per snapshot, the decision per client', async (t) => {
  const h = harness()
  const entry = h.entryFor('video.example.net')
  t.equal(entry.answer.inspection, null, 'no memo before the first inspection')
  t.equal((await h.run(STAFF, 'video.example.net')).source, 'blocked-cname')
  const memo = entry.answer.inspection
  t.equal(memo?.snapshot, SNAP, 'memo made for this snapshot')
  t.equal((await h.run(STUDENT, 'video.example.net')).source, 'forwarded', 'same entry, a group that does not enforce: passes')
  t.equal(entry.answer.inspection, memo, 'the memo was reused, not recomputed')
  t.equal((await h.run(STAFF, 'video.example.net')).source, 'blocked-cname', 'and blocks again for staff')
  t.equal(inspectAnswer(entry.answer, SNAP), memo, 'inspectAnswer returns the same memo for the same snapshot')

  // A reload: a new snapshot in which tiktokcdn.com is no longer listed.
  const reloaded = snapshotOf({
    categories: [{ name: 'tiktok', domains: ['tiktok.com'] }, CATEGORIES[1], CATEGORIES[2]],
    exemptions: ex.exemptions,
  })
  t.equal((await h.run(STAFF, 'video.example.net', reloaded)).source, 'forwarded', 'new snapshot: recomputed, no longer blocked')
  t.equal(entry.answer.inspection?.snapshot, reloaded, 'memo now belongs to the new snapshot')
  t.not(entry.answer.inspection, memo)
  t.equal((await h.run(STAFF, 'video.example.net', SNAP)).source, 'blocked-cname', 'a query still holding the old snapshot is judged by it')

  // An equal but distinct snapshot object is a new snapshot too.
  const twin = snapshotOf({ categories: CATEGORIES, allow: ['allowed.tiktok.com', 'ok.tiktokcdn.com'], exemptions: ex.exemptions })
  const before = entry.answer.inspection
  await h.run(STAFF, 'video.example.net', twin)
  t.equal(entry.answer.inspection?.snapshot, twin)
  t.not(entry.answer.inspection, before)
})

t.test('inspectAnswer records how each category was hit', async (t) => {
  const h = harness()
  const memo = inspectAnswer(h.entryFor('both.example').answer, SNAP)
  const bit = (n: string) => SNAP.categories.find((c) => c.name === n)!.bit
  t.equal(memo.mask, (1 << bit('tiktok')) | (1 << bit('telegram')))
  t.same(memo.hits[bit('tiktok')], { caughtBy: 'cname', entry: 'tiktok.com' })
  t.same(memo.hits[bit('telegram')], { caughtBy: 'ip', entry: '149.154.160.0/20' })
  t.equal(memo.hits[bit('doh-bypass')], null)
  t.equal(inspectAnswer(h.entryFor('clean.example').answer, SNAP).mask, 0)
})

t.test('replies without an upstream entry pass untouched; groups enforcing nothing are not inspected', async (t) => {
  const responder = new BlockResponder('nxdomain', plan)
  const stage = new InspectAnswerStage(responder)
  const q = queryOf(encodeQuery({ name: 'video.example.net' }), { address: STAFF, now: NOW })
  q.snapshot = SNAP
  q.enforced = -1
  const servfail: Reply = { kind: 'answer', wire: Buffer.alloc(12), source: 'servfail' }
  t.equal(stage.handle(q, () => servfail), servfail, 'no entry: as is')
  const drop: Reply = { kind: 'drop', source: 'rate-limited' }
  t.equal(stage.handle(q, () => drop), drop, 'a drop: as is')
  const entry = new CacheEntry(readAnswer(UPSTREAM['video.example.net']), NOW, NOW, NOW)
  const forwarded: Reply = { kind: 'answer', wire: Buffer.alloc(12), source: 'forwarded', answer: entry.answer }
  q.enforced = 0
  t.equal(stage.handle(q, () => forwarded), forwarded, 'enforced 0: as is')
  t.equal(entry.answer.inspection, null, 'and not even inspected')
  q.enforced = -1
  t.equal((stage.handle(q, () => forwarded) as AnswerReply).source, 'blocked-cname', 'the same reply for an enforcing client is blocked')
})
