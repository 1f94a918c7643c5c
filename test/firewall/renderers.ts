/**
 * The renderers checked by the tools that will load them: `nft -c -f`
 * (nftables), `iptables-restore --test` and `ip6tables-restore --test`.
 * Each check is shown to fail on a broken copy first, so a pass means the
 * tool really read the file. ipset is not installed here: its format is
 * checked line by line against ipset's restore syntax.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { BlockList } from 'node:net'
import { validate } from '../../src/config/load-config.js'
import { buildFeed } from '../../src/firewall/feed.js'
import { renderIpset } from '../../src/firewall/render-ipset.js'
import { chainName, renderIptables } from '../../src/firewall/render-iptables.js'
import { renderJson, renderPlain } from '../../src/firewall/render-lists.js'
import { renderNftables } from '../../src/firewall/render-nftables.js'
import type { Exemption } from '../../src/lists/exemptions.js'
import { snapshotOf } from '../fixtures/dns-wire.js'
import { requireTool } from '../fixtures/tool.js'

// The real tools this file runs (listed in scripts/ensure-test-tools.sh): fail at once when one is missing.
requireTool('nft')
requireTool('iptables-restore')
requireTool('ip6tables-restore')

const NOW = Date.UTC(2026, 10, 23)
const snapshot = snapshotOf({
  version: '0123abcd',
  categories: [
    { name: 'telegram', domains: [], cidrs: ['149.154.160.0/20', '91.108.4.0/22', '2001:67c:4e8::/48'] },
    { name: 'doh-bypass', domains: [], cidrs: ['9.9.9.9', '2620:fe::fe'] },
    { name: 'tiktok', domains: ['tiktok.com'] },
  ],
  exemptions: [{ id: 'RA-"1"', client: '10.20.31.17', categories: ['telegram'], reason: '', approvedBy: '', expiresAt: NOW + 1000, line: 1, network: new BlockList() } as Exemption],
})
const config = validate({ groups: {
  default: { enforce: ['telegram', 'doh-bypass', 'tiktok'] },
  pupils: { networks: ['10.40.0.0/15', 'fd00:40::/48'], enforce: [] },
} }, 'test')
const feed = buildFeed(config, snapshot, NOW)

const tool = (cmd: string, args: string[], input: string) => spawnSync(cmd, args, { input, encoding: 'utf8' })

t.test('nftables: nft -c accepts it (and refuses a broken copy)', async (t) => {
  const text = renderNftables(feed)
  const broken = tool('nft', ['-c', '-f', '-'], text.replace('flags interval', 'flags nonsense'))
  t.not(broken.status, 0, `nft checks the syntax: ${broken.stderr.split('\n')[0]}`)
  const r = tool('nft', ['-c', '-f', '-'], text)
  t.equal(r.status, 0, r.stderr)
  t.match(text, /list version 0123abcd/)
  t.match(text, /set doh_bypass_v4 \{[^}]*9\.9\.9\.9\/32/)
  t.match(text, /ip saddr 10\.20\.31\.17\/32 return comment "exemption RA-_1_ until/, 'quotes from a list file cannot break out of the comment')
  t.match(text, /ip daddr @telegram_v4 jump check_telegram/)
  t.notMatch(text, /tiktok/, 'a category without ranges has no set')
})

t.test('iptables and ip6tables: iptables-restore --test accepts them (and refuses a broken copy)', async (t) => {
  for (const [family, cmd] of [[4, 'iptables-restore'], [6, 'ip6tables-restore']] as const) {
    const text = renderIptables(feed, family)
    // In --test mode iptables-nft 1.8.9 parses every rule (addresses, matches, targets) but does not
    // check that a jumped-to chain exists; a bad address is what it does refuse.
    const broken = tool(cmd, ['--test', '--noflush'], text.replace(/-d ([0-9a-f:.]+)\//, '-d 999.0.0.1/'))
    t.not(broken.status, 0, `${cmd} checks the rules: ${broken.stderr.split('\n')[0]}`)
    const r = tool(cmd, ['--test', '--noflush'], text)
    t.equal(r.status, 0, `${cmd}: ${r.stderr}`)
  }
  const v4 = renderIptables(feed, 4)
  t.match(v4, /-A DNSVAKT -d 149\.154\.160\.0\/20 -j DNSVAKT-TELEGRAM/)
  t.notMatch(v4, /2001:67c/, 'IPv6 ranges only in the ip6tables output')
  t.match(renderIptables(feed, 6), /-A DNSVAKT -d 2001:67c:4e8::\/48 -j DNSVAKT-TELEGRAM/)
  t.match(v4, /-A DNSVAKT-TELEGRAM -s 10\.40\.0\.0\/15 .* -j RETURN\n-A DNSVAKT-TELEGRAM .*"everyone else" -j REJECT/)
  t.throws(() => chainName('a-category-name-far-too-long'), /too long/)
})

t.test('ipset: create, fill a temporary set, swap', async (t) => {
  const lines = renderIpset(feed).split('\n').filter((l) => l !== '' && !l.startsWith('#'))
  const grammar = /^(create \S+ hash:net family inet6? -exist|flush \S+|add \S+ [0-9a-f.:]+\/\d+|swap \S+ \S+|destroy \S+)$/
  for (const l of lines) t.match(l, grammar)
  t.ok(lines.includes('add dnsvakt-telegram-v4-new 91.108.4.0/22'))
  t.ok(lines.includes('swap dnsvakt-doh-bypass-v6-new dnsvakt-doh-bypass-v6'))
})

t.test('plain: one CIDR per line and nothing else; json carries the version', async (t) => {
  t.equal(renderPlain(feed), '91.108.4.0/22\n149.154.160.0/20\n2001:67c:4e8::/48\n9.9.9.9/32\n2620:fe::fe/128\n')
  t.equal(renderPlain({ ...feed, categories: [] }), '')
  const json = JSON.parse(renderJson(feed))
  t.equal(json.version, '0123abcd')
  t.same(json.categories.map((c: { name: string }) => c.name), ['telegram', 'doh-bypass'], 'in snapshot order')
})
