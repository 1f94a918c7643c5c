/**
 * Puts the client's group and its exemptions on the query, once, for the
 * policy and inspection stages. An exemption counts only while it is valid at
 * the query's arrival, so one that expires stops applying by itself.
 */
import type { Next, Reply, Stage } from '../pipeline/types.js'
import type { Query } from '../pipeline/query.js'

export class ClientGroupStage implements Stage {
  readonly name = 'client-group' as const

  handle(q: Query, next: Next): Reply | Promise<Reply> {
    const client = q.client!
    q.group = client.group
    q.enforced = client.enforced
    const exemptions = client.exemptions
    if (exemptions.length > 0) {
      let mask = 0
      for (const e of exemptions) if (e.expiresAt > q.arrivedAt) mask |= q.snapshot.maskOf(e.categories)
      q.exemptMask = mask & client.enforced
    }
    return next(q)
  }
}
