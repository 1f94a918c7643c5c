/**
 * Records each query once, at the listener edge: the query counter and
 * latency, the policy counters, and the decision log for enforcement events.
 * The hot path (a cached or forwarded answer with no decision) costs two
 * metric updates and no log work.
 */
import type { Query } from '../pipeline/query.js'
import type { Reply, ReplySource } from '../pipeline/types.js'
import type { QueryObserver } from '../server/query-handler.js'
import type { Transport } from '../server/transport.js'
import type { Metrics } from './metrics.js'

/** The decision log as the edge sees it (logger.ts implements it). */
export interface DecisionSink {
  /** A blocked answer was sent. */
  blocked(q: Query, reply: Reply): void
  /** An exemption let through something a category would have blocked. */
  exempted(q: Query, reply: Reply): void
  /** Any other answered query; a no-op unless log.queries is on. */
  query(q: Query, reply: Reply): void
  /** Stable per-day pseudonym of the client, for the distinct-clients gauge. */
  pseudonym(address: string): string
  /** An unexpected error in the chain (a bug): logged with its stack. */
  error(q: Query, e: unknown): void
}

export class EdgeObserver implements QueryObserver {
  constructor(
    private readonly metrics: Metrics,
    private readonly decisions: DecisionSink,
  ) {}

  observe(q: Query | null, transport: Transport, source: ReplySource | 'dropped', reply: Reply | null, seconds: number): void {
    this.metrics.countQuery(transport, q === null ? 0 : q.qtype, source, seconds)
    if (q === null || reply === null || reply.kind !== 'answer') return
    if (reply.block !== undefined) {
      this.metrics.countBlocked(reply.block.category, q.group, reply.block.caughtBy, this.decisions.pseudonym(q.clientAddress))
      this.decisions.blocked(q, reply)
    } else if (reply.exempted !== undefined) {
      for (const c of reply.exempted.categories) this.metrics.countExemption(c, q.group)
      this.decisions.exempted(q, reply)
    } else {
      this.decisions.query(q, reply)
    }
  }

  error(q: Query, e: unknown): void {
    this.decisions.error(q, e)
  }
}
