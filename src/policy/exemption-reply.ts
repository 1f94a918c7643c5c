/**
 * Answers let through by an exemption: which exemption it was (for the
 * decision log and metrics), and a TTL that ends with it. An exempted answer
 * keeps at most the seconds left until the exemption expires, so a client's
 * cache cannot carry the exemption past its end (the upstream TTL can be a
 * day). Off the hot path: only exempted answers come here.
 */
import { capTtls } from '../dns/cap-ttls.js'
import type { ClientInfo } from '../pipeline/client-info.js'
import type { PolicyView } from '../pipeline/policy-view.js'
import type { AnswerReply, ExemptReason, Reply } from '../pipeline/types.js'

/** Which exemption lifted `category` for this client at `now` (the one lasting longest, if several do). */
export function exemptionReason(client: ClientInfo, category: string, now: number): ExemptReason {
  let id = ''
  let until = -Infinity
  for (const e of client.exemptions) {
    if (e.expiresAt > now && e.expiresAt > until && e.categories.includes(category)) {
      id = e.id
      until = e.expiresAt
    }
  }
  return { categories: [category], exemptionId: id }
}

/**
 * When the lift of every category in `mask` ends (ms): per category the last
 * valid exemption covering it, and the earliest of those over the categories.
 */
export function exemptionEnds(view: PolicyView, client: ClientInfo, mask: number, now: number): number {
  let ends = Infinity
  for (const c of view.categories) {
    if ((mask & (1 << c.bit)) === 0) continue
    let last = now
    for (const e of client.exemptions) {
      if (e.expiresAt > last && e.categories.includes(c.name)) last = e.expiresAt
    }
    if (last < ends) ends = last
  }
  return ends
}

/**
 * Marks `r` as let through by an exemption and caps its TTLs at the seconds
 * left from `now` until `endsAt`. Replies without upstream records (SERVFAIL,
 * a drop) pass as they are.
 */
export function withExemption(r: Reply, exempted: ExemptReason, endsAt: number, now: number): Reply {
  if (r.kind !== 'answer') return r
  if (r.answer !== undefined && endsAt !== Infinity) capTtls(r.wire, r.answer.ttlOffsets, (endsAt - now) / 1000)
  return { ...r, exempted } satisfies AnswerReply
}
