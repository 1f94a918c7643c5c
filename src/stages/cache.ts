/**
 * The cache stage: a fresh cached answer is served synchronously (no promise);
 * a miss goes down to the forward stage, with identical concurrent misses
 * sharing one upstream exchange (one promise per miss, one more per waiter); when the upstream fails, an expired entry
 * still inside its stale window is served with a short TTL and EDE 3
 * "Stale Answer" (RFC 8767). Only upstream answers are stored: the stages
 * above (policy, inspection) never reach it with a sinkhole answer.
 */
import { type AnswerCache, cacheKey } from '../cache/answer-cache.js'
import { type CacheEntry, renderEntry } from '../cache/cache-entry.js'
import { emptyReply, makeEde } from '../dns/build-reply.js'
import { EDE, RCODE } from '../dns/constants.js'
import type { Query } from '../pipeline/query.js'
import type { AnswerReply, Next, Reply, Stage } from '../pipeline/types.js'

export interface CacheStageOptions {
  readonly serveStale: boolean
  /** TTL written into stale answers, seconds (RFC 8767 suggests 30). */
  readonly staleAnswerTtl: number
  readonly now: () => number
  readonly onHit?: () => void
  readonly onMiss?: () => void
  readonly onStale?: () => void
}

const STALE = makeEde(EDE.STALE_ANSWER)
const NO_REACHABLE = makeEde(EDE.NO_REACHABLE_AUTHORITY)

export class CacheStage implements Stage {
  readonly name = 'cache' as const
  /** One upstream exchange per key; its waiters render the stored entry (or the reply) for themselves. */
  private readonly inflight = new Map<string, Flight>()

  constructor(
    private readonly cache: AnswerCache,
    private readonly opts: CacheStageOptions,
  ) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    const key = cacheKey(q)
    const now = this.opts.now()
    const hit = this.cache.get(key, now)
    if (hit !== undefined && now < hit.expiresAt) {
      this.opts.onHit?.()
      return { kind: 'answer', wire: renderEntry(hit, q, now), source: 'cached', answer: hit.answer }
    }
    this.opts.onMiss?.()
    const shared = this.inflight.get(key)
    if (shared !== undefined) return shared.reply.then((r) => this.answerFor(q, key, r, shared.entry))
    const down = next(q)
    if (!(down instanceof Promise)) return this.settle(q, key, down, undefined)
    const flight = new Flight()
    flight.reply = down.then((r) => this.settle(q, key, r, flight), (e: unknown) => this.abandon(key, e))
    this.inflight.set(key, flight)
    return flight.reply
  }

  /**
   * The answer from below, for the query that went down: stored when it may
   * be cached. The forward stage rendered it for this query already; only
   * when the cache clamped a TTL is it rendered again. Queries that waited on
   * the same key render their own from the entry left on `flight` (answerFor).
   */
  private settle(q: Query, key: string, r: Reply, flight: Flight | undefined): Reply {
    if (flight !== undefined) this.inflight.delete(key)
    if (r.kind !== 'answer' || r.answer === undefined) return this.answerFor(q, key, r, undefined)
    const now = this.opts.now()
    const { entry, clamped } = this.cache.store(key, r.answer, now)
    if (flight !== undefined) flight.entry = entry
    return { kind: 'answer', wire: clamped ? renderEntry(entry, q, now) : r.wire, source: r.source, answer: r.answer }
  }

  private abandon(key: string, e: unknown): never {
    this.inflight.delete(key)
    throw e
  }

  /** The shared result, rendered for this query (its own ID, question case and EDNS). */
  private answerFor(q: Query, key: string, r: Reply, entry: CacheEntry | undefined): Reply {
    const now = this.opts.now()
    if (r.kind === 'answer' && entry !== undefined) return rendered(r, entry, q, now)
    if (r.source === 'servfail' && this.opts.serveStale) {
      const stale = this.cache.get(key, now)
      if (stale !== undefined) {
        this.opts.onStale?.()
        return { kind: 'answer', wire: renderEntry(stale, q, now, this.opts.staleAnswerTtl, STALE), source: 'stale', answer: stale.answer }
      }
    }
    if (r.kind === 'drop') return r
    // No answer records: re-make it for this query, which may be a coalesced waiter with its own ID.
    const rcode = r.wire.readUInt16BE(2) & 0xf
    return { kind: 'answer', wire: emptyReply(q, rcode, rcode === RCODE.SERVFAIL ? NO_REACHABLE : undefined), source: r.source }
  }
}

function rendered(r: AnswerReply, entry: CacheEntry, q: Query, now: number): AnswerReply {
  return { kind: 'answer', wire: renderEntry(entry, q, now), source: r.source, answer: entry.answer }
}

/** A coalesced miss on its way down: the reply for the query that went down, and the entry made from its answer once it settles. */
class Flight {
  reply!: Promise<Reply>
  entry: CacheEntry | undefined = undefined
}
