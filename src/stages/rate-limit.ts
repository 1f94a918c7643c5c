/**
 * Per-client rate limit (token bucket), keyed on the socket's source address
 * cut to a prefix (default /32 for IPv4, /56 for IPv6: an IPv6 client can
 * rotate through its /64 and more, a site gets a /56), never on anything the
 * client writes in the packet. Sits above the cache so a flood of cached
 * names is limited too. Over UDP an over-limit query is dropped (answering
 * would make us an amplifier for spoofed sources); over TCP, where the source
 * is proven, it gets REFUSED.
 *
 * Limits may differ per client group (the acl stage above has classified
 * the client): a VPN concentrator behind NAT is one address for hundreds of
 * users and needs its own, larger bucket. A limit of 0 means unlimited.
 *
 * The bucket store is bounded (`maxTracked`) and evicts the least recently
 * used bucket: a spoofed-source flood can push out idle clients, but the
 * flooder's own bucket, used on every packet, stays (the old store threw
 * the whole table away at 100k clients, the flooder's bucket with it).
 *
 * Per process, shared out: with `workers: N` every worker has its own
 * buckets, and the kernel spreads one client's UDP queries over the workers
 * (they read one shared socket), so each worker enforces 1/N of the rate and
 * of the burst (workerShare). The sum holds the configured limit to within
 * what docs/reliability.md measured; a client whose queries all reach one
 * worker (one TCP connection) gets 1/N of it.
 */
import { emptyReply } from '../dns/build-reply.js'
import { RCODE } from '../dns/constants.js'
import type { Config } from '../config/schema.js'
import type { Next, Reply, Stage } from '../pipeline/types.js'
import type { Query } from '../pipeline/query.js'
import { addressBytes } from '../observability/client-pseudonym.js'

export interface RateLimit {
  /** Tokens per second; 0 = no limit. */
  readonly queriesPerSecond: number
  readonly burst: number
}

export interface RateLimitOptions extends RateLimit {
  /** Limits for some client groups instead of the default one. */
  readonly groups?: Readonly<Record<string, RateLimit>>
  /** Prefix lengths that make one client (default 32 and 56). */
  readonly ipv4Prefix?: number
  readonly ipv6Prefix?: number
  /** Buckets kept at most (default 100,000, ~100 bytes each). */
  readonly maxTracked?: number
  /** At most one onLimited call per client per this many ms (default 60 s). */
  readonly logIntervalMs?: number
  /** A client is being limited: `dropped` queries since the last call (throttled, for the log; `address` is the last one seen in the prefix). */
  readonly onLimited?: (address: string, group: string, dropped: number) => void
  /** A client's bucket went from passing to empty (a metric: limiting episodes). */
  readonly onEpisode?: () => void
  /** The least recently used bucket was evicted to make room (a metric). */
  readonly onEvicted?: () => void
}

interface Bucket {
  tokens: number
  last: number
  /** Limited queries since the last onLimited call. */
  dropped: number
  loggedAt: number
  limited: boolean
}

const DEFAULT_GROUP = 'default'

export class RateLimitStage implements Stage {
  readonly name = 'rate-limit' as const
  private readonly buckets = new Map<string, Bucket>()
  private readonly maxTracked: number
  private readonly v4Prefix: number
  private readonly v6Prefix: number
  private readonly logIntervalMs: number

  constructor(private readonly opts: RateLimitOptions) {
    this.maxTracked = Math.max(1, opts.maxTracked ?? 100_000)
    this.v4Prefix = opts.ipv4Prefix ?? 32
    this.v6Prefix = opts.ipv6Prefix ?? 56
    this.logIntervalMs = opts.logIntervalMs ?? 60_000
  }

  /** True when some client can be limited at all (else the gateway leaves the stage out). */
  static active(opts: RateLimitOptions): boolean {
    return opts.queriesPerSecond > 0 || Object.values(opts.groups ?? {}).some((g) => g.queriesPerSecond > 0)
  }

  /** Buckets held now. */
  get tracked(): number {
    return this.buckets.size
  }

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    const group = q.client?.group ?? DEFAULT_GROUP
    const limit = this.opts.groups?.[group] ?? this.opts
    if (limit.queriesPerSecond <= 0) return next(q)
    const client = clientKey(q.clientAddress, this.v4Prefix, this.v6Prefix)
    if (this.take(client, q.arrivedAt, limit, group, q.clientAddress)) return next(q)
    if (q.transport === 'udp') return { kind: 'drop', source: 'rate-limited' }
    return { kind: 'answer', wire: emptyReply(q, RCODE.REFUSED), source: 'rate-limited' }
  }

  /** Takes one token for `client` at `now` (ms); false when the bucket is empty. */
  take(client: string, now: number, limit: RateLimit = this.opts, group = DEFAULT_GROUP, address = client): boolean {
    let b = this.buckets.get(client)
    if (b === undefined) {
      if (this.buckets.size >= this.maxTracked) this.evictOldest()
      b = { tokens: limit.burst, last: now, dropped: 0, loggedAt: -Infinity, limited: false }
    } else {
      // Re-inserted: the Map's order is then least recently used first.
      this.buckets.delete(client)
      b.tokens = Math.min(limit.burst, b.tokens + (Math.max(0, now - b.last) / 1000) * limit.queriesPerSecond)
      b.last = now
    }
    this.buckets.set(client, b)
    if (b.tokens >= 1) {
      b.tokens -= 1
      b.limited = false
      return true
    }
    this.limited(address, group, b, now)
    return false
  }

  private limited(address: string, group: string, b: Bucket, now: number): void {
    if (!b.limited) this.opts.onEpisode?.()
    b.limited = true
    b.dropped++
    if (now - b.loggedAt < this.logIntervalMs) return
    this.opts.onLimited?.(address, group, b.dropped)
    b.loggedAt = now
    b.dropped = 0
  }

  private evictOldest(): void {
    const oldest = this.buckets.keys().next()
    if (oldest.done === true) return
    this.buckets.delete(oldest.value)
    this.opts.onEvicted?.()
  }
}

/**
 * The bucket key of an address: the address itself at /32 (IPv4) or /128,
 * else the masked prefix as `hex/len`. IPv4-mapped IPv6 counts as IPv4.
 */
export function clientKey(address: string, v4Prefix: number, v6Prefix: number): string {
  if (v4Prefix >= 32 && !address.includes(':')) return address
  const bytes = addressBytes(address)
  if (bytes === undefined) return address
  const prefix = bytes.length === 4 ? v4Prefix : v6Prefix
  if (prefix >= bytes.length * 8) return bytes.length === 4 ? bytes.join('.') : address
  let key = ''
  for (let bit = 0; bit < prefix; bit += 8) {
    const keep = Math.min(8, prefix - bit)
    const byte = bytes[bit >> 3]! & (0xff << (8 - keep)) & 0xff
    key += byte.toString(16).padStart(2, '0')
  }
  return `${bytes.length === 4 ? 'v4' : 'v6'}:${key}/${prefix}`
}

/**
 * One worker's share of the `rateLimit` section when `workers` processes
 * share the sockets: every rate and burst divided by the count (a burst never
 * below one query). 0 (unlimited) stays 0.
 */
export function workerShare(section: Config['rateLimit'], workers: number): Config['rateLimit'] {
  if (workers <= 1) return section
  const share = (l: RateLimit): RateLimit => ({ queriesPerSecond: l.queriesPerSecond / workers, burst: Math.max(1, l.burst / workers) })
  const groups = Object.fromEntries(Object.entries(section.groups).map(([name, l]) => [name, share(l)]))
  return { ...section, ...share(section), groups }
}
