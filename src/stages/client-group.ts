/**
 * Works out the client's group, the categories it enforces and the
 * exemptions valid at the query's arrival, once, and puts them on the query
 * for the policy and inspection stages. An exemption counts only while it is
 * valid at arrival, so one that expires stops applying by itself.
 */
import type { Next, Reply, Stage } from '../pipeline/types.js'
import type { Query } from '../pipeline/query.js'
import type { ClientClassifier } from '../policy/client-classifier.js'
import { exemptMaskAt } from '../policy/decide.js'

export class ClientGroupStage implements Stage {
  readonly name = 'client-group' as const

  constructor(private readonly classifier: ClientClassifier) {}

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    const client = this.classifier.classify(q.clientAddress, q.snapshot)
    q.client = client
    q.group = client.group
    q.enforced = client.enforced
    q.shadow = client.shadow
    // Most clients have no exemption: skip the call (measured: a few hundred instructions per query).
    if (client.exemptions.length > 0) q.exemptMask = exemptMaskAt(q.snapshot, client, q.arrivedAt)
    return next(q)
  }
}
