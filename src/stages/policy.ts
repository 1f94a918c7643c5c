/**
 * Name-based blocking, synchronous: the query name against the categories the
 * client's group enforces. Order of precedence (documented in the README):
 * the allow list, then an exemption valid now, then the group's categories.
 * A blocked name is answered here and never sent upstream.
 */
import type { Query } from '../pipeline/query.js'
import type { AnswerReply, ExemptReason, Next, Reply, Stage } from '../pipeline/types.js'
import { type BlockResponder, withExemption } from '../policy/block-responder.js'
import { hitBit, hitStart } from '../lists/policy-snapshot.js'
import type { DdrDesignation } from '../policy/ddr-designation.js'

/**
 * Names that tell clients about the network itself, answered locally for
 * every client whatever its group:
 * - use-application-dns.net: Firefox's canary. NXDOMAIN turns its automatic
 *   DoH off; any answer (even 0.0.0.0) leaves it on and bypasses the gateway.
 * - _dns.resolver.arpa: RFC 9462 discovery of designated encrypted resolvers.
 *   Forwarding it would hand clients the upstream's DoH server; NODATA says
 *   there is none. With DoT/DoH listeners and tls.serverName, the `ddr`
 *   option answers its SVCB queries instead, designating dnsvakt itself.
 */
const CANARY = 'use-application-dns.net'
const DDR = '_dns.resolver.arpa'

export class PolicyStage implements Stage {
  readonly name = 'policy' as const

  constructor(
    private readonly responder: BlockResponder,
    /** DDR (RFC 9462): when set and active, SVCB answers designating dnsvakt's own DoT/DoH. */
    private readonly ddr?: DdrDesignation,
  ) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    const name = q.name
    const designated = this.ddr !== undefined && name.charCodeAt(0) === 0x5f ? this.ddr.answer(q) : null
    if (designated !== null) return designated
    if (name === CANARY) return this.responder.signal(q, 'nxdomain')
    if (name === DDR) return this.responder.signal(q, 'nodata')
    if (q.enforced === 0) return next(q)
    const snap = q.snapshot
    const blocking = q.enforced & ~q.exemptMask
    const hit = blocking === 0 ? -1 : snap.matchName(name, blocking)
    if (hit >= 0) {
      if (snap.allowed(name)) return next(q)
      return this.responder.reply(q, snap.categoryAt(hitBit(hit)).name, 'name', name.slice(hitStart(hit)))
    }
    if (q.exemptMask === 0) return next(q)
    // Nothing blocks it now; would it have been blocked but for an exemption?
    const lifted = snap.matchName(name, q.exemptMask)
    if (lifted < 0 || snap.allowed(name)) return next(q)
    const reason = exemptionReason(q, snap.categoryAt(hitBit(lifted)).name)
    const r = next(q)
    return r instanceof Promise
      ? r.then((x) => (x.kind === 'answer' ? withExemption(x, reason) : x))
      : r.kind === 'answer'
        ? withExemption(r as AnswerReply, reason)
        : r
  }
}

/** Which exemption lifted `category` for this query's client. */
export function exemptionReason(q: Query, category: string): ExemptReason {
  const e = q.client!.exemptions.find((x) => x.expiresAt > q.arrivedAt && x.categories.includes(category))
  return { categories: [category], exemptionId: e ? e.id : '' }
}
