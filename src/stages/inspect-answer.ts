/**
 * Answer inspection: an upstream answer whose CNAME chain passes through a
 * blocked name, or whose A/AAAA addresses fall in a blocked category's IP
 * ranges, is replaced by the sinkhole answer for this client. It sits above
 * the cache, so cached answers are checked per client on every hit (the cache
 * is shared by all groups). What an answer contains is worked out once per
 * entry and snapshot (the memo); a hit then costs a mask test.
 */
import type { CacheEntry, InspectionMemo } from '../cache/cache-entry.js'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import type { Query } from '../pipeline/query.js'
import type { Next, Reply, Stage } from '../pipeline/types.js'
import { type BlockResponder, withExemption } from '../policy/block-responder.js'
import { exemptionReason } from './policy.js'

export class InspectAnswerStage implements Stage {
  readonly name = 'inspect-answer' as const

  constructor(private readonly responder: BlockResponder) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    const r = next(q)
    if (q.enforced === 0) return r
    return r instanceof Promise ? r.then((x) => this.inspect(q, x)) : this.inspect(q, r)
  }

  private inspect(q: Query, r: Reply): Reply {
    if (r.kind !== 'answer' || r.entry === undefined) return r
    const memo = memoFor(r.entry, q.snapshot)
    const hits = memo.mask & q.enforced
    if (hits === 0 || q.snapshot.allowed(q.name)) return r
    const blocking = hits & ~q.exemptMask
    if (blocking === 0) {
      const bit = 31 - Math.clz32(hits & -hits)
      return withExemption(r, exemptionReason(q, q.snapshot.categoryAt(bit).name))
    }
    const bit = 31 - Math.clz32(blocking & -blocking)
    const hit = memo.hits[bit]!
    return this.responder.reply(q, q.snapshot.categoryAt(bit).name, hit.caughtBy, hit.entry)
  }
}

/** The entry's memo for `snapshot`, computed on first use after each reload. */
export function memoFor(entry: CacheEntry, snapshot: PolicySnapshot): InspectionMemo {
  const old = entry.inspection
  if (old !== null && old.snapshot === snapshot) return old
  const a = entry.answer
  const hits: Array<{ caughtBy: 'cname' | 'ip'; entry: string } | null> = []
  let mask = 0
  for (const c of snapshot.categories) {
    let hit: { caughtBy: 'cname' | 'ip'; entry: string } | null = null
    for (const target of a.cnameTargets) {
      if (snapshot.allowed(target)) continue
      const start = c.domains.match(target)
      if (start >= 0) {
        hit = { caughtBy: 'cname', entry: target.slice(start) }
        break
      }
    }
    if (hit === null && c.cidrs.size > 0) {
      for (const off of a.v4Offsets) {
        const cidr = c.cidrs.containsV4(a.wire, off)
        if (cidr !== null) { hit = { caughtBy: 'ip', entry: cidr }; break }
      }
      if (hit === null) {
        for (const off of a.v6Offsets) {
          const cidr = c.cidrs.containsV6(a.wire, off)
          if (cidr !== null) { hit = { caughtBy: 'ip', entry: cidr }; break }
        }
      }
    }
    hits[c.bit] = hit
    if (hit !== null) mask |= 1 << c.bit
  }
  // Most answers hit nothing: they share one memo per snapshot, not an object and an array per cache entry.
  if (mask === 0 && clean?.snapshot !== snapshot) clean = { snapshot, mask, hits: [] }
  const memo: InspectionMemo = mask === 0 ? clean! : { snapshot, mask, hits }
  entry.inspection = memo
  return memo
}

let clean: InspectionMemo | null = null
