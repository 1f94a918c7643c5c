/**
 * Per-client rate limit (token bucket), keyed on the socket's source address,
 * never on anything the client writes in the packet. Sits above the cache so
 * a flood of cached names is limited too. Over UDP an over-limit query is
 * dropped (answering would make us an amplifier for spoofed sources); over
 * TCP, where the source is proven, it gets REFUSED.
 */
import { emptyReply } from '../dns/build-reply.js'
import { RCODE } from '../dns/constants.js'
import type { Next, Reply, Stage } from '../pipeline/types.js'
import type { Query } from '../pipeline/query.js'

interface Bucket {
  tokens: number
  last: number
}

const MAX_TRACKED_CLIENTS = 100_000

export class RateLimitStage implements Stage {
  readonly name = 'rate-limit' as const
  private buckets = new Map<string, Bucket>()

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    if (this.take(q.clientAddress, q.arrivedAt)) return next(q)
    if (q.transport === 'udp') return { kind: 'drop', source: 'rate-limited' }
    return { kind: 'answer', wire: emptyReply(q, RCODE.REFUSED), source: 'rate-limited' }
  }

  /** Takes one token for `client` at `now` (ms); false when the bucket is empty. */
  take(client: string, now: number): boolean {
    let b = this.buckets.get(client)
    if (b === undefined) {
      // Bounded memory under a spoofed-source flood: forget everyone and start over.
      if (this.buckets.size >= MAX_TRACKED_CLIENTS) this.buckets = new Map()
      b = { tokens: this.burst, last: now }
      this.buckets.set(client, b)
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.last) / 1000) * this.perSecond)
      b.last = now
    }
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }
}
