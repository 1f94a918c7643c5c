/**
 * Who is asking: whether the client may use us at all (access.allow, for the
 * acl stage), and its group (the longest matching network across all
 * groups, else "default") with the exemptions whose network holds it (for
 * the client-group stage). Each is worked out once per client address (and
 * snapshot, for the group) and then cached, so the hot path pays one Map
 * lookup per query.
 */
import { BlockList, isIPv4 } from 'node:net'
import { addNetwork } from '../net/network-list.js'
import type { ClientInfo } from '../pipeline/client-info.js'
import type { ListedExemption, PolicyView } from '../pipeline/policy-view.js'

export interface GroupConfig {
  readonly networks: readonly string[]
  readonly enforce: readonly string[]
  /** Categories evaluated as would-block only (see policy/shadow.ts). */
  readonly shadow?: readonly string[]
}

/** A client's group and exemptions, as listed in the snapshot (explain reads their reasons). */
export interface ClientClassification extends ClientInfo {
  readonly exemptions: readonly ListedExemption[]
}

/** Plenty for a municipality's clients; past it the cache starts over rather than grow. */
const MAX_CACHED_CLIENTS = 100_000
const NO_EXEMPTIONS: readonly ListedExemption[] = []

/** What is known of one client address: its access, and its group for the snapshot it was last classified in. */
interface ClientRecord {
  readonly allowed: boolean
  info: ClientClassification | null
}

export class ClientClassifier {
  private readonly allow = new BlockList()
  /** Longest prefix first, so the first hit is the most specific. */
  private readonly networks: Array<{ prefix: number; list: BlockList; group: string }> = []
  private records = new Map<string, ClientRecord>()
  /**
   * The last record looked up: acl and client-group ask about the same address
   * one after the other, so the second lookup is an identity compare, not a
   * second Map lookup (measured: ~250 instructions per query).
   */
  private lastAddress = ''
  private lastRecord: ClientRecord | null = null
  /** The snapshot the records' groups were worked out in; a new one starts the records over (nothing keeps an old snapshot alive). */
  private classifiedIn: PolicyView | null = null

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

  /** Whether access.allow holds the client (it does not depend on the lists). */
  allows(address: string): boolean {
    return this.record(address).allowed
  }

  /** The client's group, the categories it enforces in `snapshot` and the exemptions that hold it. */
  classify(address: string, snapshot: PolicyView): ClientClassification {
    if (snapshot !== this.classifiedIn) {
      this.forget()
      this.classifiedIn = snapshot
    }
    const r = this.record(address)
    if (r.info === null) r.info = this.compute(address, snapshot)
    return r.info
  }

  private forget(): void {
    this.records = new Map()
    this.lastAddress = ''
    this.lastRecord = null
  }

  private record(address: string): ClientRecord {
    if (address === this.lastAddress && this.lastRecord !== null) return this.lastRecord
    let r = this.records.get(address)
    if (r === undefined) {
      if (this.records.size >= MAX_CACHED_CLIENTS) this.records = new Map()
      const plain = unmapV4(address)
      r = { allowed: this.allow.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6'), info: null }
      this.records.set(address, r)
    }
    this.lastAddress = address
    this.lastRecord = r
    return r
  }

  private compute(raw: string, snapshot: PolicyView): ClientClassification {
    const address = unmapV4(raw)
    const family = isIPv4(address) ? 'ipv4' : 'ipv6'
    const hit = this.networks.find((n) => n.list.check(address, family))
    const group = hit ? hit.group : 'default'
    // No "default" group configured: unmatched clients get every category (fail closed).
    const enforce = this.groups[group]?.enforce ?? snapshot.categories.map((c) => c.name)
    const shadow = this.groups[group]?.shadow ?? []
    const exemptions = snapshot.exemptions.filter((e) => e.network.check(address, family))
    const enforced = snapshot.maskOf(enforce)
    return {
      group,
      enforced,
      shadow: shadow.length === 0 ? 0 : snapshot.maskOf(shadow) & ~enforced,
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
