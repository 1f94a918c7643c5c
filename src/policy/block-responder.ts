/**
 * Turns a block decision into the client's answer: the configured mode, except
 * for names that need a specific answer whatever the mode (Apple's iCloud
 * Private Relay names get NXDOMAIN so devices fail fast and say why; a
 * 0.0.0.0 answer would look like a working but broken relay).
 */
import { type BlockAnswerPlan, type BlockMode, buildBlockReply } from '../dns/build-block-reply.js'
import type { Query } from '../pipeline/query.js'
import type { AnswerReply, CaughtBy, ExemptReason } from '../pipeline/types.js'

/** Names (and subdomains) always answered NXDOMAIN when blocked. */
const NXDOMAIN_WHEN_BLOCKED = ['mask.icloud.com', 'mask-h2.icloud.com', 'mask-canary.icloud.com', 'mask-api.icloud.com']

export class BlockResponder {
  constructor(
    readonly mode: BlockMode,
    readonly plan: BlockAnswerPlan,
  ) {}

  reply(q: Query, category: string, caughtBy: CaughtBy, entry: string): AnswerReply {
    const mode = this.mode !== 'nxdomain' && forcedNxdomain(q.name) ? 'nxdomain' : this.mode
    return {
      kind: 'answer',
      wire: buildBlockReply(q, mode, this.plan),
      source: caughtBy === 'name' ? 'blocked' : caughtBy === 'cname' ? 'blocked-cname' : 'blocked-ip',
      block: { category, caughtBy, entry },
    }
  }

  /** A locally answered name outside the lists (see network-signals.ts). */
  signal(q: Query, mode: BlockMode): AnswerReply {
    return {
      kind: 'answer',
      wire: buildBlockReply(q, mode, this.plan),
      source: 'blocked',
      block: { category: 'builtin', caughtBy: 'name', entry: q.name },
    }
  }
}

function forcedNxdomain(name: string): boolean {
  for (const n of NXDOMAIN_WHEN_BLOCKED) {
    if (name === n || (name.endsWith(n) && name.charCodeAt(name.length - n.length - 1) === 0x2e)) return true
  }
  return false
}

/** Marks a reply as let through by an exemption (for the decision log and metrics). */
export const withExemption = (r: AnswerReply, exempted: ExemptReason): AnswerReply => ({ ...r, exempted })
