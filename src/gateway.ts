/**
 * The gateway assembled from a loaded config: the table of contents of the
 * service. Each part is built beside what it builds, from its own config
 * section (lists, upstream pools, cache, stage chain, observability, the
 * candidate list version, DNS listeners); this file only says in which order and what each one gets.
 * No side effects at import; tests build a whole gateway on port 0 with this.
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { AnswerCache } from './cache/answer-cache.js'
import { buildCache } from './cache/build-cache.js'
import { buildCandidate, withCandidate } from './candidate/build-candidate.js'
import type { CandidateShadow } from './candidate/candidate-shadow.js'
import { refuseProblems, startProblems } from './config/check-config.js'
import type { LoadedConfig } from './config/load-config.js'
import { listOptionsFor } from './lists/load-lists.js'
import { type ListLoader, PolicyStore, type ReloadResult } from './lists/policy-store.js'
import { buildObservability } from './observability/build-observability.js'
import { stageEvents } from './observability/stage-events.js'
import type { Metrics, TcpClosed } from './observability/metrics.js'
import { ClientClassifier } from './policy/client-classifier.js'
import { reportLists } from './observability/report-lists.js'
import { type BoundDns, bindListeners } from './server/bind-listeners.js'
import { startEncryptedListeners } from './server/encrypted-listeners.js'
import type { DdrEndpoint } from './dns/build-ddr-reply.js'
import { DdrDesignation } from './policy/ddr-designation.js'
import { FeedChangeTracker } from './firewall/feed-metric.js'
import { createEncryptedMetrics } from './observability/encrypted-metrics.js'
import { QueryHandler } from './server/query-handler.js'
import { buildStages } from './stages/build-stages.js'
import { allUpstreams, buildPools, poolHooks, resolveUpstreams, upstreamLabels } from './upstream/build-pools.js'
import { PendingBudget } from './upstream/pending-budget.js'
import type { UpstreamPool } from './upstream/upstream-pool.js'
import { VERSION } from './version.js'

export type { BoundDns }

export interface GatewayDeps {
  readonly now?: () => number
  readonly logger: Logger
  /** Destination of the decision log (defaults to the logger's). */
  readonly decisionLogger?: Logger
  readonly registry?: Registry
  /** How lists are read (default: in a worker thread, see load-lists-in-worker.ts). */
  readonly listLoader?: ListLoader
  /** Client-pseudonym secret shared by the host's processes (host/pseudonym-secret.ts); random per process when absent. */
  readonly pseudonymSecret?: Buffer
  /** In a cluster worker: the lists the primary accepted (host/cluster-worker.ts). Nothing is read from the folder or kept in blocking.stateDir. */
  readonly hostLists?: ListLoader
}

export interface Gateway {
  readonly dns: readonly BoundDns[]
  /** DoT/DoH as bound (listen.dot, listen.doh; empty when off). */
  readonly encrypted: readonly DdrEndpoint[]
  readonly store: PolicyStore
  readonly metrics: Metrics
  readonly pools: readonly UpstreamPool[]
  readonly cache: AnswerCache | null
  readonly handler: QueryHandler
  /** When each category's firewall feed (its address ranges) last changed. */
  readonly feedChanges: FeedChangeTracker
  readonly config: LoadedConfig
  /** The candidate list version evaluated in shadow (blocking.candidate), or null. */
  readonly candidate: CandidateShadow | null
  /** Reloads the lists, then the candidate version against them. */
  reload(trigger: string): Promise<ReloadResult>
  /** Stops accepting, answers what is in flight (bounded by graceMs), closes everything. */
  close(graceMs?: number): Promise<void>
}

export async function createGateway(loaded: LoadedConfig, deps: GatewayDeps): Promise<Gateway> {
  const { config } = loaded
  const now = deps.now ?? Date.now
  const log = deps.logger

  const store = await openStore(loaded, deps, now)
  const upstreams = resolveUpstreams(config.upstream, (problem) => log.warn({ event: 'resolv-conf-skipped', problem }, 'resolv.conf line skipped'))
  refuseProblems(startProblems(config, { lists: store.snapshot, listDir: loaded.blocklistDir, upstreams: allUpstreams(upstreams) }))

  const shadowPairs = Object.entries(config.groups).flatMap(([group, g]) => (g.shadow ?? []).map((category) => ({ category, group })))
  const labels = { upstreams: upstreamLabels(upstreams), groups: Object.keys(config.groups), categories: store.snapshot.categories.map((c) => c.name), shadowPairs }
  const { metrics, observer, clientForLog } = buildObservability(config.log, labels, { ...deps, now, version: VERSION, tlsServerName: config.tls.serverName })
  // One bound on upstream exchanges in flight across every pool (upstream/pending-budget.ts).
  const budget = new PendingBudget(config.upstream.maxPending, () => metrics.upstreamOverload())
  metrics.setUpstreamPending(() => budget.current)
  const pools = buildPools(config.upstream, upstreams, poolHooks(metrics, log), now, budget)
  const cache = buildCache(config.cache)
  if (cache) metrics.setCacheStats(() => ({ entries: cache.entries, bytes: cache.bytes }))
  // DDR (RFC 9462): designates the DoT/DoH listeners once they are bound (server/encrypted-listeners.ts).
  const ddr = new DdrDesignation()
  const chain = buildStages(config, { ...pools, cache, now, log, ddr, ...stageEvents(metrics, log, clientForLog) })
  const candidate = buildCandidate(loaded, metrics, log, now, deps.listLoader)
  const handler = new QueryHandler(chain, () => store.snapshot, now, withCandidate(observer(() => store.snapshot.version), candidate), { udpMaxPayload: config.listen.udpMaxPayload })
  const feedChanges = new FeedChangeTracker(metrics.registry)
  reportLists(store, metrics, log, now, feedChanges)
  // Never throws: a candidate that fails to load is logged and evaluates nothing.
  await candidate?.load(store.snapshot)

  // access.allow at TCP accept: a client outside it is cut before it can hold a connection.
  const access = new ClientClassifier(config.access.allow, config.groups)
  const tcpEdge = { allowed: (address: string) => access.allows(address), onClosed: (reason: TcpClosed) => metrics.tcpClosed(reason) }
  const encrypted = () => startEncryptedListeners(config, handler, () => createEncryptedMetrics(metrics.registry), log, { ddr, allowed: tcpEdge.allowed })
  const listeners = await bindListeners(config.listen, handler, (d) => metrics.tcpConnections(d), tcpEdge, encrypted).catch((e: unknown) => {
    pools.close()
    throw e
  })
  return {
    dns: listeners.bound, encrypted: listeners.encrypted, store, metrics, pools: pools.all, cache, handler, feedChanges, config: loaded, candidate,
    async reload(trigger) {
      const r = await store.reload(trigger)
      await candidate?.load(store.snapshot)
      return r
    },
    async close(graceMs = 2000) {
      // Stop taking queries, answer what is in flight (bounded by graceMs), then close the sockets.
      const tcpClosed = listeners.stopAccepting(graceMs)
      await Promise.race([handler.drained(), new Promise((r) => setTimeout(r, graceMs).unref())])
      await listeners.close()
      await tcpClosed
      pools.close()
    },
  }
}

/**
 * The lists, opened as a start opens them (git clone first is the host's; the last
 * good state if the folder would be refused). Lists from a cluster primary: no
 * folder read, no last good state written and no audit lines here (the primary does those).
 */
async function openStore(loaded: LoadedConfig, deps: GatewayDeps, now: () => number): Promise<PolicyStore> {
  const fromHost = deps.hostLists !== undefined
  const listOptions = () => (fromHost ? { ...listOptionsFor(loaded, now()), stateDir: null } : listOptionsFor(loaded, now()))
  return PolicyStore.open(listOptions, {}, deps.hostLists ?? deps.listLoader, fromHost ? null : deps.logger)
}
