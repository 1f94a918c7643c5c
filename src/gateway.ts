/**
 * Wires every part from a loaded config: lists, upstreams, the stage chain,
 * listeners, metrics, logs and the admin listener. No side effects at import;
 * tests build a whole gateway on port 0 with this.
 */
import type { Logger } from 'pino'
import { networkInterfaces } from 'node:os'
import { Registry } from 'prom-client'
import { makeBlockAnswerPlan } from './dns/build-block-reply.js'
import { AnswerCache } from './cache/answer-cache.js'
import type { LoadedConfig } from './config/load-config.js'
import type { HostPort, UpstreamServer } from './config/schema.js'
import { type ListLoader, PolicyStore, type ReloadResult } from './lists/policy-store.js'
import { listOptionsFor } from './lists/load-lists.js'
import type { PolicySnapshot } from './lists/policy-snapshot.js'
import { compose } from './pipeline/compose.js'
import { orderStages } from './pipeline/stage-order.js'
import type { Stage } from './pipeline/types.js'
import { BlockResponder } from './policy/block-responder.js'
import { ClientClassifier } from './policy/client-classifier.js'
import { AclStage } from './stages/acl.js'
import { CacheStage } from './stages/cache.js'
import { ClientGroupStage } from './stages/client-group.js'
import { ForwardStage } from './stages/forward.js'
import { InspectAnswerStage } from './stages/inspect-answer.js'
import { PolicyStage } from './stages/policy.js'
import { RateLimitStage } from './stages/rate-limit.js'
import { QueryHandler } from './server/query-handler.js'
import { TcpListener } from './server/tcp-listener.js'
import { UdpListener } from './server/udp-listener.js'
import { type EncryptedListeners, startEncryptedListeners } from './server/encrypted-listeners.js'
import { DdrDesignation } from './policy/ddr-designation.js'
import { createMetrics, type Metrics } from './observability/metrics.js'
import { EdgeObserver } from './observability/edge-observer.js'
import { BypassTelemetry } from './observability/bypass-telemetry.js'
import { FeedChangeTracker } from './firewall/feed-metric.js'
import { DecisionLog } from './observability/logger.js'
import { ClientPseudonymizer } from './observability/client-pseudonym.js'
import { readResolvConf } from './upstream/resolv-conf.js'
import { UpstreamPool, upstreamLabel } from './upstream/upstream-pool.js'
import { VERSION } from './version.js'
import { DnsvaktError } from './errors.js'

export interface GatewayDeps {
  readonly now?: () => number
  readonly logger: Logger
  /** Destination of the decision log (defaults to the logger's). */
  readonly decisionLogger?: Logger
  readonly registry?: Registry
  /** How lists are read (default: in a worker thread, see load-lists-in-worker.ts). */
  readonly listLoader?: ListLoader
}

export interface BoundDns {
  readonly address: string
  readonly port: number
}

export interface Gateway {
  readonly dns: readonly BoundDns[]
  readonly encrypted: EncryptedListeners['bound'] // DoT/DoH as bound
  readonly store: PolicyStore
  readonly metrics: Metrics
  readonly pools: readonly UpstreamPool[]
  readonly cache: AnswerCache | null
  readonly handler: QueryHandler
  readonly feedChanges: FeedChangeTracker // when each category's firewall feed last changed
  readonly config: LoadedConfig
  reload(trigger: string): Promise<ReloadResult>
  /** Stops accepting, answers what is in flight (bounded by graceMs), closes everything. */
  close(graceMs?: number): Promise<void>
}

export async function createGateway(loaded: LoadedConfig, deps: GatewayDeps): Promise<Gateway> {
  const { config } = loaded
  const now = deps.now ?? Date.now
  const log = deps.logger

  const store = await PolicyStore.open(() => listOptionsFor(loaded, now()), {}, deps.listLoader)
  const first = store.snapshot
  checkGroupCategories(loaded, first)

  const defaultServers = resolveServers(config.upstream.servers, config.upstream.resolvConf)
  const zoneServers = config.upstream.zones.map((z) => ({ zone: normaliseZone(z.zone), servers: resolveServers(z.servers, config.upstream.resolvConf) }))
  const loops = forwardingLoops([...defaultServers, ...zoneServers.flatMap((z) => z.servers)], config.listen.dns)
  if (loops.length > 0) throw configError(loops)
  const upstreamLabels = [...new Set([...defaultServers, ...zoneServers.flatMap((z) => z.servers)].map(upstreamLabel))]
  const metrics = createMetrics(deps.registry ?? new Registry(), {
    now,
    upstreams: upstreamLabels,
    groups: [...new Set([...Object.keys(config.groups), 'default'])],
    categories: [...first.categories.map((c) => c.name), 'builtin'],
    version: VERSION,
  })
  const pseudonyms = new ClientPseudonymizer({ mode: config.log.clientAddress, now })
  const decisions = new DecisionLog(deps.decisionLogger ?? log, { pseudonymizer: pseudonyms, queries: config.log.queries })

  const makePool = (servers: UpstreamServer[]) =>
    new UpstreamPool(
      servers,
      {
        strategy: config.upstream.strategy,
        tryTimeoutMs: config.upstream.tryTimeout,
        deadlineMs: config.upstream.deadline,
        failuresBeforeDown: config.upstream.failuresBeforeDown,
        probeIntervalMs: config.upstream.probeInterval,
        caFile: config.upstream.caFile,
        now,
      },
      {
        onTry: (u) => metrics.upstreamTry(u),
        onFailure: (u, reason) => metrics.upstreamFailure(u, reason),
        onIgnored: (u, reason) => metrics.upstreamIgnored(u, reason),
        onLatency: (u, s) => metrics.upstreamLatency(u, s),
        onHealthChange: (u, up) => {
          metrics.setUpstreamUp(u, up)
          if (up) log.info({ event: 'upstream-up', upstream: u }, 'upstream is answering again')
          else log.warn({ event: 'upstream-down', upstream: u }, 'upstream marked down after repeated failures')
        },
      },
    )
  const pool = makePool(defaultServers)
  const zonePools = zoneServers.map((z) => ({ zone: z.zone, pool: makePool(z.servers) }))
  for (const u of upstreamLabels) metrics.setUpstreamUp(u, true)

  const responder = new BlockResponder(
    config.blocking.mode,
    makeBlockAnswerPlan({
      ttl: Math.round(config.blocking.ttl / 1000),
      ipv4: config.blocking.sinkhole.ipv4,
      ipv6: config.blocking.sinkhole.ipv6,
      edeText: config.blocking.edeText,
    }),
  )
  const cache = config.cache.enabled
    ? new AnswerCache({
        maxEntries: config.cache.maxEntries,
        maxBytes: config.cache.maxBytes,
        minTtl: config.cache.minTtl,
        maxTtl: config.cache.maxTtl,
        negativeMaxTtl: config.cache.negativeMaxTtl,
        maxStale: config.cache.serveStale.enabled ? config.cache.serveStale.maxStale : 0,
      })
    : null
  if (cache) metrics.setCacheStats(() => ({ entries: cache.entries, bytes: cache.bytes }))

  const ddr = new DdrDesignation()
  const stages: Stage[] = [
    new AclStage(new ClientClassifier(config.access.allow, config.groups)),
    new ClientGroupStage(),
    new PolicyStage(responder, ddr),
    new InspectAnswerStage(responder),
    new ForwardStage(pool, zonePools, now, (q, e) => log.debug({ event: 'upstream-failed', qtype: q.qtype, err: (e as Error).message }, 'no upstream answered')),
  ]
  if (config.rateLimit.queriesPerSecond > 0) stages.push(new RateLimitStage(config.rateLimit.queriesPerSecond, config.rateLimit.burst))
  if (cache) {
    stages.push(
      new CacheStage(cache, {
        serveStale: config.cache.serveStale.enabled,
        staleAnswerTtl: Math.round(config.cache.serveStale.answerTtl / 1000),
        now,
        onHit: () => metrics.cacheHit(),
        onMiss: () => metrics.cacheMiss(),
        onStale: () => metrics.cacheStaleAnswer(),
      }),
    )
  }
  const chain = compose(orderStages(stages))
  const bypass = new BypassTelemetry(metrics.registry, { groups: [...Object.keys(config.groups), 'default'], ownDdrName: config.tls.serverName && `_dns.${config.tls.serverName}`, now })
  const handler = new QueryHandler(chain, () => store.snapshot, now, new EdgeObserver(metrics, decisions, pseudonyms, () => store.snapshot.version, log, bypass))

  // Counted at scrape time: exemptions expire by themselves, without a reload.
  metrics.setExemptionsActive(() => store.snapshot.exemptions.filter((e) => e.expiresAt > now()).length)
  const pools = [pool, ...zonePools.map((z) => z.pool)]
  const closePools = () => {
    for (const p of pools) p.close()
  }

  const feedChanges = new FeedChangeTracker(metrics.registry)
  const publishLists = (snapshot: PolicySnapshot) => {
    feedChanges.update(snapshot, now())
    // A list file added by a reload is a new category: give it its own label values.
    metrics.setLabelSets({ categories: snapshot.categories.map((c) => c.name) })
    for (const c of snapshot.categories) {
      metrics.setListEntries(c.name, 'domain', c.domains.size)
      metrics.setListEntries(c.name, 'cidr', c.cidrs.size)
    }
    metrics.setListEntries('allow', 'allow', snapshot.allow.size)
    metrics.setListVersion(snapshot.version, now())
  }
  publishLists(first)
  metrics.countReload(true)
  if (first.problems.length > 0) {
    log.warn({ event: 'list-problems', problems: first.problems }, `${first.problems.length} list line(s) left out; fix them in git`)
  }
  log.info({ event: 'lists-loaded', version: first.version, categories: first.counts() }, 'lists loaded')

  const [udp, tcp, dns]: [UdpListener[], TcpListener[], BoundDns[]] = [[], [], []]
  let encrypted: EncryptedListeners | null = null
  try {
    for (const l of config.listen.dns) {
      const u = await UdpListener.bind(l.address, l.port, handler, config.listen.udpReceiveBuffer)
      udp.push(u)
      const t = await TcpListener.bind(l.address, u.port, handler, {
        idleTimeoutMs: config.listen.tcpIdleTimeout,
        maxConnections: config.listen.tcpMaxConnections,
        onConnections: (d) => metrics.tcpConnections(d),
      })
      tcp.push(t)
      dns.push({ address: l.address, port: u.port })
    }
    encrypted = await startEncryptedListeners(config, handler, metrics.registry, log, ddr)
  } catch (e) {
    await Promise.all([...udp.map((u) => u.close()), ...tcp.map((t) => t.close())])
    closePools()
    throw e
  }

  const gateway: Gateway = {
    dns,
    encrypted: encrypted.bound,
    store,
    metrics,
    pools,
    cache,
    handler,
    feedChanges,
    config: loaded,
    reload: (trigger) => store.reload(trigger),
    async close(graceMs = 2000) {
      // Stop taking queries, answer what is in flight (bounded by graceMs), then close the sockets.
      for (const u of udp) u.stopReceiving()
      const tcpClosed = Promise.all([...tcp.map((t) => t.close(graceMs)), encrypted!.close(graceMs)])
      await Promise.race([handler.drained(), new Promise((r) => setTimeout(r, graceMs).unref())])
      await Promise.all(udp.map((u) => u.close()))
      await tcpClosed
      closePools()
    },
  }
  store.setEvents({
    onReload: (result, trigger, snapshot) => {
      metrics.countReload(result.ok)
      if (result.ok) {
        publishLists(snapshot)
        log.info({ event: 'lists-reloaded', trigger, version: result.version, changed: result.changed }, 'lists reloaded')
      } else {
        log.warn({ event: 'lists-reload-refused', trigger, problems: result.problems }, 'reload refused; the last good lists keep serving')
      }
    },
  })
  return gateway
}

/** A group enforcing a category that has no list is an operator mistake (check-config reports it too). */
export function groupCategoryProblems(loaded: LoadedConfig, snapshot: PolicySnapshot): string[] {
  return Object.entries(loaded.config.groups).flatMap(([name, g]) =>
    g.enforce.filter((c) => !snapshot.has(c)).map((c) => `groups.${name}.enforce: no list for category "${c}" in ${loaded.blocklistDir}`),
  )
}

function checkGroupCategories(loaded: LoadedConfig, snapshot: PolicySnapshot): void {
  const problems = groupCategoryProblems(loaded, snapshot)
  if (problems.length > 0) throw configError(problems)
}

const configError = (problems: string[]) =>
  new DnsvaktError('DNSVAKT_ERR_CONFIG', `invalid config:\n  - ${problems.join('\n  - ')}`, { problems })

function resolveServers(servers: Loaded['upstream']['servers'], resolvConf: string): UpstreamServer[] {
  return servers.flatMap((s): UpstreamServer[] => ('fromResolvConf' in s ? readResolvConf(resolvConf).map((u) => ({ ...u, protocol: 'udp' as const })) : [s]))
}
type Loaded = LoadedConfig['config']

/** Forwarding loops in a loaded config (check-config reports them too). */
export function upstreamLoops(loaded: LoadedConfig): string[] {
  const { upstream, listen } = loaded.config
  const all = [upstream.servers, ...upstream.zones.map((z) => z.servers)].flatMap((list) => resolveServers(list, upstream.resolvConf))
  return forwardingLoops(all, listen.dns)
}

/**
 * An upstream that is one of our own listeners would forward every miss back
 * to us until the deadline: the classic case is resolv.conf naming 127.0.0.1
 * while dnsvakt listens on 127.0.0.1:53. Wildcard listeners catch loopback too.
 */
export function forwardingLoops(
  upstreams: readonly UpstreamServer[],
  listeners: readonly HostPort[],
  /** This host's addresses: a wildcard listener answers on all of them. */
  localAddresses: readonly string[] = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
): string[] {
  const wildcard = (a: string) => a === '0.0.0.0' || a === '::'
  const local = (a: string) => a.startsWith('127.') || a === '::1' || localAddresses.includes(a)
  return upstreams
    .filter((u) => listeners.some((l) => l.port === u.port && l.port !== 0 && (l.address === u.address || (wildcard(l.address) && local(u.address)))))
    .map((u) => `upstream.servers: ${upstreamLabel(u)} is dnsvakt's own listener (a forwarding loop); name the real resolvers, not resolv.conf, when it points at this host`)
}

const normaliseZone = (zone: string) => zone.toLowerCase().replace(/\.$/, '')
