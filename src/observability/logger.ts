/**
 * The process logger (pino, JSON lines on stdout) and the decision log: one
 * line per enforcement decision, which the network team reads to see which
 * name was blocked for which client group. The query name is logged here and
 * never in metrics; the client address only as the pseudonymizer allows.
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import type { BlockReason, ExemptReason } from '../pipeline/types.js'
import type { Transport } from '../pipeline/transport.js'
import type { ClientPseudonymizer } from './client-pseudonym.js'
import { qtypeLabel, type QueryResult } from './metrics.js'

export type { Logger }

export interface LoggerOptions {
  /** A pino level: fatal, error, warn, info, debug, trace or silent. */
  level: string
  /** Where JSON lines go; stdout when absent. Tests pass an in-memory stream. */
  destination?: DestinationStream
  /** For the `time` field; tests pass a fixed clock. */
  now?: () => number
  /** Fields on every line (e.g. service, role); replaces pino's default pid and hostname. */
  base?: Record<string, unknown>
}

/** The JSON logger every process log comes from. `time` is ISO 8601 (UTC) from the injected clock, readable in `docker logs`. */
export function createLogger(opts: LoggerOptions): Logger {
  const now = opts.now ?? Date.now
  const options = {
    level: opts.level,
    ...(opts.base && { base: opts.base }),
    timestamp: () => `,"time":"${new Date(now()).toISOString()}"`,
  }
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination)
}

/**
 * What the decision log reads from a query. `Query` (src/pipeline/query.ts)
 * satisfies it as is, so the listener passes the query it already has and a
 * disabled log costs no allocation at the call site either.
 */
export interface QueryFacts {
  readonly name: string
  readonly qtype: number
  readonly transport: Transport
  readonly clientAddress: string
  readonly group: string
}

export interface DecisionLogOptions {
  pseudonymizer: ClientPseudonymizer
  /** Config `log.queries`: one line for every query (off by default: volume and privacy). */
  queries?: boolean
}

/** A type number as text: its mnemonic when we know it, else TYPEnnn (RFC 3597 s5). */
const qtypeText = (qtype: number): string => {
  const label = qtypeLabel(qtype)
  return label === 'other' ? `TYPE${qtype}` : label
}

/**
 * Enforcement decisions at `info`, each with an `event` field (blocked,
 * exempted, query). Every method checks first whether the line will be
 * written and returns before building anything when it will not.
 */
export class DecisionLog {
  readonly queriesEnabled: boolean
  readonly #log: Logger
  readonly #pseudonymizer: ClientPseudonymizer

  constructor(logger: Logger, opts: DecisionLogOptions) {
    this.#log = logger
    this.#pseudonymizer = opts.pseudonymizer
    this.queriesEnabled = opts.queries ?? false
  }

  /** A blocked answer: which name, for which group, by which list entry and list version. */
  logBlocked(q: QueryFacts, block: BlockReason, listVersion: string): void {
    if (!this.#log.isLevelEnabled('info')) return
    this.#log.info({
      event: 'blocked', name: q.name, qtype: qtypeText(q.qtype), transport: q.transport,
      client: this.#client(q), group: q.group, category: block.category, caughtBy: block.caughtBy,
      entry: block.entry, listVersion,
    }, 'blocked')
  }

  /** A name a category would have blocked, let through by an exemption. */
  logExempted(q: QueryFacts, exempted: ExemptReason, listVersion: string): void {
    if (!this.#log.isLevelEnabled('info')) return
    this.#log.info({
      event: 'exempted', name: q.name, qtype: qtypeText(q.qtype), transport: q.transport,
      client: this.#client(q), group: q.group, categories: exempted.categories,
      exemptionId: exempted.exemptionId, listVersion,
    }, 'exempted')
  }

  /** Every query, when `log.queries` is on. A plain field test first: this runs per query. */
  logQuery(q: QueryFacts, result: QueryResult, seconds: number): void {
    if (!this.queriesEnabled || !this.#log.isLevelEnabled('info')) return
    this.#log.info({
      event: 'query', name: q.name, qtype: qtypeText(q.qtype), transport: q.transport,
      client: this.#client(q), group: q.group, result, durationMs: Math.round(seconds * 1e6) / 1e3,
    }, 'query')
  }

  // undefined (mode omit) drops the field: JSON.stringify leaves undefined values out.
  #client(q: QueryFacts): string | undefined {
    return this.#pseudonymizer.forLog(q.clientAddress)
  }
}
