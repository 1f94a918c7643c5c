/**
 * The feed as `iptables-restore --noflush` (IPv4) or `ip6tables-restore
 * --noflush` (IPv6) input. Chains `DNSVAKT` (hook it once: `iptables -I
 * FORWARD -j DNSVAKT`) and one `DNSVAKT-<CATEGORY>` check chain per category;
 * declaring them flushes them, so applying a new feed replaces the old rules
 * and touches nothing else. One rule per range: for long range lists use the
 * ipset format and `-m set --match-set` instead.
 */
import type { FirewallFeed } from './feed.js'

/** iptables' chain name limit (XT_EXTENSION_MAXNAMELEN - 1). */
const MAX_CHAIN = 28

export function chainName(category: string): string {
  const name = `DNSVAKT-${category.toUpperCase()}`
  if (name.length > MAX_CHAIN) throw new Error(`category "${category}" is too long for an iptables chain name (${name.length} > ${MAX_CHAIN}); use --format nftables or ipset`)
  return name
}

export function renderIptables(feed: FirewallFeed, family: 4 | 6): string {
  const reject = family === 4 ? 'REJECT --reject-with icmp-admin-prohibited' : 'REJECT --reject-with icmp6-adm-prohibited'
  const cats = feed.categories.filter((c) => (family === 4 ? c.v4 : c.v6).length > 0)
  const lines = [
    `# dnsvakt firewall feed (IPv${family}), list version ${feed.version}, generated ${feed.generatedAt}`,
    `# Apply: ${family === 4 ? 'iptables' : 'ip6tables'}-restore --noflush < this-file; hook once: ${family === 4 ? 'iptables' : 'ip6tables'} -I FORWARD -j DNSVAKT`,
    '*filter',
    ':DNSVAKT - [0:0]',
    ...cats.map((c) => `:${chainName(c.name)} - [0:0]`),
  ]
  for (const c of cats) {
    for (const r of family === 4 ? c.v4 : c.v6) lines.push(`-A DNSVAKT -d ${r} -j ${chainName(c.name)}`)
  }
  for (const c of cats) {
    const chain = chainName(c.name)
    for (const r of c.rules.filter((x) => x.family === family)) {
      lines.push(`-A ${chain} -s ${r.source} -m comment --comment "${r.why}" -j ${r.block ? reject : 'RETURN'}`)
    }
    lines.push(`-A ${chain} -m comment --comment "everyone else" -j ${c.otherwiseBlock ? reject : 'RETURN'}`)
  }
  lines.push('COMMIT', '')
  return lines.join('\n')
}
