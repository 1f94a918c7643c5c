/**
 * What an upstream answer contains that a category lists: a name it leads to
 * (CNAME and DNAME names, SVCB/HTTPS targets) under a listed name, or an
 * address (A/AAAA records of the answer and additional sections, SVCB/HTTPS
 * address hints, IPv4 addresses embedded in IPv6 ones: IPv4-mapped, NAT64,
 * 6to4) in a listed range. An address in the additional section blocks the
 * whole answer: rewriting the answer without it would be a second DNS
 * encoder on the hot path, and upstream glue pointing into a blocked range
 * says what the answer is about (fail closed). Worked out once per
 * answer and snapshot and kept on the answer (the memo), so the inspect-answer
 * stage checks a cached answer for each client with a mask test, and explain
 * can report the same catch. Names the allow list covers are never a catch.
 */
import type { PolicyView, CategoryView } from '../pipeline/policy-view.js'
import type { InspectionHit, InspectionMemo, UpstreamAnswer } from '../pipeline/upstream-answer.js'
import { EmbeddedIpv4 } from '../net/embedded-ipv4.js'

/** The well-known embeddings only (no organisation NAT64 prefix). */
const DEFAULT_EMBEDDED = new EmbeddedIpv4()

/** The answer's memo for `view`, computed on first use after each reload. */
export function inspectAnswer(answer: UpstreamAnswer, view: PolicyView, embedded: EmbeddedIpv4 = DEFAULT_EMBEDDED): InspectionMemo {
  const old = answer.inspection
  if (old !== null && old.snapshot === view) return old
  const memo = inspectionOf(answer, view, embedded)
  answer.inspection = memo
  return memo
}

/** The same inspection, not kept on the answer: for a second list version (the candidate), which must not displace the served lists' memo. */
export function inspectionOf(answer: UpstreamAnswer, view: PolicyView, embedded: EmbeddedIpv4 = DEFAULT_EMBEDDED): InspectionMemo {
  const hits: Array<InspectionHit | null> = []
  let mask = 0
  for (const c of view.categories) {
    const hit = nameHit(answer, view, c) ?? addressHit(answer, c, embedded)
    hits[c.bit] = hit
    if (hit !== null) mask |= 1 << c.bit
  }
  if (mask !== 0) return { snapshot: view, mask, hits }
  // Most answers hit nothing: they share one memo per list version, not an object and an array per cached answer.
  if (clean?.snapshot !== view) clean = { snapshot: view, mask: 0, hits: [] }
  return clean
}

let clean: InspectionMemo | null = null

function nameHit(a: UpstreamAnswer, view: PolicyView, c: CategoryView): InspectionHit | null {
  return namesHit(a.cnameTargets, view, c) ?? namesHit(a.targetNames, view, c)
}

function namesHit(names: readonly string[], view: PolicyView, c: CategoryView): InspectionHit | null {
  for (const name of names) {
    if (view.allowed(name)) continue
    const start = c.domains.match(name)
    if (start >= 0) return { caughtBy: 'cname', entry: c.domains.entryAt(name, start) }
  }
  return null
}

function addressHit(a: UpstreamAnswer, c: CategoryView, embedded: EmbeddedIpv4): InspectionHit | null {
  if (c.cidrs.size === 0) return null
  return v4Hit(a.wire, a.v4Offsets, c) ?? v4Hit(a.wire, a.extraV4Offsets, c)
    ?? v6Hit(a.wire, a.v6Offsets, c, embedded) ?? v6Hit(a.wire, a.extraV6Offsets, c, embedded)
}

function v4Hit(wire: Buffer, offsets: readonly number[], c: CategoryView): InspectionHit | null {
  for (const off of offsets) {
    const cidr = c.cidrs.containsV4(wire, off)
    if (cidr !== null) return { caughtBy: 'ip', entry: cidr }
  }
  return null
}

function v6Hit(wire: Buffer, offsets: readonly number[], c: CategoryView, embedded: EmbeddedIpv4): InspectionHit | null {
  for (const off of offsets) {
    const cidr = c.cidrs.containsV6(wire, off)
    if (cidr !== null) return { caughtBy: 'ip', entry: cidr }
    const n = embedded.extract(wire, off)
    for (let i = 0; i < n; i++) {
      const v4 = c.cidrs.containsV4(embedded.found, i * 4)
      if (v4 !== null) return { caughtBy: 'ip', entry: v4 }
    }
  }
  return null
}
