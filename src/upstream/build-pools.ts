/**
 * The upstream pools from the `upstream` config section: the default pool and
 * one per conditional-forwarding zone, with "resolv.conf" entries replaced by
 * that file's nameservers (read once), and the hooks that report every try,
 * failure and health change to metrics and the log.
 */
import type { Logger } from 'pino'
import type { Config, UpstreamServer } from '../config/schema.js'
import type { Metrics } from '../observability/metrics.js'
import { readResolvConf } from './resolv-conf.js'
import { type PoolHooks, UpstreamPool, upstreamLabel } from './upstream-pool.js'
import type { PendingBudget } from './pending-budget.js'

type UpstreamSection = Config['upstream']

/** Every upstream as an address, zones lower-case without the trailing dot. */
export interface ResolvedUpstreams {
  readonly servers: readonly UpstreamServer[]
  readonly zones: ReadonlyArray<{ readonly zone: string; readonly servers: readonly UpstreamServer[] }>
}

/** Replaces "resolv.conf" entries with its nameservers (UDP, port 53). `onSkipped`: a line that named no IP. */
export function resolveUpstreams(section: UpstreamSection, onSkipped?: (problem: string) => void): ResolvedUpstreams {
  let fromFile: UpstreamServer[] | null = null
  const resolve = (servers: UpstreamSection['servers']): UpstreamServer[] =>
    servers.flatMap((s) => {
      if (!('fromResolvConf' in s)) return [s]
      fromFile ??= readResolvConf(section.resolvConf, onSkipped).map((u) => ({ ...u, protocol: 'udp' as const }))
      return fromFile
    })
  return {
    servers: resolve(section.servers),
    zones: section.zones.map((z) => ({ zone: z.zone.toLowerCase().replace(/\.$/, ''), servers: resolve(z.servers) })),
  }
}

/** Every server of the default list and the zones, in order (duplicates kept). */
export const allUpstreams = (r: ResolvedUpstreams): UpstreamServer[] => [...r.servers, ...r.zones.flatMap((z) => z.servers)]

/** The distinct metric labels of every upstream (`addr:port`, `tls://addr:port`, `https://host:port/path`). */
export const upstreamLabels = (r: ResolvedUpstreams): string[] => [...new Set(allUpstreams(r).map(upstreamLabel))]

export interface Pools {
  readonly pool: UpstreamPool
  readonly zonePools: ReadonlyArray<{ readonly zone: string; readonly pool: UpstreamPool }>
  /** The default pool first, then the zones'. */
  readonly all: readonly UpstreamPool[]
  close(): void
}

/** `budget`: the bound on exchanges in flight shared by every pool (upstream.maxPending). */
export function buildPools(section: UpstreamSection, resolved: ResolvedUpstreams, hooks: PoolHooks, now: () => number, budget?: PendingBudget): Pools {
  const noCase = new Set(section.randomizeCaseExcept.map(upstreamLabel))
  const options = {
    budget,
    localAddress: section.sourceAddress,
    strategy: section.strategy,
    tryTimeoutMs: section.tryTimeout,
    deadlineMs: section.deadline,
    failuresBeforeDown: section.failuresBeforeDown,
    probeIntervalMs: section.probeInterval,
    caFile: section.caFile,
    now,
  }
  // The whole server: tls:// and https:// carry their name, pins and path (config/encrypted-schema.ts).
  const make = (servers: readonly UpstreamServer[]) =>
    new UpstreamPool(servers.map((s) => ({ ...s, randomizeCase: section.randomizeCase && !noCase.has(upstreamLabel(s)) })), options, hooks)
  const pool = make(resolved.servers)
  const zonePools = resolved.zones.map((z) => ({ zone: z.zone, pool: make(z.servers) }))
  const all = [pool, ...zonePools.map((z) => z.pool)]
  return {
    pool,
    zonePools,
    all,
    close() {
      for (const p of all) p.close()
    },
  }
}

export type UpstreamMetrics = Pick<Metrics, 'upstreamTry' | 'upstreamFailure' | 'upstreamIgnored' | 'upstreamLatency' | 'setUpstreamUp'>

/** Tries, failures, stray replies and latencies to metrics; health changes to metrics and the log. */
export function poolHooks(metrics: UpstreamMetrics, log: Logger): PoolHooks {
  return {
    onTry: (u) => metrics.upstreamTry(u),
    onFailure: (u, reason) => metrics.upstreamFailure(u, reason),
    onIgnored: (u, reason) => metrics.upstreamIgnored(u, reason),
    onLatency: (u, s) => metrics.upstreamLatency(u, s),
    onHealthChange: (u, up) => {
      metrics.setUpstreamUp(u, up)
      if (up) log.info({ event: 'upstream-up', upstream: u }, 'upstream is answering again')
      else log.warn({ event: 'upstream-down', upstream: u }, 'upstream marked down after repeated failures')
    },
  }
}
