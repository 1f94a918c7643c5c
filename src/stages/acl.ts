/**
 * Access control: only clients in access.allow are served; everyone else gets
 * REFUSED (RFC 8914 EDE 18 "Prohibited"), so the gateway is never an open
 * resolver. First in the chain: the cheapest rejection. It decides access
 * only; the client's group and exemptions are the client-group stage's.
 *
 * A query without RD (recursion desired) is REFUSED too, with EDE 20 "Not
 * Authoritative" (RFC 8914 names it for exactly this case): an RD=0 query is
 * how one client snoops the shared cache (which names another client, say
 * the politicians' network, looked up, and when, from the aged TTL). Unbound
 * refuses such queries under its default access-control `allow`. Stub
 * resolvers always set RD, so clients never notice.
 */
import { emptyReply, makeEde } from '../dns/build-reply.js'
import { EDE, RCODE } from '../dns/constants.js'
import type { Next, Reply, Stage } from '../pipeline/types.js'
import type { Query } from '../pipeline/query.js'
import type { ClientClassifier } from '../policy/client-classifier.js'

const PROHIBITED = makeEde(EDE.PROHIBITED)
const NOT_AUTHORITATIVE = makeEde(20)

export class AclStage implements Stage {
  readonly name = 'acl' as const

  constructor(private readonly classifier: ClientClassifier) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    if (!this.classifier.allows(q.clientAddress)) return { kind: 'answer', wire: emptyReply(q, RCODE.REFUSED, PROHIBITED), source: 'refused' }
    // RD is the lowest bit of the third header byte; the parser has checked the header is there.
    if ((q.wire[2]! & 0x01) === 0) return { kind: 'answer', wire: emptyReply(q, RCODE.REFUSED, NOT_AUTHORITATIVE), source: 'refused' }
    return next(q)
  }
}
