/**
 * Bypass telemetry: how often, per group, devices tried a way around the
 * gateway, and how many distinct devices did so today. Kinds:
 * - firefox-canary: the `use-application-dns.net` check (every Firefox with
 *   automatic DoH asks it; our NXDOMAIN keeps DoH off);
 * - ddr-other-resolver: an SVCB query for `_dns.<name>` of another resolver
 *   (RFC 9461/9462 discovery of someone else's encrypted DNS);
 * - doh-provider: a name of the `doh-bypass` category was blocked;
 * - icloud-relay: an iCloud Private Relay name was blocked.
 * Metrics only ever carry group and kind, never the client; the distinct
 * count (every kind but the canary, which every Firefox asks by itself) uses
 * the same daily pseudonyms as dnsvakt_policy_blocked_clients_today.
 * Cost on the hot path: two integer tests for an ordinary answer.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { TYPE } from '../dns/constants.js'
import type { Query } from '../pipeline/query.js'
import type { Reply } from '../pipeline/types.js'
import { localDay, type LocalDay } from './client-pseudonym.js'
import type { NewClientsFeed } from './new-clients-feed.js'

export const BYPASS_KINDS = ['firefox-canary', 'ddr-other-resolver', 'doh-provider', 'icloud-relay'] as const
export type BypassKind = (typeof BYPASS_KINDS)[number]

const CANARY = 'use-application-dns.net'
const RELAY = ['mask.icloud.com', 'mask-h2.icloud.com', 'mask-canary.icloud.com', 'mask-api.icloud.com']
const RELAY_PARENT = '.icloud.com'
const DDR_OTHER = /^(?:_\d+\.)?_dns\.(.+)$/
const OTHER = 'other'
export const BYPASS_CLIENTS_TODAY = 'dnsvakt_policy_bypass_clients_today'
export const BYPASS_CLIENTS_TODAY_HELP = 'Distinct clients per group that attempted a bypass (other than the Firefox canary) since local midnight (capped per series).'

export interface BypassOptions {
  readonly groups: readonly string[]
  /** `_dns.<tls.serverName>`: discovery of dnsvakt itself, not a bypass. */
  readonly ownDdrName?: string | null
  readonly now?: () => number
  /** Pseudonyms kept per group per day at most (memory bound; the gauge then reads "at least"). */
  readonly distinctCap?: number
  /** Where a pseudonym new to a group today is announced (a cluster worker passes it to the primary: clients-today.ts). */
  readonly newClients?: NewClientsFeed
}

const under = (name: string, suffix: string) => name === suffix || (name.endsWith(suffix) && name.charCodeAt(name.length - suffix.length - 1) === 0x2e)

/** The bypass kind of an answered query, or null for an ordinary one. */
export function bypassKind(q: Query, reply: Reply, ownDdrName: string | null): BypassKind | null {
  // No group yet: refused by the access list (or rate-limited) before classification.
  if (reply.kind !== 'answer' || q.group === '') return null
  if (q.qtype === TYPE.SVCB && q.name.charCodeAt(0) === 0x5f) {
    const m = DDR_OTHER.exec(q.name)
    if (m !== null && m[1] !== 'resolver.arpa' && q.name !== ownDdrName) return 'ddr-other-resolver'
  }
  const block = reply.block
  if (block === undefined) return null
  if (block.category === 'builtin') return q.name === CANARY ? 'firefox-canary' : null
  // One endsWith first: every blocked answer passes here, few are iCloud's.
  if (q.name.endsWith(RELAY_PARENT) && RELAY.some((r) => under(q.name, r))) return 'icloud-relay'
  return block.category === 'doh-bypass' ? 'doh-provider' : null
}

export class BypassTelemetry {
  private readonly attempts: Counter<'group' | 'kind'>
  private readonly clients = new Map<string, Set<string>>()
  private readonly groups = new Set<string>()
  private readonly now: () => number
  private readonly cap: number
  private readonly ownDdrName: string | null
  private readonly newClients: NewClientsFeed | undefined
  private day: LocalDay

  constructor(registry: Registry, opts: BypassOptions) {
    this.now = opts.now ?? Date.now
    this.cap = opts.distinctCap ?? 100_000
    this.ownDdrName = opts.ownDdrName ?? null
    this.newClients = opts.newClients
    this.day = localDay(this.now())
    this.attempts = new Counter({ name: 'dnsvakt_policy_bypass_attempts_total', help: 'Attempts to get around the gateway, by client group and kind (no client label).', labelNames: ['group', 'kind'], registers: [registry] })
    const self = this
    new Gauge({
      name: BYPASS_CLIENTS_TODAY, help: BYPASS_CLIENTS_TODAY_HELP,
      labelNames: ['group'], registers: [registry], aggregator: 'max',
      collect() {
        self.rollover()
        for (const g of self.groups) this.set({ group: g }, self.clients.get(g)?.size ?? 0)
      },
    })
    this.setGroups(opts.groups)
  }

  /** New groups (a config change) get their own zeroed series. */
  setGroups(groups: readonly string[]): void {
    for (const group of [...groups, OTHER]) {
      if (this.groups.has(group)) continue
      this.groups.add(group)
      for (const kind of BYPASS_KINDS) this.attempts.inc({ group, kind }, 0)
    }
  }

  /** Called once per answered query at the edge; the pseudonym is worked out only for a bypass. */
  observe(q: Query, reply: Reply, pseudonyms: { pseudonymForCounting(address: string): string }): void {
    const kind = bypassKind(q, reply, this.ownDdrName)
    if (kind === null) return
    const group = this.groups.has(q.group) ? q.group : OTHER
    this.attempts.inc({ group, kind })
    // Every Firefox asks the canary by itself: counted above, but not a device trying to get around.
    if (kind === 'firefox-canary') return
    this.rollover()
    let set = this.clients.get(group)
    if (set === undefined) this.clients.set(group, (set = new Set()))
    const size = set.size
    if (size >= this.cap) return
    const pseudonym = pseudonyms.pseudonymForCounting(q.clientAddress)
    if (set.add(pseudonym).size > size) this.newClients?.emit(BYPASS_CLIENTS_TODAY, [group], pseudonym, this.day.start)
  }

  private rollover(): void {
    const t = this.now()
    if (t >= this.day.start && t < this.day.end) return
    this.day = localDay(t)
    this.clients.clear()
  }
}
