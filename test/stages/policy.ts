import t from 'tap'
import { parseExemptions } from '../../src/lists/exemptions.js'
import type { PolicySnapshot } from '../../src/lists/policy-snapshot.js'
import { CacheEntry, renderEntry } from '../../src/cache/cache-entry.js'
import { type BlockMode, makeBlockAnswerPlan } from '../../src/dns/build-block-reply.js'
import { readAnswer } from '../../src/dns/read-answer.js'
import { compose } from '../../src/pipeline/compose.js'
import type { Query } from '../../src/pipeline/query.js'
import type { AnswerReply, Reply, Stage } from '../../src/pipeline/types.js'
import { BlockResponder } from '../../src/policy/block-responder.js'
import { AclStage } from '../../src/stages/acl.js'
import { ClientGroupStage } from '../../src/stages/client-group.js'
import { PolicyStage } from '../../src/stages/policy.js'
import { decode, encodeResponse, optOf, queryOf, rawQuery, rr, snapshotOf, type QueryOptions, encodeQuery, edeOf } from '../fixtures/dns-wire.js'
import { CHAT, OTHER, STAFF, STUDENT, testClassifier } from '../fixtures/test-groups.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 0, 15, 12)
const CATEGORIES = [
  { name: 'tiktok', domains: ['tiktok.com', 'tiktokcdn.com', 'tiktokv.com'] },
  { name: 'telegram', domains: ['telegram.org', 't.me'], cidrs: ['149.154.160.0/20'] },
  { name: 'doh-bypass', domains: ['dns.google', 'mask.icloud.com', 'mask-h2.icloud.com', 'use-application-dns.org'] },
]
const known = new Set(CATEGORIES.map((c) => c.name))
const ex = parseExemptions(
  `
exemptions:
  - { id: ex-comms, client: 10.20.0.99, categories: [tiktok], reason: comms, approvedBy: CISO, expires: 2026-06-30 }
  - { id: ex-ended, client: 10.20.0.98, categories: [tiktok], reason: ended, approvedBy: CISO, expires: 2026-01-01 }
  - { id: ex-noon, client: 10.20.0.97, categories: [tiktok], reason: ends at noon, approvedBy: CISO, expires: "2026-01-15T12:00:00Z" }
`,
  'exemptions.yaml',
  { knownCategories: known, maxDurationMs: 365 * DAY, now: NOW - 30 * DAY },
)
if (ex.problems.length > 0) throw new Error(`test setup: ${JSON.stringify(ex.problems)}`)
const SNAP = snapshotOf({ categories: CATEGORIES, allow: ['allowed.tiktok.com'], exemptions: ex.exemptions })

const classifier = testClassifier()

const plan = makeBlockAnswerPlan({ ttl: 300, ipv4: '10.20.0.80', ipv6: null, edeText: 'Blocked' })

/**
 * The upstream's answer to `q`: its question copied (any bytes, 0x20 case) and one A record
 * owned by a pointer to it. Checked against dns-packet below for an ordinary name.
 */
function upstreamAnswer(q: Query): Buffer {
  const header = Buffer.from([0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0])
  const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1])
  return Buffer.concat([header, q.wire.subarray(12, q.questionEnd), answer])
}

t.test('test setup: the fake upstream answer is what dns-packet would write', async (t) => {
  const q = queryOf(encodeQuery({ name: 'WwW.Example.com', type: 'A' }))
  const p = decode(upstreamAnswer(q))
  const expected = decode(encodeResponse({ name: 'WwW.Example.com', answers: [rr('A', 'WwW.Example.com', 60, '192.0.2.1')] }))
  t.same(p.questions, expected.questions)
  t.same(p.answers, expected.answers)
})

/** A fake upstream: a synchronous forwarded Reply built from a dns-packet answer, counting its calls. */
function harness(mode: BlockMode = 'nxdomain', snapshot: PolicySnapshot = SNAP) {
  let forwarded = 0
  const forward: Stage = {
    name: 'forward',
    handle(q: Query): Reply {
      forwarded++
      const entry = new CacheEntry(readAnswer(upstreamAnswer(q)), NOW, NOW + 60_000, NOW + 60_000)
      return { kind: 'answer', wire: renderEntry(entry, q, NOW), source: 'forwarded', answer: entry.answer }
    },
  }
  const chain = compose([new AclStage(classifier), new ClientGroupStage(classifier), new PolicyStage(new BlockResponder(mode, plan)), forward])
  const run = (address: string, o: QueryOptions | Buffer, now = NOW): { reply: AnswerReply; q: Query } => {
    const q = queryOf(Buffer.isBuffer(o) ? o : encodeQuery(o), { address, now })
    q.snapshot = snapshot
    const r = chain(q)
    if (r instanceof Promise || r.kind !== 'answer') throw new Error('expected a synchronous answer')
    return { reply: r, q }
  }
  return { run, forwarded: () => forwarded }
}

t.test('blocked names: apex, subdomain, any letter case; next is never called', async (t) => {
  const h = harness()
  // [name, category, entry]
  const cases: Array<[string, string, string]> = [
    ['tiktok.com', 'tiktok', 'tiktok.com'],
    ['www.tiktok.com', 'tiktok', 'tiktok.com'],
    ['a.b.c.tiktokv.com', 'tiktok', 'tiktokv.com'],
    ['WwW.TikTok.CoM', 'tiktok', 'tiktok.com'],
    ['TELEGRAM.ORG', 'telegram', 'telegram.org'],
    ['t.me', 'telegram', 't.me'],
    ['dns.google', 'doh-bypass', 'dns.google'],
  ]
  for (const [name, category, entry] of cases) {
    for (const address of [STAFF, OTHER]) {
      const before = h.forwarded()
      const { reply } = h.run(address, { name, type: 'A', edns: { udpSize: 1232 } })
      t.equal(reply.source, 'blocked', `${name} from ${address}`)
      t.same(reply.block, { category, caughtBy: 'name', entry }, `${name}: reason`)
      t.equal(h.forwarded(), before, `${name}: never forwarded`)
      const p = decode(reply.wire)
      t.equal(p.rcode, 'NXDOMAIN', `${name}: NXDOMAIN`)
      t.equal(p.questions![0].name, name, `${name}: question echoed in the client's case`)
      t.same(edeOf(optOf(p)), { infoCode: 15, text: 'Blocked' }, `${name}: EDE 15`)
      t.equal(reply.exempted, undefined)
    }
  }
})

t.test('lookalikes and unrelated names pass', async (t) => {
  const h = harness()
  const names = ['nottiktok.com', 'tiktok.co', 'tiktok.com.evil.example', 'tiktokcom', 'mytiktok.com', 'ttelegram.org', 'me', 'telegram.org.example', 'google', 'example.com', '']
  for (const name of names) {
    const before = h.forwarded()
    const { reply } = h.run(STAFF, { name: name || '.', type: 'A' })
    t.equal(reply.source, 'forwarded', name || '(root)')
    t.equal(h.forwarded(), before + 1, `${name || '(root)'}: forwarded once`)
  }
})

t.test('the allow list overrides every category', async (t) => {
  const h = harness()
  for (const name of ['allowed.tiktok.com', 'x.allowed.tiktok.com', 'ALLOWED.TikTok.com']) {
    t.equal(h.run(STAFF, { name }).reply.source, 'forwarded', name)
  }
  t.equal(h.run(STAFF, { name: 'notallowed.tiktok.com' }).reply.source, 'blocked', 'a sibling is still blocked')
})

t.test('groups: only enforced categories block', async (t) => {
  const h = harness()
  const cases: Array<[string, string, string]> = [
    [STUDENT, 'tiktok.com', 'forwarded'],
    [STUDENT, 'telegram.org', 'forwarded'],
    [CHAT, 'tiktok.com', 'forwarded'],
    [CHAT, 'telegram.org', 'blocked'],
    [OTHER, 'tiktok.com', 'blocked'],
  ]
  for (const [address, name, source] of cases) t.equal(h.run(address, { name }).reply.source, source, `${address} ${name}`)
})

t.test('exemptions: an exempted client passes and the reply says so; an ended one does not apply', async (t) => {
  const h = harness()
  const exempted = h.run('10.20.0.99', { name: 'www.tiktok.com' }).reply
  t.equal(exempted.source, 'forwarded')
  t.same(exempted.exempted, { categories: ['tiktok'], exemptionId: 'ex-comms' })
  t.equal(h.run('10.20.0.99', { name: 'telegram.org' }).reply.source, 'blocked', 'only the exempted category')
  t.equal(h.run('10.20.0.99', { name: 'example.com' }).reply.exempted, undefined, 'a name no category covers is not "exempted"')
  t.equal(h.run('10.20.0.98', { name: 'www.tiktok.com' }).reply.source, 'blocked', 'ended exemption')
  t.equal(h.run('10.20.0.97', { name: 'tiktok.com' }, NOW - 1).reply.source, 'forwarded', '1 ms before its end')
  t.equal(h.run('10.20.0.97', { name: 'tiktok.com' }, NOW).reply.source, 'blocked', 'at its end')
  t.equal(h.run('10.20.0.97', { name: 'tiktok.com' }, NOW + DAY).reply.source, 'blocked', 'after its end (same snapshot, no reload)')
  t.equal(h.run('10.20.0.99', { name: 'allowed.tiktok.com' }).reply.exempted, undefined, 'allowed names are not marked exempted')
})

t.test('network signals are answered for every group, whatever it enforces', async (t) => {
  for (const mode of ['nxdomain', 'null', 'refused', 'sinkhole', 'nodata'] as BlockMode[]) {
    const h = harness(mode)
    for (const address of [STAFF, STUDENT, CHAT, OTHER, '10.20.0.99']) {
      for (const type of ['A', 'AAAA', 'UNKNOWN_65']) {
        const before = h.forwarded()
        const canary = h.run(address, { name: 'use-application-dns.net', type }).reply
        t.equal(decode(canary.wire).rcode, 'NXDOMAIN', `${mode} ${address} ${type}: canary NXDOMAIN`)
        t.equal(decode(canary.wire).answers!.length, 0, `${mode} ${address} ${type}: canary has no address`)
        const ddr = h.run(address, { name: '_dns.resolver.arpa', type: 'UNKNOWN_64' }).reply
        const p = decode(ddr.wire)
        t.equal(p.rcode, 'NOERROR', `${mode} ${address}: DDR NOERROR`)
        t.equal(p.answers!.length, 0, `${mode} ${address}: DDR NODATA`)
        t.equal(h.forwarded(), before, `${mode} ${address} ${type}: neither forwarded`)
      }
    }
  }
  const h = harness()
  t.equal(h.run(STUDENT, { name: 'Use-Application-DNS.net' }).reply.source, 'blocked', 'canary in any letter case')
})

t.test('iCloud Private Relay names are NXDOMAIN even in null and sinkhole modes', async (t) => {
  for (const mode of ['null', 'sinkhole', 'nodata', 'refused'] as BlockMode[]) {
    const h = harness(mode)
    for (const name of ['mask.icloud.com', 'mask-h2.icloud.com', 'x.mask.icloud.com']) {
      for (const type of ['A', 'AAAA']) {
        const { reply } = h.run(STAFF, { name, type })
        t.equal(decode(reply.wire).rcode, 'NXDOMAIN', `${mode} ${name} ${type}`)
        t.equal(reply.source, 'blocked')
      }
    }
    // Other blocked names keep the configured mode.
    const other = decode(h.run(STAFF, { name: 'dns.google', type: 'A' }).reply.wire)
    t.equal(other.rcode, mode === 'refused' ? 'REFUSED' : 'NOERROR', `${mode}: dns.google keeps the mode`)
    if (mode === 'null') t.equal((other.answers![0] as { data: string }).data, '0.0.0.0', 'null mode: 0.0.0.0')
  }
  // Not blocked by a list for this group: not answered specially.
  t.equal(harness('null').run(STUDENT, { name: 'mask.icloud.com' }).reply.source, 'forwarded', 'only when the list blocks it')
})

t.test('blocked replies are synchronous (no promise on the blocked path)', async (t) => {
  const chain = compose([
    new AclStage(classifier),
    new ClientGroupStage(classifier),
    new PolicyStage(new BlockResponder('nxdomain', plan)),
    { name: 'forward', handle: async () => { throw new Error('must not be reached') } },
  ])
  const q = queryOf(encodeQuery({ name: 'tiktok.com' }), { address: STAFF, now: NOW })
  q.snapshot = SNAP
  const r = chain(q)
  t.notOk(r instanceof Promise)
})

t.test('names with escaped bytes are matched and reported correctly', async (t) => {
  // Two labels of 63 NUL bytes print as 2 x 252 characters (\000 each), so the list entry
  // starts past index 255 of the name.
  const nul63 = Buffer.alloc(63)
  const wire = rawQuery([nul63, nul63, Buffer.from('tiktok'), Buffer.from('com')])
  const h = harness()
  let reply: AnswerReply | undefined
  t.doesNotThrow(() => (reply = h.run(STAFF, wire).reply), 'answered without throwing')
  t.equal(reply?.source, 'blocked', 'blocked')
  t.same(reply?.block, { category: 'tiktok', caughtBy: 'name', entry: 'tiktok.com' }, 'the right category and entry')
  // With tiktok as the only (last) category a wrong bit would point past the categories.
  const single = harness('nxdomain', snapshotOf({ categories: [CATEGORIES[0]] }))
  let r2: AnswerReply | undefined
  t.doesNotThrow(() => (r2 = single.run(OTHER, wire).reply), 'single category: no exception')
  t.equal(r2?.block?.category, 'tiktok')
  // The exemption path decodes the same number.
  let r3: AnswerReply | undefined
  t.doesNotThrow(() => (r3 = h.run('10.20.0.99', wire).reply), 'exempted client: no exception')
  t.same(r3?.exempted, { categories: ['tiktok'], exemptionId: 'ex-comms' }, 'exempted client: the right exemption')
})
