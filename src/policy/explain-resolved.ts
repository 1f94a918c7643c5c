/**
 * Explain, told the truth about names blocked through their answer: a name
 * that no list holds can still be blocked because its CNAME chain or its
 * addresses are listed (the inspect-answer stage). With --resolve (CLI) or
 * resolve=1 (admin API) explain looks the name up through an injected
 * `lookup` (the gateway's cache and upstreams) and runs the same inspection
 * (answer-inspection.ts) and the same precedence as the stage, shadow
 * categories included.
 */
import type { EmbeddedIpv4 } from '../net/embedded-ipv4.js'
import type { Next } from '../pipeline/types.js'
import type { InspectionMemo, UpstreamAnswer } from '../pipeline/upstream-answer.js'
import type { ClientInfo } from '../pipeline/client-info.js'
import { questionWire, typeCode } from '../dns/question-wire.js'
import { parseQuery } from '../dns/parse-query.js'
import { inspectAnswer } from './answer-inspection.js'
import { blockedMode, exemptMaskAt } from './decide.js'
import { describeBlock, type Explanation, type ExplainInput, explain } from './explain.js'

/** Looks a name up (cache, then upstream) and hands back the upstream answer; rejects when there is none. */
export type Lookup = (name: string, type: string) => Promise<UpstreamAnswer>

/** `embedded` must be the gateway's (blocking.nat64Prefixes), so explain catches what the stage catches. */
export async function explainResolved(input: ExplainInput, lookup: Lookup, embedded?: EmbeddedIpv4): Promise<Explanation> {
  const base = explain(input)
  // Answered by dnsvakt itself (blocked, built-in, refused): the upstream is never asked.
  if (base.answerMode !== null) return base
  const answer = await lookup(base.name, input.type)
  const snap = input.snapshot
  const info = input.classifier.classify(input.client, snap)
  const memo = inspectAnswer(answer, snap, embedded)
  const hits = snap.allowed(base.name) ? 0 : memo.mask & info.enforced
  if (hits === 0) return shadowThroughAnswer({ ...base, resolved: { rcode: answer.rcode, caught: null } }, memo, info, input)
  const blocking = hits & ~exemptMaskAt(snap, info, input.now)
  const bits = blocking !== 0 ? blocking : hits
  const bit = 31 - Math.clz32(bits & -bits)
  const hit = memo.hits[bit]!
  const category = snap.categoryAt(bit).name
  const resolved = { rcode: answer.rcode, caught: { category, caughtBy: hit.caughtBy, entry: hit.entry, exempted: blocking === 0 } }
  const how = hit.caughtBy === 'cname' ? `its answer passes through ${hit.entry}` : `its answer holds an address in ${hit.entry}`
  if (blocking === 0) {
    const exempted: Explanation = { ...base, decision: 'exempted', resolved, summary: `Allowed by exemption: ${how}, listed in "${category}", which an exemption lifts for this client.` }
    return shadowThroughAnswer(exempted, memo, info, input)
  }
  const mode = blockedMode(base.name, input.mode)
  return {
    ...base, decision: 'blocked', answerMode: mode, answer: describeBlock(mode, input.type), resolved, wouldBlock: null,
    summary: `Blocked through its answer: ${how}, listed in "${category}" (enforced by group "${info.group}", list version ${snap.version}).`,
  }
}

/**
 * A Lookup that runs a question through `chain` (the gateway's cache and
 * forward stages, composed) as if a client had asked, so explain sees what
 * clients get and fills the cache the same way.
 */
export function lookupThrough(chain: Next, now: () => number): Lookup {
  return async (name, type) => {
    const qtype = typeCode(type)
    if (qtype === null) throw new Error(`unknown record type "${type}"`)
    const q = parseQuery(questionWire(name, qtype), '127.0.0.1', 0, 'udp', now())
    if (typeof q === 'number') throw new Error(`cannot ask for "${name}" ${type}`)
    const r = await chain(q)
    if (r.kind !== 'answer' || r.answer === undefined) throw new Error(`no upstream answer for ${name} ${type} (${r.source})`)
    return r.answer
  }
}

/** A shadow category's catch through the answer, as the inspect-answer stage marks it (shadow.ts), when the name itself was none. */
function shadowThroughAnswer(e: Explanation, memo: InspectionMemo, info: ClientInfo, input: ExplainInput): Explanation {
  const snap = input.snapshot
  if (e.wouldBlock !== null || info.shadow === 0 || snap.allowed(e.name)) return e
  const hits = memo.mask & info.shadow & ~exemptMaskAt(snap, info, input.now, info.shadow)
  if (hits === 0) return e
  const bit = 31 - Math.clz32(hits & -hits)
  const hit = memo.hits[bit]!
  const category = snap.categoryAt(bit).name
  const how = hit.caughtBy === 'cname' ? `its answer passes through ${hit.entry}` : `its answer holds an address in ${hit.entry}`
  return { ...e, wouldBlock: { category, caughtBy: hit.caughtBy, entry: hit.entry }, summary: `${e.summary} In shadow: "${category}" would block it (${how}); it is logged as would-block and answered as usual.` }
}
