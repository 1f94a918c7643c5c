/**
 * What watches the answers: the metrics (with the label sets known at start:
 * upstreams, groups, categories plus `builtin`), the client pseudonymizer and
 * the decision log from the `log` section, joined in the observer the query
 * handler reports every answer to.
 */
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { Config } from '../config/schema.js'
import { BypassTelemetry } from './bypass-telemetry.js'
import { ClientPseudonymizer } from './client-pseudonym.js'
import { EdgeObserver } from './edge-observer.js'
import { DecisionLog } from './logger.js'
import { createMetrics, type Metrics } from './metrics.js'

/**
 * The category label of the names answered locally for every client (the
 * Firefox canary, DDR; see stages/policy.ts): not a list, so not among the
 * list categories.
 */
export const BUILTIN_CATEGORY = 'builtin'

export interface ObservabilityDeps {
  readonly logger: Logger
  /** Destination of the decision log (defaults to `logger`). */
  readonly decisionLogger?: Logger
  readonly registry?: Registry
  readonly now: () => number
  readonly version: string
  /** Client-pseudonym secret shared by the host's processes (host/pseudonym-secret.ts); random per process when absent. */
  readonly pseudonymSecret?: Buffer
  /** tls.serverName: SVCB queries for `_dns.<it>` discover dnsvakt itself, not another resolver (bypass-telemetry.ts). */
  readonly tlsServerName?: string | null
}

export interface LabelSets {
  readonly upstreams: readonly string[]
  readonly groups: readonly string[]
  readonly categories: readonly string[]
  /** (category, group) pairs the groups have in shadow: their would-block series start at 0. */
  readonly shadowPairs?: ReadonlyArray<{ readonly category: string; readonly group: string }>
}

export interface Observability {
  readonly metrics: Metrics
  /** The handler's observer; `listVersion` is read for each decision logged. */
  observer(listVersion: () => string): EdgeObserver
  /** A client address as log.clientAddress allows it in a log line. */
  clientForLog(address: string): string | undefined
}

export function buildObservability(section: Config['log'], labels: LabelSets, deps: ObservabilityDeps): Observability {
  const { now, logger } = deps
  const metrics = createMetrics(deps.registry ?? new Registry(), {
    now,
    upstreams: labels.upstreams,
    groups: [...new Set([...labels.groups, 'default'])],
    categories: [...labels.categories, BUILTIN_CATEGORY],
    version: deps.version,
    shadowPairs: labels.shadowPairs,
  })
  const pseudonyms = new ClientPseudonymizer({ mode: section.clientAddress, now, secret: deps.pseudonymSecret })
  const decisions = new DecisionLog(deps.decisionLogger ?? logger, { pseudonymizer: pseudonyms, queries: section.queries })
  const own = deps.tlsServerName ?? null
  const bypass = new BypassTelemetry(metrics.registry, { groups: [...new Set([...labels.groups, 'default'])], ownDdrName: own === null ? null : `_dns.${own}`, now, newClients: metrics.newClients })
  return {
    metrics,
    observer: (listVersion) => new EdgeObserver(metrics, decisions, pseudonyms, listVersion, logger, bypass),
    clientForLog: (address) => pseudonyms.forLog(address),
  }
}
