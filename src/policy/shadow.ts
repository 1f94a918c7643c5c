/**
 * Shadow categories: a group may list categories as `shadow` beside
 * `enforce` (config groups.<name>.shadow). A shadow category is decided
 * exactly as an enforced one (the query name through decide(), CNAME chains
 * and answer addresses through the answer's inspection memo, the allow list,
 * the client's exemptions valid at arrival), but the client gets the normal
 * answer: what it would have blocked is put on the query (Query.wouldBlock),
 * and the listener edge counts it (dnsvakt_policy_would_block_total) and logs
 * it (event "would-block"). Only a name the client's answer does not already
 * block counts: enforcing the category would change nothing for the rest.
 *
 * The stages call in here only when Query.shadow is not 0, so groups without
 * shadow categories pay one field test per stage (docs/benchmarks.md).
 */
import { hitBit, hitStart } from '../pipeline/policy-view.js'
import type { Query } from '../pipeline/query.js'
import type { InspectionMemo } from '../pipeline/upstream-answer.js'
import { BLOCKED, decide, decisionHit, decisionKind, exemptMaskAt } from './decide.js'

/** Sets q.wouldBlock when a shadow category of the client's group lists the query name (policy stage). */
export function markNameWouldBlock(q: Query): void {
  const view = q.snapshot
  // Most names are in no shadow category: one walk decides that before the exemptions are looked at.
  if (view.matchName(q.name, q.shadow) < 0) return
  const d = decide(view, q.name, q.shadow, exemptMaskAt(view, q.client!, q.arrivedAt, q.shadow))
  if (decisionKind(d) !== BLOCKED) return
  const hit = decisionHit(d)
  const category = view.categoryAt(hitBit(hit))
  q.wouldBlock = { category: category.name, caughtBy: 'name', entry: category.domains.entryAt(q.name, hitStart(hit)) }
}

/**
 * Sets q.wouldBlock when the answer leads to a name or holds an address a
 * shadow category lists (inspect-answer stage, with the answer's memo). The
 * query name itself on the allow list lets the answer through, as for an
 * enforced category.
 */
export function markAnswerWouldBlock(q: Query, memo: InspectionMemo): void {
  if (q.wouldBlock !== null) return
  const view = q.snapshot
  const hits = memo.mask & q.shadow & ~exemptMaskAt(view, q.client!, q.arrivedAt, q.shadow)
  if (hits === 0 || view.allowed(q.name)) return
  const bit = 31 - Math.clz32(hits & -hits)
  const hit = memo.hits[bit]!
  q.wouldBlock = { category: view.categoryAt(bit).name, caughtBy: hit.caughtBy, entry: hit.entry }
}
