/**
 * A candidate list version evaluated in shadow against live traffic
 * (config blocking.candidate): a second list folder, loaded beside the served
 * lists, decides every answered query again after the client has its answer,
 * and what it would decide differently is counted per category and group
 * (dnsvakt_candidate_would_block_total / _would_allow_total) and kept as the
 * top newly affected names (names only, no clients) for GET /v1/candidate.
 * It only reads the query and the reply: the answer can never change.
 *
 * newly blocked: the client's answer was not blocked, and the candidate
 * would block it by name, by a CNAME/target name or by an address (the same
 * decision and answer inspection as the stages, the client's group and its
 * exemptions valid at arrival). newly allowed: the served lists blocked the
 * query name and the candidate's would not (a name blocked through its
 * answer never got one, so it cannot be tried against the candidate).
 *
 * Cost: only names a changed entry covers (list-delta.ts: one walk of a trie
 * the size of the change) are decided twice; an answer is inspected against
 * the candidate only when a target name is in the delta, or when the change
 * touches IP ranges and the answer holds addresses (once per answer, kept in
 * a WeakMap that dies with the cached answer). Memory: the candidate's
 * snapshot (as large as the served lists: 41.6 MiB of trie arrays for a
 * million names), the delta, and two TopNames of `topNames` entries. Both
 * are built in worker threads (build-candidate.ts), never on this one.
 */
import type { Logger } from 'pino'
import type { EmbeddedIpv4 } from '../net/embedded-ipv4.js'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import { hitBit, hitStart } from '../pipeline/policy-view.js'
import type { Query } from '../pipeline/query.js'
import type { Reply } from '../pipeline/types.js'
import type { InspectionMemo, UpstreamAnswer } from '../pipeline/upstream-answer.js'
import { inspectionOf } from '../policy/answer-inspection.js'
import { BLOCKED, decide, decisionHit, decisionKind, exemptMaskAt } from '../policy/decide.js'
import type { ShadowMetrics, CandidateChange } from '../observability/shadow-metrics.js'
import type { ListDelta } from './list-delta.js'
import { type CandidateSummary, CandidateTally } from './candidate-tally.js'

export interface CandidateOptions {
  readonly dir: string
  /** Names kept per direction for /v1/candidate. */
  readonly topNames: number
  /** Config groups: the categories each enforces, by name. */
  readonly groups: Readonly<Record<string, { readonly enforce: readonly string[] }>>
  /** Loads a list folder (the gateway's loader, with the served exemptions file). */
  readonly load: (dir: string) => Promise<PolicySnapshot>
  /** Works out what differs between two list folders (list-delta.ts; in a worker thread by default). */
  readonly delta: (servedDir: string, candidateDir: string) => Promise<ListDelta>
  readonly metrics: Pick<ShadowMetrics, 'countCandidate'>
  readonly embedded: EmbeddedIpv4
  readonly log: Logger
  readonly now: () => number
}

/** One candidate loaded against one served snapshot. */
interface Loaded {
  readonly served: PolicySnapshot
  readonly candidate: PolicySnapshot
  readonly delta: ListDelta
  /** Group -> the categories it enforces, as a mask over the candidate's bits. */
  readonly enforced: ReadonlyMap<string, number>
  /** Every candidate category: clients of an unconfigured group get them all (fail closed, as served). */
  readonly all: number
  readonly answers: WeakMap<UpstreamAnswer, InspectionMemo>
}

export class CandidateShadow {
  private state: Loaded | null = null
  private loads = 0
  private problem: string | null = null
  private readonly tally: CandidateTally

  constructor(private readonly o: CandidateOptions) {
    this.tally = new CandidateTally(o.topNames)
  }

  /** (Re)loads the candidate against `served`; a failure is logged and leaves no candidate (never thrown: the gateway serves on). */
  async load(served: PolicySnapshot): Promise<void> {
    const run = ++this.loads
    try {
      const [candidate, delta] = await Promise.all([this.o.load(this.o.dir), this.o.delta(served.dir, this.o.dir)])
      if (run !== this.loads) return // a newer load started meanwhile
      const enforced = new Map(Object.entries(this.o.groups).map(([g, c]) => [g, candidate.maskOf(c.enforce)]))
      const all = candidate.categories.reduce((m, c) => m | (1 << c.bit), 0)
      const before = this.state
      this.state = { served, candidate, delta, enforced, all, answers: new WeakMap() }
      this.problem = null
      // Counts describe one (served, candidate) pair: a new version on either side starts them over.
      if (before === null || before.served.version !== served.version || before.candidate.version !== candidate.version) this.tally.reset(this.o.now())
      this.o.log.info({ event: 'candidate-loaded', dir: this.o.dir, version: candidate.version, servedVersion: served.version, added: delta.added, removed: delta.removed }, 'candidate lists loaded (evaluated in shadow)')
    } catch (e) {
      if (run !== this.loads) return
      this.state = null
      this.problem = (e as Error).message
      this.o.log.warn({ event: 'candidate-load-failed', dir: this.o.dir, err: this.problem }, 'candidate lists not loaded; nothing is evaluated in shadow')
    }
  }

  /** After the client has its answer: how the candidate would have decided. Reads only. */
  observe(q: Query | null, reply: Reply | null): void {
    const s = this.state
    if (s === null || q === null || q.client === null || reply === null || reply.kind !== 'answer') return
    // Served lists reloaded and the candidate not yet compared with them: skip rather than count against the wrong delta.
    if (q.snapshot !== s.served || reply.block?.category === 'builtin') return
    const inDelta = s.delta.names.size > 0 && s.delta.names.match(q.name) >= 0
    if (inDelta && this.byName(q, reply, s)) return
    // A changed allow entry for the query name counts too: it decides whether the answer is inspected at all.
    if (reply.block === undefined && reply.answer !== undefined && (inDelta || touchesDelta(reply.answer, s.delta))) this.byAnswer(q, reply.answer, s)
  }

  /** The name decided by both versions; true when that settles it (a change counted, or the served block kept). */
  private byName(q: Query, reply: Reply & { kind: 'answer' }, s: Loaded): boolean {
    const mask = this.enforcedFor(q.group, s)
    const d = decide(s.candidate, q.name, mask, exemptMaskAt(s.candidate, q.client!, q.arrivedAt, mask))
    const blocks = decisionKind(d) === BLOCKED
    if (reply.block === undefined) {
      if (!blocks) return false
      const c = s.candidate.categoryAt(hitBit(decisionHit(d)))
      this.count('block', c.name, q, c.domains.entryAt(q.name, hitStart(decisionHit(d))))
      return true
    }
    if (reply.block.caughtBy === 'name' && !blocks) this.count('allow', reply.block.category, q, reply.block.entry)
    return true
  }

  /** The answer inspected against the candidate (once per answer), for a reply the served lists let through. */
  private byAnswer(q: Query, answer: UpstreamAnswer, s: Loaded): void {
    if (s.candidate.allowed(q.name)) return
    let memo = s.answers.get(answer)
    if (memo === undefined) {
      memo = inspectionOf(answer, s.candidate, this.o.embedded)
      s.answers.set(answer, memo)
    }
    const mask = this.enforcedFor(q.group, s)
    const hits = memo.mask & mask & ~exemptMaskAt(s.candidate, q.client!, q.arrivedAt, mask)
    if (hits === 0) return
    const bit = 31 - Math.clz32(hits & -hits)
    this.count('block', s.candidate.categoryAt(bit).name, q, memo.hits[bit]!.entry)
  }

  private enforcedFor(group: string, s: Loaded): number {
    return s.enforced.get(group) ?? s.all
  }

  private count(change: CandidateChange, category: string, q: Query, entry: string): void {
    this.o.metrics.countCandidate(change, category, q.group)
    this.tally.add(change, category, q.group, q.name, entry)
  }

  /** GET /v1/candidate. */
  summary(): CandidateSummary {
    const s = this.state
    return this.tally.summary({
      dir: this.o.dir,
      version: s?.candidate.version ?? null,
      servedVersion: s?.served.version ?? null,
      loadedAt: s ? new Date(s.candidate.loadedAt).toISOString() : null,
      problem: this.problem,
      entries: s ? { added: s.delta.added, removed: s.delta.removed } : null,
    })
  }
}

/** Whether the answer leads to a name the delta covers, or holds an address while the change touches IP ranges. */
function touchesDelta(a: UpstreamAnswer, delta: ListDelta): boolean {
  if (delta.names.size > 0) {
    for (const t of a.cnameTargets) if (delta.names.match(t) >= 0) return true
    for (const t of a.targetNames) if (delta.names.match(t) >= 0) return true
  }
  // Addresses may hide in IPv6 (NAT64, 6to4): any address is checked against the candidate, once per answer.
  return delta.ranges.size > 0 && a.v4Offsets.length + a.v6Offsets.length + a.extraV4Offsets.length + a.extraV6Offsets.length > 0
}
