/**
 * Who is asking: whether the client may use us at all (access.allow), its
 * group (the longest matching network across all groups, else "default"),
 * and the exemptions whose network holds it. Worked out once per client
 * address and snapshot, then cached, so the hot path pays one Map lookup.
 */
import { BlockList, isIPv4 } from 'node:net'
import type { Exemption } from '../lists/exemptions.js'
import { addNetwork } from './network-list.js'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'

export interface GroupConfig {
  readonly networks: readonly string[]
  readonly enforce: readonly string[]
}

export interface ClientInfo {
  readonly allowed: boolean
  readonly group: string
  /** Categories the group enforces, as a mask over the snapshot's bits. */
  readonly enforced: number
  /** Exemptions whose network holds this client (expiry is checked per query). */
  readonly exemptions: readonly Exemption[]
}

/** Plenty for a municipality's clients; past it the cache starts over rather than grow. */
const MAX_CACHED_CLIENTS = 100_000
const NO_EXEMPTIONS: readonly Exemption[] = []

export class ClientClassifier {
  private readonly allow = new BlockList()
  /** Longest prefix first, so the first hit is the most specific. */
  private readonly networks: Array<{ prefix: number; list: BlockList; group: string }> = []
  private cache = new Map<string, ClientInfo>()
  private cachedFor: PolicySnapshot | null = null

  constructor(allow: readonly string[], private readonly groups: Readonly<Record<string, GroupConfig>>) {
    for (const cidr of allow) addCidr(this.allow, cidr)
    for (const [group, g] of Object.entries(groups)) {
      for (const cidr of g.networks) {
        const list = new BlockList()
        const prefix = addCidr(list, cidr)
        this.networks.push({ prefix, list, group })
      }
    }
    this.networks.sort((a, b) => b.prefix - a.prefix)
  }

  classify(address: string, snapshot: PolicySnapshot): ClientInfo {
    if (snapshot !== this.cachedFor || this.cache.size >= MAX_CACHED_CLIENTS) {
      this.cache = new Map()
      this.cachedFor = snapshot
    }
    let info = this.cache.get(address)
    if (info === undefined) {
      info = this.compute(address, snapshot)
      this.cache.set(address, info)
    }
    return info
  }

  private compute(raw: string, snapshot: PolicySnapshot): ClientInfo {
    const address = unmapV4(raw)
    const family = isIPv4(address) ? 'ipv4' : 'ipv6'
    const allowed = this.allow.check(address, family)
    const hit = this.networks.find((n) => n.list.check(address, family))
    const group = hit ? hit.group : 'default'
    // No "default" group configured: unmatched clients get every category (fail closed).
    const enforce = this.groups[group]?.enforce ?? snapshot.categories.map((c) => c.name)
    const exemptions = snapshot.exemptions.filter((e) => e.network.check(address, family))
    return {
      allowed,
      group,
      enforced: snapshot.maskOf(enforce),
      exemptions: exemptions.length > 0 ? exemptions : NO_EXEMPTIONS,
    }
  }
}

/** A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; networks are written as plain IPv4. */
export const unmapV4 = (address: string): string =>
  address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address

/** Config networks were validated by the schema; an invalid one here is a programming error. */
function addCidr(list: BlockList, cidr: string): number {
  const prefix = addNetwork(list, cidr)
  if (prefix < 0) throw new Error(`invalid network "${cidr}" reached the classifier`)
  return prefix
}
