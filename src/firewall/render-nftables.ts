/**
 * The feed as an nftables script (`nft -f`), atomic and idempotent: the
 * `inet dnsvakt` table is created, deleted and rebuilt in one transaction.
 * Per category two interval sets (`<category>_v4`, `_v6`) and a check chain
 * that applies the DNS policy's who-is-blocked rules (exemptions, groups by
 * longest prefix, the default group). The forward hook sends traffic to a
 * category's addresses into its check chain, which rejects it (ICMP
 * administratively prohibited, so apps fail fast) or lets it through. A drop
 * in this table is final whatever other tables accept.
 */
import type { FeedCategory, FirewallFeed } from './feed.js'

const ident = (category: string) => category.replace(/-/g, '_')

function set(name: string, type: 'ipv4_addr' | 'ipv6_addr', elements: readonly string[]): string[] {
  const body = elements.length === 0 ? [] : [`\t\telements = {\n${elements.map((e) => `\t\t\t${e},`).join('\n')}\n\t\t}`]
  return [`\tset ${name} {`, `\t\ttype ${type}`, '\t\tflags interval', ...body, '\t}']
}

function checkChain(c: FeedCategory): string[] {
  const verdict = (block: boolean) => (block ? 'counter reject with icmpx admin-prohibited' : 'return')
  const rules = c.rules.map((r) => `\t\t${r.family === 4 ? 'ip' : 'ip6'} saddr ${r.source} ${verdict(r.block)} comment "${r.why}"`)
  return [`\tchain check_${ident(c.name)} {`, ...rules, `\t\t${verdict(c.otherwiseBlock)} comment "everyone else"`, '\t}']
}

export function renderNftables(feed: FirewallFeed): string {
  const lines = [
    '#!/usr/sbin/nft -f',
    `# dnsvakt firewall feed, list version ${feed.version}, generated ${feed.generatedAt}`,
    `# categories: ${feed.categories.map((c) => `${c.name} (${c.v4.length} IPv4, ${c.v6.length} IPv6)`).join(', ') || 'none with address ranges'}`,
    '# Apply: nft -f this-file (replaces the whole inet dnsvakt table atomically).',
    'table inet dnsvakt',
    'delete table inet dnsvakt',
    'table inet dnsvakt {',
  ]
  for (const c of feed.categories) lines.push(...set(`${ident(c.name)}_v4`, 'ipv4_addr', c.v4), ...set(`${ident(c.name)}_v6`, 'ipv6_addr', c.v6), ...checkChain(c))
  lines.push('\tchain forward {', '\t\ttype filter hook forward priority filter; policy accept;')
  for (const c of feed.categories) {
    if (c.v4.length > 0) lines.push(`\t\tip daddr @${ident(c.name)}_v4 jump check_${ident(c.name)}`)
    if (c.v6.length > 0) lines.push(`\t\tip6 daddr @${ident(c.name)}_v6 jump check_${ident(c.name)}`)
  }
  lines.push('\t}', '}', '')
  return lines.join('\n')
}
