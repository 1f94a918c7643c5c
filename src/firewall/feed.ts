/**
 * The firewall feed: what DNS cannot stop, for the firewall to stop. From one
 * list snapshot (so the firewall and the DNS answers come from the same
 * reviewed commit, and carry its version): per enforced category its address
 * ranges (the `<category>.cidrs.txt` lists, canonical and disjoint), and who
 * the block applies to, mirroring the DNS policy: active exemptions first,
 * then group networks longest prefix first, then the `default` group (or,
 * without one, every category: fail closed). Renderers (render-*.ts) turn it
 * into nftables, iptables, ipset, plain or JSON.
 */
import type { Config } from '../config/schema.js'
import { parseCidr } from '../lists/ip-ranges.js'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'

/** Who a category's block applies to: the first matching source decides. */
export interface SourceRule {
  /** A client network in canonical CIDR form. */
  readonly source: string
  readonly family: 4 | 6
  readonly block: boolean
  /** For comments: `exemption RA-2026-014 until 2027-03-01` or `group staff-vpn`. */
  readonly why: string
}

export interface FeedCategory {
  readonly name: string
  readonly v4: readonly string[]
  readonly v6: readonly string[]
  readonly rules: readonly SourceRule[]
  /** Clients no rule matches: blocked unless the default group leaves the category out. */
  readonly otherwiseBlock: boolean
}

export interface FirewallFeed {
  /** The list version (git commit or content hash) of the snapshot. */
  readonly version: string
  readonly generatedAt: string
  readonly categories: readonly FeedCategory[]
}

/** Canonical text of a CIDR: host bits cleared, IPv6 compressed (RFC 5952); null if not a CIDR. */
export function canonicalCidr(text: string): { cidr: string; family: 4 | 6; prefix: number } | null {
  const p = parseCidr(text.trim())
  if (p === null) return null
  if (p.family === 4) return { cidr: `${p.bytes.join('.')}/${p.prefix}`, family: 4, prefix: p.prefix }
  const words = Array.from({ length: 8 }, (_, i) => ((p.bytes[i * 2] << 8) | p.bytes[i * 2 + 1]).toString(16))
  return { cidr: `${new URL(`http://[${words.join(':')}]/`).hostname.slice(1, -1)}/${p.prefix}`, family: 6, prefix: p.prefix }
}

/** Categories some group enforces (a config without a `default` group enforces all for unmatched clients). */
export function enforcedCategories(config: Config, snapshot: PolicySnapshot): string[] {
  const groups = Object.values(config.groups)
  const all = snapshot.categories.map((c) => c.name)
  if (!('default' in config.groups)) return all
  return all.filter((c) => groups.some((g) => g.enforce.includes(c)))
}

/** Comment text safe inside nft and iptables quotes (exemption ids come from a list file). */
const safe = (text: string) => text.replace(/[^A-Za-z0-9 ._:\/+-]/g, '_').slice(0, 200)

function sourceRules(config: Config, snapshot: PolicySnapshot, category: string, now: number): SourceRule[] {
  const exempt = snapshot.exemptions
    .filter((e) => e.expiresAt > now && e.categories.includes(category))
    .flatMap((e) => {
      const c = canonicalCidr(e.client)
      return c === null ? [] : [{ source: c.cidr, family: c.family, prefix: c.prefix, block: false, why: safe(`exemption ${e.id} until ${new Date(e.expiresAt).toISOString()}`) }]
    })
  const groups = Object.entries(config.groups).flatMap(([name, g]) =>
    g.networks.flatMap((n) => {
      const c = canonicalCidr(n)
      return c === null ? [] : [{ source: c.cidr, family: c.family, prefix: c.prefix, block: g.enforce.includes(category), why: safe(`group ${name}`) }]
    }),
  )
  // Longest prefix first, as the gateway classifies clients; exemptions before groups.
  const byPrefix = (a: { prefix: number }, b: { prefix: number }) => b.prefix - a.prefix
  return [...exempt.sort(byPrefix), ...groups.sort(byPrefix)].map(({ prefix: _p, ...r }) => r)
}

/** The feed of `snapshot` for `categories` (default: every enforced category with ranges). */
export function buildFeed(config: Config, snapshot: PolicySnapshot, now: number, only?: readonly string[]): FirewallFeed {
  const wanted = only ?? enforcedCategories(config, snapshot)
  const categories = snapshot.categories
    .filter((c) => wanted.includes(c.name) && c.cidrs.size > 0)
    .map((c): FeedCategory => {
      const ranges = c.cidrs.toCidrs().flatMap((t) => canonicalCidr(t) ?? [])
      const fallback = config.groups.default
      return {
        name: c.name,
        v4: ranges.filter((r) => r.family === 4).map((r) => r.cidr),
        v6: ranges.filter((r) => r.family === 6).map((r) => r.cidr),
        rules: sourceRules(config, snapshot, c.name, now),
        otherwiseBlock: fallback === undefined || fallback.enforce.includes(c.name),
      }
    })
  return { version: snapshot.version, generatedAt: new Date(now).toISOString(), categories }
}
