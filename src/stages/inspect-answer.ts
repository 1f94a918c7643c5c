/**
 * Answer inspection: an upstream answer that leads to a blocked name (CNAME,
 * DNAME, SVCB/HTTPS target) or holds an address in a blocked category's IP
 * ranges (A/AAAA, SVCB/HTTPS hints, the additional section, IPv4 embedded in
 * IPv6) is replaced by the block answer for this client. It sits above the
 * cache, so cached answers are checked per client on every hit (the cache is
 * shared by all groups). What an answer contains is worked out once per
 * answer and snapshot (policy/answer-inspection.ts); a hit then costs a mask test.
 * Shadow categories are checked from the same memo and only marked on the
 * query (policy/shadow.ts): the answer stays as it is.
 */
import { EmbeddedIpv4 } from '../net/embedded-ipv4.js'
import type { Query } from '../pipeline/query.js'
import type { Next, Reply, Stage } from '../pipeline/types.js'
import { inspectAnswer } from '../policy/answer-inspection.js'
import type { BlockResponder } from '../policy/block-responder.js'
import { exemptionEnds, exemptionReason, withExemption } from '../policy/exemption-reply.js'
import { markAnswerWouldBlock } from '../policy/shadow.js'

export class InspectAnswerStage implements Stage {
  readonly name = 'inspect-answer' as const

  constructor(
    private readonly responder: BlockResponder,
    /** Where IPv6 answers may carry an IPv4 address (NAT64 prefixes from blocking.nat64Prefixes, 6to4). */
    private readonly embedded = new EmbeddedIpv4(),
  ) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    const r = next(q)
    if ((q.enforced | q.shadow) === 0) return r
    return r instanceof Promise ? r.then((x) => this.inspect(q, x)) : this.inspect(q, r)
  }

  private inspect(q: Query, r: Reply): Reply {
    if (r.kind !== 'answer' || r.answer === undefined) return r
    const view = q.snapshot
    const memo = inspectAnswer(r.answer, view, this.embedded)
    const hits = memo.mask & q.enforced
    // Shadow categories (policy/shadow.ts): marked only when the answer is not blocked; a mask test without them.
    if (hits === 0 || view.allowed(q.name)) {
      if ((memo.mask & q.shadow) !== 0) markAnswerWouldBlock(q, memo)
      return r
    }
    const blocking = hits & ~q.exemptMask
    if (blocking === 0) {
      if ((memo.mask & q.shadow) !== 0) markAnswerWouldBlock(q, memo)
      const bit = 31 - Math.clz32(hits & -hits)
      const reason = exemptionReason(q.client!, view.categoryAt(bit).name, q.arrivedAt)
      return withExemption(r, reason, exemptionEnds(view, q.client!, hits, q.arrivedAt), q.arrivedAt)
    }
    const bit = 31 - Math.clz32(blocking & -blocking)
    const hit = memo.hits[bit]!
    return this.responder.reply(q, view.categoryAt(bit).name, hit.caughtBy, hit.entry)
  }
}
