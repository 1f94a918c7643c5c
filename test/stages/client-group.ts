import tap from 'tap'

const t = tap
import { parseExemptions } from '../../src/lists/exemptions.js'
import { ClientClassifier } from '../../src/policy/client-classifier.js'
import { ClientGroupStage } from '../../src/stages/client-group.js'
import type { Query } from '../../src/pipeline/query.js'
import type { Reply } from '../../src/pipeline/types.js'
import { makeQuery, snapshotOf } from '../fixtures/dns-wire.js'

const NOW = Date.UTC(2026, 0, 15, 12)
const DAY = 86_400_000
const CATEGORIES = [{ name: 'tiktok', domains: ['tiktok.com'] }, { name: 'telegram', domains: ['telegram.org'] }, { name: 'doh-bypass', domains: ['dns.google'] }]
const known = new Set(CATEGORIES.map((c) => c.name))

const { exemptions, problems } = parseExemptions(
  `
exemptions:
  - { id: both, client: 10.20.0.10, categories: [tiktok, telegram], reason: r, approvedBy: a, expires: "2026-01-20T00:00:00Z" }
  - { id: ended, client: 10.20.0.11, categories: [tiktok], reason: r, approvedBy: a, expires: "2026-01-10T00:00:00Z" }
  - { id: edge, client: 10.20.0.12, categories: [tiktok], reason: r, approvedBy: a, expires: "2026-01-15T12:00:00Z" }
  - { id: not-enforced, client: 10.40.0.10, categories: [tiktok], reason: r, approvedBy: a, expires: 2026-02-01 }
  - { id: overlap-a, client: 10.20.1.0/24, categories: [tiktok], reason: r, approvedBy: a, expires: 2026-02-01 }
  - { id: overlap-b, client: 10.20.1.7, categories: [doh-bypass], reason: r, approvedBy: a, expires: 2026-01-01 }
`,
  'exemptions.yaml',
  { knownCategories: known, maxDurationMs: 365 * DAY, now: NOW - 30 * DAY },
)
if (problems.length > 0) throw new Error(`test setup: ${JSON.stringify(problems)}`)
const snap = snapshotOf({ categories: CATEGORIES, exemptions })
const bit = (n: string) => 1 << snap.categories.find((c) => c.name === n)!.bit
const classifier = new ClientClassifier(['10.0.0.0/8'], {
  default: { networks: [], enforce: ['tiktok'] },
  staff: { networks: ['10.20.0.0/16'], enforce: ['tiktok', 'telegram', 'doh-bypass'] },
  students: { networks: ['10.40.0.0/16'], enforce: ['telegram'] },
})

function run(t: Pick<typeof tap, 'equal'>, address: string, arrivedAt: number): { q: Query; reply: Reply; seen: Query[] } {
  const q = makeQuery({ name: 'example.com' }, { address, now: arrivedAt })
  q.snapshot = snap
  const seen: Query[] = []
  const forwarded: Reply = { kind: 'answer', wire: Buffer.alloc(12), source: 'forwarded' }
  const reply = new ClientGroupStage(classifier).handle(q, (x) => (seen.push(x), forwarded)) as Reply
  t.equal(reply, forwarded, `${address}: next's reply is returned as is`)
  return { q, reply, seen }
}

t.test('group and enforced mask come from the client', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['10.20.0.1', 'staff', bit('tiktok') | bit('telegram') | bit('doh-bypass')],
    ['10.40.0.1', 'students', bit('telegram')],
    ['10.99.0.1', 'default', bit('tiktok')],
  ]
  for (const [address, group, enforced] of cases) {
    const { q, seen } = run(t, address, NOW)
    t.equal(q.group, group, `${address}: group`)
    t.equal(q.enforced, enforced, `${address}: enforced`)
    t.equal(q.exemptMask, 0, `${address}: no exemption`)
    t.same(seen, [q], `${address}: next called once with the query`)
  }
})

t.test('exemptions count only while valid at the query\'s arrival', async (t) => {
  // [what, client, arrival, expected exempt mask]
  const cases: Array<[string, string, number, number]> = [
    ['valid exemption, two categories', '10.20.0.10', NOW, bit('tiktok') | bit('telegram')],
    ['the same, after it ended', '10.20.0.10', Date.UTC(2026, 0, 20), 0],
    ['the same, 1 ms before the end', '10.20.0.10', Date.UTC(2026, 0, 20) - 1, bit('tiktok') | bit('telegram')],
    ['an exemption that ended before', '10.20.0.11', NOW, 0],
    ['ending exactly at arrival: no longer valid', '10.20.0.12', NOW, 0],
    ['1 ms before its end', '10.20.0.12', NOW - 1, bit('tiktok')],
    ['exempt from a category the group does not enforce', '10.40.0.10', NOW, 0],
    ['two overlapping exemptions, one ended', '10.20.1.7', NOW, bit('tiktok')],
    ['the network exemption alone', '10.20.1.8', NOW, bit('tiktok')],
  ]
  for (const [what, address, arrivedAt, mask] of cases) {
    const { q } = run(t, address, arrivedAt)
    t.equal(q.exemptMask, mask, what)
    t.equal(q.exemptMask & ~q.enforced, 0, `${what}: only categories the group enforces`)
  }
})
