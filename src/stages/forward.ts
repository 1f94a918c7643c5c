/**
 * The terminal stage and the only one that waits: sends the question to the
 * upstreams (the most specific conditional-forwarding zone first, else the
 * default pool) and turns what comes back into a reply. An upstream failure
 * becomes SERVFAIL (the cache stage above may still serve stale). The pool
 * reports through a callback; this stage makes the one promise of a miss.
 */
import { emptyReply, makeEde, writeOpt } from '../dns/build-reply.js'
import { EDE, FLAG, RCODE, TYPE } from '../dns/constants.js'
import { readAnswer } from '../dns/read-answer.js'
import { CacheEntry, renderEntry } from '../cache/cache-entry.js'
import type { Query } from '../pipeline/query.js'
import type { Next, Reply, Stage } from '../pipeline/types.js'

/** What the forward stage needs from an upstream pool (UpstreamPool.query): `done` called once. */
export interface Exchanger {
  query(query: Buffer, done: (error: Error | null, result: { readonly wire: Buffer } | null) => void): void
}

export interface ZoneRoute {
  /** Lower-case zone without trailing dot. */
  readonly zone: string
  readonly pool: Exchanger
}

const NO_REACHABLE = makeEde(EDE.NO_REACHABLE_AUTHORITY)

export class ForwardStage implements Stage {
  readonly name = 'forward' as const
  /** Longest zone first, so the first match is the most specific. */
  private readonly zones: Array<{ zone: string; dotted: string; pool: Exchanger }>

  constructor(
    private readonly pool: Exchanger,
    zones: readonly ZoneRoute[],
    private readonly now: () => number,
    private readonly onError?: (q: Query, error: unknown) => void,
  ) {
    this.zones = zones
      .map((z) => ({ zone: z.zone, dotted: `.${z.zone}`, pool: z.pool }))
      .sort((a, b) => b.zone.length - a.zone.length)
  }

  handle(q: Query, _next: Next): Reply | Promise<Reply> {
    // Zone transfers are not a resolver's business (Unbound answers the same).
    if (q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR) {
      return { kind: 'answer', wire: emptyReply(q, RCODE.REFUSED), source: 'refused' }
    }
    return new Promise((resolve) => this.poolFor(q.name).query(upstreamQuery(q), (error, result) => resolve(this.reply(q, error, result))))
  }

  private reply(q: Query, error: Error | null, result: { readonly wire: Buffer } | null): Reply {
    try {
      if (error !== null) throw error
      const answer = readAnswer(result!.wire)
      if (answer.rcode === RCODE.SERVFAIL) return servfail(q)
      const now = this.now()
      const entry = new CacheEntry(answer, now, now, now)
      return { kind: 'answer', wire: renderEntry(entry, q, now), source: 'forwarded', answer }
    } catch (e) {
      this.onError?.(q, e)
      return servfail(q)
    }
  }

  private poolFor(name: string): Exchanger {
    for (const z of this.zones) {
      if (name === z.zone || name.endsWith(z.dotted)) return z.pool
    }
    return this.pool
  }
}

const servfail = (q: Query): Reply => ({ kind: 'answer', wire: emptyReply(q, RCODE.SERVFAIL, NO_REACHABLE), source: 'servfail' })

/**
 * The question as the client wrote it (its letter case), RD set, CD passed
 * on, and always an OPT (our buffer size, the client's DO bit), so large
 * answers come back over UDP when they can. The pool sets the ID.
 */
export function upstreamQuery(q: Query): Buffer {
  const out = Buffer.allocUnsafe(q.questionEnd + 11)
  q.wire.copy(out, 0, 0, q.questionEnd)
  out.writeUInt16BE(0, 0)
  out.writeUInt16BE(FLAG.RD | (q.checkingDisabled ? FLAG.CD : 0), 2)
  out.writeUInt16BE(1, 4)
  out.writeUInt32BE(0, 6)
  out.writeUInt16BE(1, 10)
  writeOpt(out, q.questionEnd, 0, q.dnssecOk)
  return out
}
