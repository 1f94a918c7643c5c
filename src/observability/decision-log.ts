/**
 * The decision log: one JSON line per enforcement event (blocked, exempted),
 * with category, group, how it was caught and the list version; every query
 * only when log.queries is on. The client address is personal data (GDPR):
 * it is written as the configured mode makes it (truncated by default).
 * Nothing is built for a line that will not be written.
 */
import type { Logger } from 'pino'
import { qtypeLabel } from './metrics.js'
import { type AddressMode, ClientPseudonymizer } from './client-pseudonym.js'
import type { DecisionSink } from './edge-observer.js'
import type { Query } from '../pipeline/query.js'
import type { Reply } from '../pipeline/types.js'

export interface DecisionLogOptions {
  readonly queries: boolean
  readonly clientAddress: AddressMode
  readonly now: () => number
  readonly listVersion: () => string
  readonly secret?: string
}

export class DecisionLog implements DecisionSink {
  private readonly pseudonyms: ClientPseudonymizer

  constructor(
    private readonly log: Logger,
    private readonly opts: DecisionLogOptions,
  ) {
    this.pseudonyms = new ClientPseudonymizer({ mode: opts.clientAddress, now: opts.now, secret: opts.secret })
  }

  blocked(q: Query, r: Reply): void {
    if (!this.log.isLevelEnabled('info') || r.kind !== 'answer' || r.block === undefined) return
    this.log.info(
      {
        event: 'blocked',
        ...this.common(q),
        category: r.block.category,
        caughtBy: r.block.caughtBy,
        entry: r.block.entry,
        listVersion: this.opts.listVersion(),
      },
      'blocked',
    )
  }

  exempted(q: Query, r: Reply): void {
    if (!this.log.isLevelEnabled('info') || r.kind !== 'answer' || r.exempted === undefined) return
    this.log.info(
      { event: 'exempted', ...this.common(q), categories: r.exempted.categories, exemption: r.exempted.exemptionId, listVersion: this.opts.listVersion() },
      'exempted',
    )
  }

  query(q: Query, r: Reply): void {
    if (!this.opts.queries || !this.log.isLevelEnabled('info')) return
    this.log.info({ event: 'query', ...this.common(q), result: r.source }, 'query')
  }

  pseudonym(address: string): string {
    return this.pseudonyms.pseudonymForCounting(address)
  }

  error(q: Query, e: unknown): void {
    this.log.error({ event: 'internal-error', qtype: qtypeLabel(q.qtype), transport: q.transport, err: e }, 'a stage failed; answered SERVFAIL')
  }

  private common(q: Query) {
    return { name: q.name, qtype: qtypeLabel(q.qtype), transport: q.transport, group: q.group, client: this.pseudonyms.forLog(q.clientAddress) }
  }
}
