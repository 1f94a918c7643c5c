/**
 * What an upstream answer contains that a category lists: a CNAME target
 * under a listed name, or an address in a listed range. Worked out once per
 * answer and snapshot and kept on the answer (the memo), so the inspect-answer
 * stage checks a cached answer for each client with a mask test, and explain
 * can report the same catch. Names the allow list covers are never a catch.
 */
import type { PolicyView, CategoryView } from '../pipeline/policy-view.js'
import type { InspectionHit, InspectionMemo, UpstreamAnswer } from '../pipeline/upstream-answer.js'

/** The answer's memo for `view`, computed on first use after each reload. */
export function inspectAnswer(answer: UpstreamAnswer, view: PolicyView): InspectionMemo {
  const old = answer.inspection
  if (old !== null && old.snapshot === view) return old
  const hits: Array<InspectionHit | null> = []
  let mask = 0
  for (const c of view.categories) {
    const hit = nameHit(answer, view, c) ?? addressHit(answer, c)
    hits[c.bit] = hit
    if (hit !== null) mask |= 1 << c.bit
  }
  const memo: InspectionMemo = { snapshot: view, mask, hits }
  answer.inspection = memo
  return memo
}

function nameHit(a: UpstreamAnswer, view: PolicyView, c: CategoryView): InspectionHit | null {
  for (const target of a.cnameTargets) {
    if (view.allowed(target)) continue
    const start = c.domains.match(target)
    if (start >= 0) return { caughtBy: 'cname', entry: target.slice(start) }
  }
  return null
}

function addressHit(a: UpstreamAnswer, c: CategoryView): InspectionHit | null {
  if (c.cidrs.size === 0) return null
  for (const off of a.v4Offsets) {
    const cidr = c.cidrs.containsV4(a.wire, off)
    if (cidr !== null) return { caughtBy: 'ip', entry: cidr }
  }
  for (const off of a.v6Offsets) {
    const cidr = c.cidrs.containsV6(a.wire, off)
    if (cidr !== null) return { caughtBy: 'ip', entry: cidr }
  }
  return null
}
