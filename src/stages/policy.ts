/**
 * Name-based blocking, synchronous: the query name against the categories the
 * client's group enforces, decided by policy/decide.ts (the built-in names,
 * then the allow list, an exemption valid now, the group's categories; the
 * same decision explain reports). A blocked name is answered here and never
 * sent upstream. With DoT/DoH serving and tls.serverName set, the `ddr`
 * designation answers the DDR SVCB queries first (RFC 9462; explain reports
 * it through the same designatedName() of decide.ts). A name a shadow
 * category of the group lists is marked on the query (policy/shadow.ts) and
 * goes on as usual.
 */
import type { Query } from '../pipeline/query.js'
import { hitBit, hitStart } from '../pipeline/policy-view.js'
import type { Next, Reply, Stage } from '../pipeline/types.js'
import type { BlockResponder } from '../policy/block-responder.js'
import { BLOCKED, builtinMode, categoriesListing, decide, decisionHit, decisionKind, EXEMPTED, PASS, ALLOW_LISTED } from '../policy/decide.js'
import { exemptionEnds, exemptionReason, withExemption } from '../policy/exemption-reply.js'
import type { DdrDesignation } from '../policy/ddr-designation.js'
import { markNameWouldBlock } from '../policy/shadow.js'

export class PolicyStage implements Stage {
  readonly name = 'policy' as const

  constructor(
    private readonly responder: BlockResponder,
    /** DDR (RFC 9462): when set and active, SVCB answers designating dnsvakt's own DoT/DoH. */
    private readonly ddr?: DdrDesignation,
  ) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    // One character test for every ordinary name: only `_dns.` names can be designation queries.
    const designated = this.ddr !== undefined && q.name.charCodeAt(0) === 0x5f ? this.ddr.answer(q) : null
    if (designated !== null) return designated
    const d = decide(q.snapshot, q.name, q.enforced, q.exemptMask)
    const kind = decisionKind(d)
    // Shadow categories (policy/shadow.ts): a field test for groups without them.
    if (q.shadow !== 0 && kind !== BLOCKED) markNameWouldBlock(q)
    if (kind === PASS || kind === ALLOW_LISTED) return next(q)
    if (kind === BLOCKED) {
      const hit = decisionHit(d)
      const category = q.snapshot.categoryAt(hitBit(hit))
      return this.responder.reply(q, category.name, 'name', category.domains.entryAt(q.name, hitStart(hit)))
    }
    if (kind === EXEMPTED) return this.exempted(q, decisionHit(d), next)
    return this.responder.signal(q, builtinMode(kind))
  }

  /** Forwarded, marked with the exemption that let it through, TTLs ending with it. */
  private exempted(q: Query, hit: number, next: Next): Reply | Promise<Reply> {
    const view = q.snapshot
    const reason = exemptionReason(q.client!, view.categoryAt(hitBit(hit)).name, q.arrivedAt)
    const endsAt = exemptionEnds(view, q.client!, categoriesListing(view, q.name, q.exemptMask), q.arrivedAt)
    const r = next(q)
    return r instanceof Promise
      ? r.then((x) => withExemption(x, reason, endsAt, q.arrivedAt))
      : withExemption(r, reason, endsAt, q.arrivedAt)
  }
}
