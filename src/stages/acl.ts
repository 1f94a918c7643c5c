/**
 * Access control: only clients in access.allow are served; everyone else gets
 * REFUSED (RFC 8914 EDE 18 "Prohibited"), so the gateway is never an open
 * resolver. First in the chain: the cheapest rejection. It decides access
 * only; the client's group and exemptions are the client-group stage's.
 */
import { emptyReply, makeEde } from '../dns/build-reply.js'
import { EDE, RCODE } from '../dns/constants.js'
import type { Next, Reply, Stage } from '../pipeline/types.js'
import type { Query } from '../pipeline/query.js'
import type { ClientClassifier } from '../policy/client-classifier.js'

const PROHIBITED = makeEde(EDE.PROHIBITED)

export class AclStage implements Stage {
  readonly name = 'acl' as const

  constructor(private readonly classifier: ClientClassifier) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    if (!this.classifier.allows(q.clientAddress)) return { kind: 'answer', wire: emptyReply(q, RCODE.REFUSED, PROHIBITED), source: 'refused' }
    return next(q)
  }
}
