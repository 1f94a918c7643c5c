import t from 'tap'
import { parseExemptions } from '../../src/lists/exemptions.js'
import { hitBit, hitStart } from '../../src/pipeline/policy-view.js'
import {
  ALLOW_LISTED, BLOCKED, BUILTIN_CANARY, BUILTIN_DDR, BUILTIN_NAMES, blockedMode, builtinMode, categoriesListing,
  decide, decisionHit, decisionKind, EXEMPTED, exemptMaskAt, NXDOMAIN_WHEN_BLOCKED, PASS,
} from '../../src/policy/decide.js'
import { snapshotOf } from '../fixtures/dns-wire.js'

const NOW = Date.UTC(2026, 0, 15, 12)
const DAY = 86_400_000
const CATEGORIES = [
  { name: 'tiktok', domains: ['tiktok.com', 'p16-tiktok-*.ibyteimg.com'] },
  { name: 'telegram', domains: ['telegram.org', 'both.example'] },
  { name: 'doh-bypass', domains: ['dns.google', 'mask.icloud.com', 'both.example'] },
]
const ex = parseExemptions(
  `
exemptions:
  - { id: a, client: 10.0.0.1, categories: [tiktok, telegram], reason: r, approvedBy: x, expires: "2026-01-20T00:00:00Z" }
  - { id: ended, client: 10.0.0.1, categories: [doh-bypass], reason: r, approvedBy: x, expires: "2026-01-10T00:00:00Z" }
`,
  'exemptions.yaml',
  { knownCategories: new Set(CATEGORIES.map((c) => c.name)), maxDurationMs: 365 * DAY, now: NOW - 30 * DAY },
)
if (ex.problems.length > 0) throw new Error(`test setup: ${JSON.stringify(ex.problems)}`)
const SNAP = snapshotOf({ categories: CATEGORIES, allow: ['ok.tiktok.com'], exemptions: ex.exemptions })
const bit = (n: string) => 1 << SNAP.categories.find((c) => c.name === n)!.bit
const ALL = bit('tiktok') | bit('telegram') | bit('doh-bypass')
const KIND = ['pass', 'builtin-canary', 'builtin-ddr', 'allow-listed', 'blocked', 'exempted']

t.test('decide: built-in names, then the allow list, an exemption, the categories', async (t) => {
  // [name, enforced, exempt mask, kind, category of the hit, matching entry]
  const cases: Array<[string, number, number, number, string?, string?]> = [
    ['use-application-dns.net', 0, 0, BUILTIN_CANARY],
    ['use-application-dns.net', ALL, ALL, BUILTIN_CANARY],
    ['_dns.resolver.arpa', 0, 0, BUILTIN_DDR],
    ['x.use-application-dns.net', ALL, 0, PASS],
    ['www.tiktok.com', ALL, 0, BLOCKED, 'tiktok', 'tiktok.com'],
    ['www.tiktok.com', bit('telegram'), 0, PASS],
    ['www.tiktok.com', 0, 0, PASS],
    ['ok.tiktok.com', ALL, 0, ALLOW_LISTED, 'tiktok', 'tiktok.com'],
    ['ok.tiktok.com', ALL, bit('tiktok'), ALLOW_LISTED, 'tiktok', 'tiktok.com'],
    ['www.tiktok.com', ALL, bit('tiktok'), EXEMPTED, 'tiktok', 'tiktok.com'],
    ['both.example', ALL, bit('telegram'), BLOCKED, 'doh-bypass', 'both.example'],
    ['both.example', ALL, bit('telegram') | bit('doh-bypass'), EXEMPTED, 'telegram', 'both.example'],
    ['sub.mask.icloud.com', ALL, 0, BLOCKED, 'doh-bypass', 'mask.icloud.com'],
    ['example.org', ALL, ALL, PASS],
    ['nottiktok.com', ALL, 0, PASS],
    // A wildcard hit: the pattern comes back through the decision's packed integer.
    ['p16-tiktok-va.ibyteimg.com', ALL, 0, BLOCKED, 'tiktok', 'p16-tiktok-*.ibyteimg.com'],
    ['img.p16-tiktok-va.ibyteimg.com', ALL, bit('tiktok'), EXEMPTED, 'tiktok', 'p16-tiktok-*.ibyteimg.com'],
    ['ibyteimg.com', ALL, 0, PASS],
  ]
  for (const [name, enforced, exempt, kind, category, entry] of cases) {
    const d = decide(SNAP, name, enforced, exempt)
    const what = `${name} enforced=${enforced} exempt=${exempt}`
    t.equal(KIND[decisionKind(d)], KIND[kind], what)
    if (category !== undefined) {
      const hit = decisionHit(d)
      t.equal(SNAP.categoryAt(hitBit(hit)).name, category, `${what}: category`)
      t.equal(SNAP.categoryAt(hitBit(hit)).domains.entryAt(name, hitStart(hit)), entry, `${what}: entry`)
    }
  }
})

t.test('the answer a decision gets', async (t) => {
  t.equal(builtinMode(BUILTIN_CANARY), 'nxdomain')
  t.equal(builtinMode(BUILTIN_DDR), 'nodata')
  t.same(BUILTIN_NAMES.map((b) => [b.name, b.mode]), [['use-application-dns.net', 'nxdomain'], ['_dns.resolver.arpa', 'nodata']], 'each built-in name with the mode the stage uses')
  for (const mode of ['nxdomain', 'nodata', 'null', 'refused', 'sinkhole'] as const) {
    t.equal(blockedMode('www.tiktok.com', mode), mode, `an ordinary name: ${mode}`)
    for (const n of NXDOMAIN_WHEN_BLOCKED) {
      t.equal(blockedMode(n, mode), 'nxdomain', `${n} in ${mode} mode: NXDOMAIN`)
      t.equal(blockedMode(`a.b.${n}`, mode), 'nxdomain', `a subdomain of ${n} in ${mode} mode: NXDOMAIN`)
      t.equal(blockedMode(`x${n}`, mode), mode, `x${n} is not a subdomain: ${mode}`)
    }
  }
})

t.test('exemptMaskAt: valid at the instant, only enforced categories', async (t) => {
  const client = { group: 'g', enforced: ALL, shadow: 0, exemptions: ex.exemptions }
  t.equal(exemptMaskAt(SNAP, client, NOW), bit('tiktok') | bit('telegram'))
  t.equal(exemptMaskAt(SNAP, client, Date.UTC(2026, 0, 9)), ALL, 'both valid before the 10th')
  t.equal(exemptMaskAt(SNAP, client, Date.UTC(2026, 0, 20)), 0, 'none at the instant of expiry')
  t.equal(exemptMaskAt(SNAP, { ...client, enforced: bit('telegram') }, NOW), bit('telegram'), 'only what the group enforces')
  t.equal(exemptMaskAt(SNAP, { ...client, exemptions: [] }, NOW), 0)
})

t.test('categoriesListing: every category in the mask that lists the name', async (t) => {
  t.equal(categoriesListing(SNAP, 'both.example', ALL), bit('telegram') | bit('doh-bypass'))
  t.equal(categoriesListing(SNAP, 'both.example', bit('doh-bypass')), bit('doh-bypass'))
  t.equal(categoriesListing(SNAP, 'www.tiktok.com', bit('telegram')), 0)
})
