/**
 * Every metric of dnsvakt, on a registry passed in (never prom-client's
 * global one): the Metrics interface the rest of the code reports to, and
 * its assembly from one builder per area (dns, policy, shadow, cache, upstream,
 * lists, server; the larger ones in policy-metrics.ts, shadow-metrics.ts and upstream-metrics.ts). Names are dnsvakt_<area>_<name>_<unit>; labels come only from
 * closed sets; docs/metrics.md is the contract and a test keeps them equal.
 *
 * Hot path: the metrics touched on every query (queries, answer latency,
 * cache hits/misses) are typed-array cells read at scrape time
 * (array-metrics.ts): a prom-client child inc() costs ~390 ns and observe()
 * ~420 ns. The rest are prom-client children resolved here, once, into
 * arrays indexed by small integers.
 */
import { collectDefaultMetrics, type Registry } from 'prom-client'
import { REPLY_SOURCES, type CaughtBy, type ReplySource } from '../pipeline/types.js'
import { TRANSPORTS, type Transport } from '../pipeline/transport.js'
import { ArrayCounter, ArrayHistogram } from './array-metrics.js'
import { type MetricFactory, metricFactory, OTHER, zeroed } from './metric-factory.js'
import { type EdgeMetrics, edgeMetrics, type TcpClosed } from './edge-metrics.js'
import { droppedLinesMetric } from './log-drops.js'
import type { NewClientsFeed } from './new-clients-feed.js'
import { policyMetrics } from './policy-metrics.js'
import { type ShadowMetrics, shadowMetrics } from './shadow-metrics.js'
import { type UpstreamFailure, type UpstreamIgnored, upstreamMetrics } from './upstream-metrics.js'

export type { TcpClosed, UpstreamFailure, UpstreamIgnored }
export type QueryResult = ReplySource | 'dropped'
export type ListKind = 'domain' | 'cidr' | 'allow'
export interface CacheStats { entries: number; bytes: number }

export const QTYPE_LABELS = ['A', 'AAAA', 'CNAME', 'HTTPS', 'MX', 'TXT', 'PTR', 'SRV', 'NS', 'SOA', 'SVCB', 'ANY', 'other'] as const
const QTYPE_NUMBERS = [1, 28, 5, 65, 15, 16, 12, 33, 2, 6, 64, 255]
/** The qtype label for a type number: one of QTYPE_LABELS, 'other' for anything else. */
export const qtypeLabel = (qtype: number): string => QTYPE_LABELS[QTYPE_NUMBERS.indexOf(qtype)] ?? 'other'

const TRANSPORT_INDEX: Record<Transport, number> = { udp: 0, tcp: 1, dot: 2, doh: 3 }
const RESULTS: readonly QueryResult[] = [...REPLY_SOURCES, 'dropped']
// 20 us (a cached answer) to 3 s (a slow upstream plus retry).
const ANSWER_BUCKETS = [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3]
/** Default memory bound per (category, group) pseudonym set; see countBlocked. */
export const DISTINCT_CLIENTS_CAP = 100_000

export interface MetricsOptions {
  now?: () => number
  upstreams: readonly string[]
  groups: readonly string[]
  categories: readonly string[]
  /** dnsvakt version for dnsvakt_build_info. */
  version?: string
  /** Register prom-client's process metrics with prefix dnsvakt_ (default true). */
  defaultMetrics?: boolean
  distinctClientsCap?: number
  /** (category, group) pairs in shadow (groups.<name>.shadow): their would-block series start at 0. */
  shadowPairs?: ReadonlyArray<{ readonly category: string; readonly group: string }>
}

export interface Metrics extends EdgeMetrics, ShadowMetrics {
  readonly registry: Registry
  /** Once per query at the listener edge. `dropped`: no reply was sent (not observed in the histogram). */
  countQuery(transport: Transport, qtype: number, result: QueryResult, seconds: number): void
  /** A blocked answer; the pseudonym (never an address) feeds the distinct-clients-today gauge. */
  countBlocked(category: string, group: string, caughtBy: CaughtBy, clientPseudonym: string, at?: number): void
  countExemption(category: string, group: string): void
  /** Each pseudonym new to a distinct-clients series today (policy-metrics.ts; a cluster worker listens). */
  readonly newClients: NewClientsFeed
  /** A count, or a function read at scrape time (exemptions expire by themselves, without a reload). */
  setExemptionsActive(n: number | (() => number)): void
  cacheHit(): void
  cacheMiss(): void
  cacheStaleAnswer(): void
  /** Read at scrape time for dnsvakt_cache_entries and dnsvakt_cache_bytes. */
  setCacheStats(read: () => CacheStats): void
  upstreamTry(upstream: string): void
  upstreamFailure(upstream: string, reason: UpstreamFailure): void
  upstreamIgnored(upstream: string, reason: UpstreamIgnored): void
  upstreamLatency(upstream: string, seconds: number): void
  /** Unknown upstreams are ignored here: an 'other' series at 0 would page someone. */
  setUpstreamUp(upstream: string, up: boolean): void
  setListEntries(category: string, kind: ListKind, n: number): void
  countReload(ok: boolean): void
  /** After a successful reload: the active version, when it succeeded and, for git lists, the commit time. */
  setListVersion(version: string, lastSuccessMs: number, commitTimeMs?: number): void
  /** 1 while the last good lists are served because the list folder was refused at start. */
  setServingLastGood(serving: boolean): void
  tcpConnections(delta: number): void
  /** After a config reload: new groups/categories get their own children; old ones stay. */
  setLabelSets(sets: { groups?: readonly string[]; categories?: readonly string[] }): void
}

export function createMetrics(registry: Registry, opts: MetricsOptions): Metrics {
  const f = metricFactory(registry)
  const now = opts.now ?? Date.now
  // Areas register in this order, which is the order of the exposition.
  const dns = dnsMetrics(registry)
  const policy = policyMetrics(f, { groups: opts.groups, categories: opts.categories }, now, opts.distinctClientsCap ?? DISTINCT_CLIENTS_CAP)
  return {
    registry,
    ...dns,
    ...policy,
    ...shadowMetrics(f, { groups: opts.groups, shadowPairs: opts.shadowPairs }, policy.knowsCategory),
    ...cacheMetrics(f),
    ...upstreamMetrics(f, opts.upstreams),
    ...listMetrics(f, policy.knowsCategory),
    ...edgeMetrics(f),
    ...serverMetrics(f, opts),
  }
}

/** Per query: typed-array cells, one index computation and an increment. */
function dnsMetrics(registry: Registry): Pick<Metrics, 'countQuery'> {
  // Cell index: ((transport * qtypes) + qtype) * results + result.
  const queries = new ArrayCounter('dnsvakt_dns_queries_total', 'DNS queries by transport, query type and how they were answered.',
    TRANSPORTS.flatMap((transport) => QTYPE_LABELS.flatMap((qtype) => RESULTS.map((result) => ({ transport, qtype, result })))), registry)
  const answerSeconds = new ArrayHistogram('dnsvakt_dns_answer_duration_seconds', 'Time from arrival to reply sent, by result.', ANSWER_BUCKETS,
    REPLY_SOURCES.map((result) => ({ result })), registry)
  const resultIndex = new Map(RESULTS.map((r, i) => [r, i]))
  // A 256-entry table: the qtype lookup is one array read.
  const qtypeIndex = new Uint8Array(256).fill(QTYPE_LABELS.length - 1)
  QTYPE_NUMBERS.forEach((n, i) => { qtypeIndex[n] = i })
  return {
    countQuery(transport, qtype, result, seconds) {
      const r = resultIndex.get(result) ?? 0
      const q = qtype < 256 ? qtypeIndex[qtype]! : QTYPE_LABELS.length - 1
      queries.cells[(TRANSPORT_INDEX[transport] * QTYPE_LABELS.length + q) * RESULTS.length + r]++
      if (r < REPLY_SOURCES.length) answerSeconds.observe(r, seconds)
    },
  }
}

function cacheMetrics(f: MetricFactory): Pick<Metrics, 'cacheHit' | 'cacheMiss' | 'cacheStaleAnswer' | 'setCacheStats'> {
  const hits = new ArrayCounter('dnsvakt_cache_hits_total', 'Cache lookups answered from a fresh entry.', [], f.registry)
  const misses = new ArrayCounter('dnsvakt_cache_misses_total', 'Cache lookups that went upstream.', [], f.registry)
  const stale = f.counter('dnsvakt_cache_stale_answers_total', 'Expired entries served because the upstream failed (RFC 8767).')
  let read: () => CacheStats = () => ({ entries: 0, bytes: 0 })
  f.gauge('dnsvakt_cache_entries', 'Entries in the answer cache.', [], 'sum', (g) => g.set(read().entries))
  f.gauge('dnsvakt_cache_bytes', 'Bytes of answer wire data held by the cache.', [], 'sum', (g) => g.set(read().bytes))
  return {
    cacheHit() { hits.cells[0]++ },
    cacheMiss() { misses.cells[0]++ },
    cacheStaleAnswer() { stale.inc() },
    setCacheStats(r) { read = r },
  }
}

function listMetrics(f: MetricFactory, knowsCategory: (c: string) => boolean): Pick<Metrics, 'setListEntries' | 'countReload' | 'setListVersion' | 'setServingLastGood'> {
  const entries = f.gauge('dnsvakt_lists_entries', 'Entries loaded per category and kind.', ['category', 'kind'], 'max')
  const reloads = f.counter('dnsvakt_lists_reloads_total', 'List reload attempts by result.', ['result'])
  const reloadKids = { success: zeroed(reloads, { result: 'success' }), failure: zeroed(reloads, { result: 'failure' }) }
  const lastSuccess = f.gauge('dnsvakt_lists_last_success_timestamp_seconds', 'Unix time of the last successful list reload.', [], 'max')
  const commitTime = f.gauge('dnsvakt_lists_commit_timestamp_seconds', 'Unix time of the git commit of the active lists (absent for non-git lists).', [], 'max')
  const servingLastGood = f.gauge('dnsvakt_lists_serving_last_good', '1 while the last good lists (blocking.stateDir) are served because the list folder was refused at start.', [], 'max')
  const info = f.gauge('dnsvakt_lists_info', 'Always 1; the version label is the active list version (git commit or content hash).', ['version'], 'max')
  // Absent until known: a 0 would read as "lists from 1970" to the staleness alert.
  lastSuccess.remove()
  commitTime.remove()
  let current: string | undefined
  return {
    setListEntries(category, kind, n) { entries.set({ category: knowsCategory(category) ? category : OTHER, kind }, n) },
    countReload(ok) { (ok ? reloadKids.success : reloadKids.failure).inc() },
    setListVersion(version, lastSuccessMs, commitTimeMs) {
      // One series only: drop the old version's label set before setting the new one.
      if (current !== undefined && current !== version) info.remove({ version: current })
      current = version
      info.set({ version }, 1)
      lastSuccess.set(lastSuccessMs / 1000)
      if (commitTimeMs === undefined) commitTime.remove()
      else commitTime.set(commitTimeMs / 1000)
    },
    setServingLastGood(serving) { servingLastGood.set(serving ? 1 : 0) },
  }
}

function serverMetrics(f: MetricFactory, opts: MetricsOptions): Pick<Metrics, 'tcpConnections'> {
  const tcp = f.gauge('dnsvakt_tcp_connections', 'Open client TCP connections.')
  f.gauge('dnsvakt_build_info', 'Always 1; labels carry the dnsvakt and Node.js versions.', ['version', 'node'], 'max')
    .set({ version: opts.version ?? 'unknown', node: process.version }, 1)
  droppedLinesMetric(f)
  if (opts.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: f.registry, prefix: 'dnsvakt_' })
    // These three are gauges named *_total (promtool lint fails them); the
    // per-type gauges without the suffix carry the same numbers, so sum() those.
    for (const n of ['handles', 'requests', 'resources']) f.registry.removeSingleMetric(`dnsvakt_nodejs_active_${n}_total`)
  }
  return { tcpConnections(delta) { tcp.inc(delta) } }
}
