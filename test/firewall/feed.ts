/**
 * The firewall feed model (feed.ts): canonical disjoint ranges from the
 * snapshot, the list version, and who is blocked mirroring the DNS policy
 * (exemptions first, groups by longest prefix, the default group, fail closed
 * without one).
 */
import t from 'tap'
import { validate } from '../../src/config/load-config.js'
import { buildFeed, canonicalCidr, enforcedCategories } from '../../src/firewall/feed.js'
import { snapshotOf } from '../fixtures/dns-wire.js'
import type { Exemption } from '../../src/lists/exemptions.js'
import { BlockList } from 'node:net'

const NOW = Date.UTC(2026, 10, 23)
const exemption = (id: string, client: string, expiresAt: number): Exemption =>
  ({ id, client, categories: ['telegram'], reason: 'test', approvedBy: 'test', expiresAt, line: 1, network: new BlockList() })

t.test('canonical CIDRs: host bits cleared, IPv6 compressed', async (t) => {
  t.same(canonicalCidr('10.1.2.3/8'), { cidr: '10.0.0.0/8', family: 4, prefix: 8 })
  t.same(canonicalCidr('2001:0DB8:0:0::1/48'), { cidr: '2001:db8::/48', family: 6, prefix: 48 })
  t.same(canonicalCidr('192.0.2.7'), { cidr: '192.0.2.7/32', family: 4, prefix: 32 })
  t.equal(canonicalCidr('nonsense'), null)
})

t.test('ranges, version and rules of each enforced category', async (t) => {
  const snapshot = snapshotOf({
    version: 'abc123',
    categories: [
      { name: 'telegram', domains: ['telegram.org'], cidrs: ['149.154.160.0/20', '149.154.161.0/24', '2001:67c:4e8::/48'] },
      { name: 'tiktok', domains: ['tiktok.com'] },
      { name: 'unused', domains: [], cidrs: ['203.0.113.0/24'] },
    ],
    exemptions: [
      exemption('RA-1', '10.20.31.17/32', NOW + 86_400_000),
      exemption('RA-OLD', '10.20.31.18/32', NOW - 1),
    ],
  })
  const config = validate({ groups: {
    default: { enforce: ['telegram', 'tiktok'] },
    staff: { networks: ['10.20.0.0/16'], enforce: ['telegram'] },
    pupils: { networks: ['10.20.40.0/22', 'fd00:40::/48'], enforce: [] },
  } }, 'test')
  t.same(enforcedCategories(config, snapshot), ['telegram', 'tiktok'])
  const feed = buildFeed(config, snapshot, NOW)
  t.equal(feed.version, 'abc123')
  t.same(feed.categories.map((c) => c.name), ['telegram'], 'only categories with ranges; "unused" is enforced by no group')
  const tg = feed.categories[0]
  t.same(tg.v4, ['149.154.160.0/20'], 'a range inside another is left out')
  t.same(tg.v6, ['2001:67c:4e8::/48'])
  t.same(tg.rules.map((r) => [r.source, r.block, r.why.split(' ')[0]]), [
    ['10.20.31.17/32', false, 'exemption'],
    ['fd00:40::/48', false, 'group'],
    ['10.20.40.0/22', false, 'group'],
    ['10.20.0.0/16', true, 'group'],
  ], 'the expired exemption is gone; longest prefix first')
  t.equal(tg.otherwiseBlock, true)
  t.same(buildFeed(config, snapshot, NOW, ['unused']).categories[0].v4, ['203.0.113.0/24'], 'an explicit category is exported')
})

t.test('without a default group every category applies to unmatched clients (fail closed)', async (t) => {
  const snapshot = snapshotOf({ categories: [{ name: 'telegram', domains: [], cidrs: ['149.154.160.0/20'] }] })
  const config = validate({ groups: { staff: { networks: ['10.0.0.0/8'], enforce: [] } } }, 'test')
  const feed = buildFeed(config, snapshot, NOW)
  t.equal(feed.categories[0].otherwiseBlock, true)
  t.equal(feed.categories[0].rules[0].block, false)
  const open = buildFeed(validate({ groups: { default: { enforce: [] } } }, 'test'), snapshot, NOW, ['telegram'])
  t.equal(open.categories[0].otherwiseBlock, false, 'a default group that enforces nothing')
})
