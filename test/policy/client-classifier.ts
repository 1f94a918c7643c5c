import t from 'tap'
import { ClientClassifier, type GroupConfig, unmapV4 } from '../../src/policy/client-classifier.js'
import { parseExemptions } from '../../src/lists/exemptions.js'
import { snapshotOf } from '../fixtures/dns-wire.js'

const NOW = Date.UTC(2026, 0, 15)
const DAY = 86_400_000
const CATEGORIES = [
  { name: 'tiktok', domains: ['tiktok.com'] },
  { name: 'telegram', domains: ['telegram.org'], cidrs: ['149.154.160.0/20'] },
  { name: 'doh-bypass', domains: ['dns.google'] },
]

const EXEMPTIONS_YAML = `
exemptions:
  - id: ex-comms
    client: 10.20.0.99
    categories: [tiktok]
    reason: communications department
    approvedBy: CISO
    expires: 2026-06-30
  - id: ex-lab
    client: 10.20.5.0/24
    categories: [telegram, doh-bypass]
    reason: security lab
    approvedBy: CISO
    expires: 2026-03-01T12:00:00Z
  - id: ex-v6
    client: fd00:20::/64
    categories: [tiktok]
    reason: v6 lab
    approvedBy: CISO
    expires: 2026-02-01
`

function snapshot(withExemptions = true) {
  const known = new Set(CATEGORIES.map((c) => c.name))
  const ex = parseExemptions(withExemptions ? EXEMPTIONS_YAML : '', 'exemptions.yaml', { knownCategories: known, maxDurationMs: 365 * DAY, now: NOW })
  if (ex.problems.length > 0) throw new Error(`test setup: ${JSON.stringify(ex.problems)}`)
  return snapshotOf({ categories: CATEGORIES, exemptions: ex.exemptions })
}

const GROUPS: Record<string, GroupConfig> = {
  default: { networks: [], enforce: ['tiktok', 'telegram', 'doh-bypass'] },
  // Declared widest first: the longest prefix must still win.
  wide: { networks: ['10.0.0.0/8'], enforce: ['tiktok'] },
  staff: { networks: ['10.20.0.0/16', 'fd00:20::/48'], enforce: ['tiktok', 'telegram', 'doh-bypass'] },
  lab: { networks: ['10.20.5.0/24'], enforce: ['telegram'] },
  host: { networks: ['10.20.5.77/32'], enforce: [] },
  students: { networks: ['10.40.0.0/15', 'fd00:40::/48'], enforce: [] },
  typo: { networks: ['192.168.50.0/24'], enforce: ['tiktok', 'no-such-category'] },
}
const ALLOW = ['10.0.0.0/8', '192.168.0.0/16', 'fd00::/8', '::1/128']

t.test('access: allowed only inside access.allow (v4-mapped IPv6 unmapped first)', async (t) => {
  const c = new ClientClassifier(ALLOW, GROUPS)
  const cases: Array<[string, boolean]> = [
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true],
    ['192.168.1.1', true],
    ['fd00:20::1', true],
    ['::1', true],
    ['8.8.8.8', false],
    ['::ffff:8.8.8.8', false],
    ['172.16.0.1', false],
    ['2001:db8::1', false],
    ['127.0.0.1', false],
  ]
  for (const [address, allowed] of cases) t.equal(c.allows(address), allowed, address)
  t.equal(new ClientClassifier([], GROUPS).allows('10.1.2.3'), false, 'an empty allow list allows nobody (fails closed)')
  for (const [address, allowed] of cases) t.equal(c.allows(address), allowed, `${address}: the cached answer is the same`)
  t.equal(c.classify('8.8.8.8', snapshot()).group, 'default', 'a refused client still has a group (explain shows it); access is the acl stage\'s alone')
})

t.test('group: the longest matching prefix across all groups, else default', async (t) => {
  const c = new ClientClassifier(ALLOW, GROUPS)
  const snap = snapshot()
  const cases: Array<[string, string]> = [
    ['10.1.2.3', 'wide'],
    ['10.20.1.1', 'staff'],
    ['10.20.5.1', 'lab'],
    ['10.20.5.77', 'host'],
    ['::ffff:10.20.5.77', 'host'],
    ['10.40.0.1', 'students'],
    ['10.41.255.255', 'students'],
    ['10.42.0.1', 'wide'],
    ['192.168.1.1', 'default'],
    ['fd00:20::1', 'staff'],
    ['fd00:40:0:1::1', 'students'],
    ['fd00:99::1', 'default'],
    ['8.8.8.8', 'default'],
  ]
  for (const [address, group] of cases) t.equal(c.classify(address, snap).group, group, address)
})

t.test('enforced: the group\'s categories as a mask over this snapshot\'s bits', async (t) => {
  const c = new ClientClassifier(ALLOW, GROUPS)
  const snap = snapshot()
  const mask = (names: string[]) => names.reduce((m, n) => m | (1 << snap.categories.find((x) => x.name === n)!.bit), 0)
  t.equal(c.classify('10.20.1.1', snap).enforced, mask(['tiktok', 'telegram', 'doh-bypass']), 'staff')
  t.equal(c.classify('10.1.1.1', snap).enforced, mask(['tiktok']), 'wide')
  t.equal(c.classify('10.40.0.1', snap).enforced, 0, 'students enforce nothing')
  t.equal(c.classify('192.168.50.1', snap).enforced, mask(['tiktok']), 'an unknown category name adds nothing')
  const noDefault = new ClientClassifier(ALLOW, { staff: GROUPS.staff })
  t.equal(noDefault.classify('192.168.1.1', snap).group, 'default')
  t.equal(noDefault.classify('192.168.1.1', snap).enforced, mask(['tiktok', 'telegram', 'doh-bypass']), 'no default group configured: every category (fails closed)')
})

t.test('shadow: the group\'s shadow categories as a mask, never overlapping the enforced ones', async (t) => {
  const snap = snapshot()
  const mask = (names: string[]) => names.reduce((m, n) => m | (1 << snap.categories.find((x) => x.name === n)!.bit), 0)
  const c = new ClientClassifier(ALLOW, {
    staff: { networks: ['10.20.0.0/16'], enforce: ['tiktok'], shadow: ['telegram', 'tiktok'] },
    default: { networks: [], enforce: ['tiktok'] },
  })
  t.equal(c.classify('10.20.1.1', snap).shadow, mask(['telegram']), 'shadow, less what the group enforces')
  t.equal(c.classify('192.168.1.1', snap).shadow, 0, 'no shadow key: 0, so the stages skip the shadow checks')
  t.equal(new ClientClassifier(ALLOW, { staff: GROUPS.staff }).classify('192.168.1.1', snap).shadow, 0, 'no default group: every category enforced, none in shadow')
})

t.test('exemptions: those whose network holds the client', async (t) => {
  const c = new ClientClassifier(ALLOW, GROUPS)
  const snap = snapshot()
  const ids = (address: string) => c.classify(address, snap).exemptions.map((e) => e.id).sort()
  t.same(ids('10.20.0.99'), ['ex-comms'])
  t.same(ids('::ffff:10.20.0.99'), ['ex-comms'], 'v4-mapped')
  t.same(ids('10.20.0.98'), [])
  t.same(ids('10.20.5.1'), ['ex-lab'])
  t.same(ids('10.20.5.255'), ['ex-lab'])
  t.same(ids('10.20.6.0'), [])
  t.same(ids('fd00:20::abcd'), ['ex-v6'])
  t.same(ids('fd00:20:0:1::1'), [], 'outside the /64')
  // Expiry is not decided here: an exemption that has already ended is still listed (checked per query).
  t.ok(c.classify('fd00:20::1', snap).exemptions.every((e) => e.expiresAt === Date.UTC(2026, 1, 2)), 'expiry carried as parsed')
})

t.test('a new snapshot is picked up, the old answers are not reused', async (t) => {
  const c = new ClientClassifier(ALLOW, GROUPS)
  const withEx = snapshot(true)
  const without = snapshot(false)
  t.equal(c.classify('10.20.0.99', withEx).exemptions.length, 1)
  t.equal(c.classify('10.20.0.99', without).exemptions.length, 0, 'exemption gone with the new snapshot')
  t.equal(c.classify('10.20.0.99', withEx).exemptions.length, 1, 'and back')
  // Bits may move between snapshots: the mask follows the snapshot's own bits.
  const reordered = snapshotOf({ categories: [CATEGORIES[2], CATEGORIES[0]] })
  t.equal(c.classify('10.1.1.1', reordered).enforced, 1 << 1, 'tiktok is bit 1 in the reordered snapshot')
  t.equal(c.classify('10.1.1.1', withEx).enforced, 1 << 0, 'and bit 0 in the first')
})

t.test('unmapV4', async (t) => {
  const cases: Array<[string, string]> = [
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['10.0.0.1', '10.0.0.1'],
    ['::1', '::1'],
    ['::ffff:abcd', '::ffff:abcd'],
    ['fd00::ffff:10.0.0.1', 'fd00::ffff:10.0.0.1'],
  ]
  for (const [input, expected] of cases) t.equal(unmapV4(input), expected, input)
})

t.test('access and group of interleaved clients never mix (the last-lookup memo)', async (t) => {
  const c = new ClientClassifier(ALLOW, GROUPS)
  const snap = snapshot()
  const sequence: Array<[string, boolean, string]> = [
    ['10.20.1.1', true, 'staff'],
    ['8.8.8.8', false, 'default'],
    ['10.40.0.1', true, 'students'],
    ['10.20.1.1', true, 'staff'],
    [String(['10', '20', '1', '1'].join('.')), true, 'staff'],
    ['8.8.8.8', false, 'default'],
  ]
  for (const [address, allowed, group] of sequence) {
    t.equal(c.allows(address), allowed, `${address}: access`)
    t.equal(c.classify(address, snap).group, group, `${address}: group`)
    t.equal(c.allows(address), allowed, `${address}: access again`)
  }
  const other = snapshot(false)
  t.equal(c.classify('10.20.0.99', snap).exemptions.length, 1)
  t.equal(c.allows('10.20.0.99'), true)
  t.equal(c.classify('10.20.0.99', other).exemptions.length, 0, 'right after, with another snapshot: worked out again')
})
