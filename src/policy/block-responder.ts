/**
 * Turns a block decision into the client's answer, in the mode decide.ts
 * chooses (the configured one, except NXDOMAIN for the iCloud Private Relay
 * names), with the reason attached for the decision log and metrics.
 */
import { type BlockAnswerPlan, type BlockMode, buildBlockReply } from '../dns/build-block-reply.js'
import type { Query } from '../pipeline/query.js'
import type { AnswerReply, CaughtBy } from '../pipeline/types.js'
import { blockedMode } from './decide.js'

export class BlockResponder {
  constructor(
    readonly mode: BlockMode,
    readonly plan: BlockAnswerPlan,
  ) {}

  reply(q: Query, category: string, caughtBy: CaughtBy, entry: string): AnswerReply {
    return {
      kind: 'answer',
      wire: buildBlockReply(q, blockedMode(q.name, this.mode), this.plan),
      source: caughtBy === 'name' ? 'blocked' : caughtBy === 'cname' ? 'blocked-cname' : 'blocked-ip',
      block: { category, caughtBy, entry },
    }
  }

  /** A name dnsvakt answers itself for every client (decide.ts BUILTIN_NAMES). */
  signal(q: Query, mode: BlockMode): AnswerReply {
    return {
      kind: 'answer',
      wire: buildBlockReply(q, mode, this.plan),
      source: 'blocked',
      block: { category: 'builtin', caughtBy: 'name', entry: q.name },
    }
  }
}
