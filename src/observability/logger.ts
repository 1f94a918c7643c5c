/**
 * The process logger (pino, JSON lines on stdout) and the decision log: one
 * line per enforcement decision, which the network team reads to see which
 * name was blocked for which client group. The query name is logged here and
 * never in metrics; the client address only as the pseudonymizer allows, and
 * an exemption id (which names the device as surely as its address) only
 * when `log.clientAddress` is `full`.
 *
 * stdout is written asynchronously with a bounded queue: when whatever reads
 * it stops (a stuck log shipper, a pipe nobody reads), at most
 * LOG_QUEUE_BYTES wait in memory; lines past that are dropped and counted
 * (log-drops.ts, exported as dnsvakt_log_dropped_lines_total) and DNS
 * keeps being answered. Unbounded, the queue grew ~3.5 MiB per 10,000
 * decision-log lines (docs/reliability.md).
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import type { BlockReason, ExemptReason } from '../pipeline/types.js'
import type { Transport } from '../pipeline/transport.js'
import type { ClientPseudonymizer } from './client-pseudonym.js'
import { countDroppedLogLine } from './log-drops.js'
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

/** Bytes of log lines that may wait for a slow or stuck stdout; past it, lines are dropped and counted. */
export const LOG_QUEUE_BYTES = 1024 * 1024

/**
 * An asynchronous writer to `fd` that queues at most `maxBytes`, counting
 * what it drops. At exit it tries once to flush and gives up on a stuck
 * pipe (pino's own exit flush would wait for it forever).
 */
export function boundedDestination(fd = 1, maxBytes = LOG_QUEUE_BYTES): DestinationStream {
  let exiting = false
  // Registered before pino.destination registers its exit flush, so it runs first.
  process.once('exit', () => {
    exiting = true
    try {
      dest.flushSync()
    } catch {
      // stdout is stuck: what is still queued is lost, like the lines dropped before it.
    }
    dest.destroy()
  })
  const dest: ReturnType<typeof pino.destination> = pino.destination({ dest: fd, sync: false, maxLength: maxBytes, retryEAGAIN: () => !exiting })
  dest.on('drop', countDroppedLogLine)
  return dest
}

/** The JSON logger every process log comes from. `time` is ISO 8601 (UTC) from the injected clock, readable in `docker logs`. */
export function createLogger(opts: LoggerOptions): Logger {
  const now = opts.now ?? Date.now
  const options = {
    level: opts.level,
    ...(opts.base && { base: opts.base }),
    timestamp: () => `,"time":"${new Date(now()).toISOString()}"`,
  }
  return pino(options, opts.destination ?? boundedDestination())
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
 * would-block, exempted, query). Every method checks first whether the line will be
 * written and returns before building anything when it will not.
 */
export class DecisionLog {
  readonly queriesEnabled: boolean
  readonly #log: Logger
  readonly #pseudonymizer: ClientPseudonymizer
  /** An exemption id identifies the device: logged only where the address itself is. */
  readonly #exemptionIds: boolean

  constructor(logger: Logger, opts: DecisionLogOptions) {
    this.#log = logger
    this.#pseudonymizer = opts.pseudonymizer
    this.#exemptionIds = opts.pseudonymizer.mode === 'full'
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

  /** A name a shadow category would have blocked; the client got the normal answer (policy/shadow.ts). */
  logWouldBlock(q: QueryFacts, block: BlockReason, listVersion: string): void {
    if (!this.#log.isLevelEnabled('info')) return
    this.#log.info({
      event: 'would-block', name: q.name, qtype: qtypeText(q.qtype), transport: q.transport,
      client: this.#client(q), group: q.group, category: block.category, caughtBy: block.caughtBy,
      entry: block.entry, listVersion,
    }, 'would-block')
  }

  /** A name a category would have blocked, let through by an exemption. */
  logExempted(q: QueryFacts, exempted: ExemptReason, listVersion: string): void {
    if (!this.#log.isLevelEnabled('info')) return
    this.#log.info({
      event: 'exempted', name: q.name, qtype: qtypeText(q.qtype), transport: q.transport,
      client: this.#client(q), group: q.group, categories: exempted.categories,
      exemptionId: this.#exemptionIds ? exempted.exemptionId : undefined, listVersion,
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
