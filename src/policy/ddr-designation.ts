/**
 * Which names designate dnsvakt as the encrypted resolver (DDR, RFC 9462),
 * and the answer to them: SVCB queries for `_dns.resolver.arpa` (discovery
 * through the unencrypted resolver, s4) and `_dns.<tls.serverName>`
 * (discovery by resolver name, RFC 9461 s4). Empty until the encrypted
 * listeners are bound (their ports are known only then); while empty, and for
 * other query types, the policy stage answers as before (NODATA for
 * `_dns.resolver.arpa`). Answered for every client, whatever its group:
 * dnsvakt applies the client's policy on the encrypted transports too.
 */
import { buildDdrReply, type DdrPlan } from '../dns/build-ddr-reply.js'
import type { Query } from '../pipeline/query.js'
import type { AnswerReply } from '../pipeline/types.js'
import { DDR, designatedName } from './decide.js'

export const DDR_NAME = DDR

export class DdrDesignation {
  private plan: DdrPlan | null = null
  private ownName = ''

  /** Installs the records once the listeners are bound; null turns designation off. */
  designate(plan: DdrPlan | null): void {
    this.plan = plan
    this.ownName = plan === null ? '' : `_dns.${plan.serverName}`
  }

  get active(): boolean {
    return this.plan !== null
  }

  /** The designation answer for `q`, or null to let the policy stage go on. */
  answer(q: Query): AnswerReply | null {
    const plan = this.plan
    if (plan === null || !designatedName(q.name, q.qtype, this.ownName)) return null
    // Counted like the other names every client gets a local answer for (category "builtin").
    return { kind: 'answer', wire: buildDdrReply(q, plan), source: 'blocked', block: { category: 'builtin', caughtBy: 'name', entry: q.name } }
  }
}
