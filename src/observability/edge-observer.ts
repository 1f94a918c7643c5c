/**
 * Records each query once, at the listener edge: the query counter and
 * latency, the policy counters, and the decision log for enforcement events
 * (and what a shadow category would have blocked).
 * The hot path (a cached or forwarded answer with no decision) costs two
 * metric updates and one flag test for the query log.
 */
import type { Logger } from 'pino'
import type { Query } from '../pipeline/query.js'
import type { BlockReason, Reply, ReplySource } from '../pipeline/types.js'
import type { QueryObserver } from '../server/query-handler.js'
import type { Transport } from '../pipeline/transport.js'
import type { ClientPseudonymizer } from './client-pseudonym.js'
import type { DecisionLog } from './logger.js'
import { qtypeLabel, type Metrics } from './metrics.js'
import type { BypassTelemetry } from './bypass-telemetry.js'

export class EdgeObserver implements QueryObserver {
  constructor(
    private readonly metrics: Metrics,
    private readonly decisions: DecisionLog,
    private readonly pseudonyms: ClientPseudonymizer,
    private readonly listVersion: () => string,
    private readonly log: Logger,
    private readonly bypass?: BypassTelemetry,
  ) {}

  observe(q: Query | null, transport: Transport, source: ReplySource | 'dropped', reply: Reply | null, seconds: number): void {
    this.metrics.countQuery(transport, q === null ? 0 : q.qtype, source, seconds)
    if (q === null || reply === null || reply.kind !== 'answer') return
    this.bypass?.observe(q, reply, this.pseudonyms)
    if (q.wouldBlock !== null && reply.block === undefined) this.wouldBlock(q, q.wouldBlock)
    if (reply.block !== undefined) {
      // The query's arrival time stands in for two clock reads (same clock, microseconds apart).
      const at = q.arrivedAt
      this.metrics.countBlocked(reply.block.category, q.group, reply.block.caughtBy, this.pseudonyms.pseudonymForCounting(q.clientAddress, at), at)
      this.decisions.logBlocked(q, reply.block, this.listVersion())
    } else if (reply.exempted !== undefined) {
      for (const c of reply.exempted.categories) this.metrics.countExemption(c, q.group)
      this.decisions.logExempted(q, reply.exempted, this.listVersion())
    } else if (this.decisions.queriesEnabled) {
      this.decisions.logQuery(q, source, seconds)
    }
  }

  /** What a shadow category would have blocked (policy/shadow.ts): counted and logged, never a client label. */
  private wouldBlock(q: Query, block: BlockReason): void {
    this.metrics.countWouldBlock(block.category, q.group, block.caughtBy)
    this.decisions.logWouldBlock(q, block, this.listVersion())
  }

  /** An unexpected error in the chain (a bug): logged with its stack; the client got SERVFAIL. */
  error(q: Query, e: unknown): void {
    this.log.error({ event: 'internal-error', qtype: qtypeLabel(q.qtype), transport: q.transport, err: e }, 'a stage failed; answered SERVFAIL')
  }
}
