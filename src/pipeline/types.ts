/**
 * The contract every stage speaks. A stage either answers (returns a Reply) or
 * calls next(q) and may inspect or replace what comes back. Only the forward
 * stage awaits; everything above it stays synchronous when the answer is
 * blocked or cached, so those answers never create a promise.
 */
import type { Query } from './query.js'
import type { UpstreamAnswer } from './upstream-answer.js'

export type MaybePromise<T> = T | Promise<T>

/**
 * Where an answer came from. A closed set: it is the only per-query metric
 * label, so it must never grow from input.
 */
export type ReplySource =
  | 'blocked'
  | 'blocked-cname'
  | 'blocked-ip'
  | 'cached'
  | 'stale'
  | 'forwarded'
  | 'refused'
  | 'rate-limited'
  | 'servfail'
  | 'formerr'
  | 'notimp'

export const REPLY_SOURCES: readonly ReplySource[] = [
  'blocked', 'blocked-cname', 'blocked-ip', 'cached', 'stale', 'forwarded',
  'refused', 'rate-limited', 'servfail', 'formerr', 'notimp',
]

/** How a blocked name was caught (metric label). */
export type CaughtBy = 'name' | 'cname' | 'ip'

/**
 * Why an enforcement decision was made: for the decision log and the explain
 * API, never a metric label (it holds list entries).
 */
export interface BlockReason {
  readonly category: string
  readonly caughtBy: CaughtBy
  /** The list entry that matched (a name suffix or a CIDR). */
  readonly entry: string
}

export interface ExemptReason {
  readonly categories: readonly string[]
  readonly exemptionId: string
}

export interface AnswerReply {
  readonly kind: 'answer'
  readonly wire: Buffer
  readonly source: ReplySource
  readonly block?: BlockReason
  /** Set when an exemption let through something a category would have blocked. */
  readonly exempted?: ExemptReason
  /** The upstream answer behind a cached, stale or forwarded reply, for answer inspection. */
  readonly answer?: UpstreamAnswer
}

export interface DropReply {
  readonly kind: 'drop'
  readonly source: ReplySource
}

export type Reply = AnswerReply | DropReply

export type Next = (q: Query) => MaybePromise<Reply>

export type StageName = 'acl' | 'rate-limit' | 'client-group' | 'policy' | 'inspect-answer' | 'cache' | 'forward'

export interface Stage {
  readonly name: StageName
  handle(q: Query, next: Next): MaybePromise<Reply>
}

export const answer = (wire: Buffer, source: ReplySource): AnswerReply => ({ kind: 'answer', wire, source })
