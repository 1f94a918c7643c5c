/**
 * Every metric of dnsvakt, on a registry passed in (never prom-client's
 * global one). Names are dnsvakt_<area>_<name>_<unit>; labels come only from
 * closed sets; docs/metrics.md is the contract and a test keeps them equal.
 *
 * Hot path: the metrics touched on every query (queries, answer latency,
 * cache hits/misses) are typed-array cells read at scrape time
 * (array-metrics.ts): a prom-client child inc() costs ~390 ns and observe()
 * ~420 ns. The rest are prom-client children resolved here, once, into
 * arrays indexed by small integers.
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client'
import { REPLY_SOURCES, type CaughtBy, type ReplySource } from '../pipeline/types.js'
import { TRANSPORTS, type Transport } from '../pipeline/transport.js'
import { localDay, type LocalDay } from './client-pseudonym.js'
import { ArrayCounter, ArrayHistogram } from './array-metrics.js'

export type QueryResult = ReplySource | 'dropped'
export type UpstreamFailure = 'timeout' | 'network' | 'servfail' | 'refused' | 'bad-reply'
export type UpstreamIgnored = 'wrong-source' | 'wrong-id' | 'wrong-question' | 'malformed'
export type ListKind = 'domain' | 'cidr' | 'allow'
export interface CacheStats { entries: number; bytes: number }

export const QTYPE_LABELS = ['A', 'AAAA', 'CNAME', 'HTTPS', 'MX', 'TXT', 'PTR', 'SRV', 'NS', 'SOA', 'SVCB', 'ANY', 'other'] as const
const QTYPE_NUMBERS = [1, 28, 5, 65, 15, 16, 12, 33, 2, 6, 64, 255]
/** The qtype label for a type number: one of QTYPE_LABELS, 'other' for anything else. */
export const qtypeLabel = (qtype: number): string => QTYPE_LABELS[QTYPE_NUMBERS.indexOf(qtype)] ?? 'other'

const TRANSPORT_INDEX: Record<Transport, number> = { udp: 0, tcp: 1, dot: 2, doh: 3 }
const RESULTS: readonly QueryResult[] = [...REPLY_SOURCES, 'dropped']
const FAILURES: readonly UpstreamFailure[] = ['timeout', 'network', 'servfail', 'refused', 'bad-reply']
const IGNORED: readonly UpstreamIgnored[] = ['wrong-source', 'wrong-id', 'wrong-question', 'malformed']
const CAUGHT_BY: readonly CaughtBy[] = ['name', 'cname', 'ip']
/** Where unknown groups, categories and upstreams fold, so input never grows a label. */
const OTHER = 'other'
// 20 us (a cached answer) to 3 s (a slow upstream plus retry).
const ANSWER_BUCKETS = [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3]
const UPSTREAM_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3]
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
}

export interface Metrics {
  readonly registry: Registry
  /** Once per query at the listener edge. `dropped`: no reply was sent (not observed in the histogram). */
  countQuery(transport: Transport, qtype: number, result: QueryResult, seconds: number): void
  /** A blocked answer; the pseudonym (never an address) feeds the distinct-clients-today gauge. */
  countBlocked(category: string, group: string, caughtBy: CaughtBy, clientPseudonym: string): void
  countExemption(category: string, group: string): void
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
  tcpConnections(delta: number): void
  /** After a config reload: new groups/categories get their own children; old ones stay. */
  setLabelSets(sets: { groups?: readonly string[]; categories?: readonly string[] }): void
}

type Inc = { inc(n?: number): void }
type Obs = { observe(v: number): void }
interface Cell { blocked: Inc[]; exempt: Inc; clients: Set<string>; known: boolean; shown: boolean }

export function createMetrics(registry: Registry, opts: MetricsOptions): Metrics {
  const now = opts.now ?? Date.now
  const cap = opts.distinctClientsCap ?? DISTINCT_CLIENTS_CAP
  const registers = [registry]
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers })
  // `collect` runs at scrape time, so values read from elsewhere cost nothing per query.
  const gauge = (name: string, help: string, labelNames: string[] = [], aggregator: 'sum' | 'max' | 'min' = 'sum', collect?: (g: Gauge<string>) => void) =>
    new Gauge({ name, help, labelNames, registers, aggregator, ...(collect && { collect(this: Gauge<string>) { collect(this) } }) })
  const zeroed = (c: Counter<string>, labels: Record<string, string>): Inc => { const ch = c.labels(labels); ch.inc(0); return ch }

  // dns
  // Cell index: ((transport * qtypes) + qtype) * results + result.
  const queries = new ArrayCounter('dnsvakt_dns_queries_total', 'DNS queries by transport, query type and how they were answered.',
    TRANSPORTS.flatMap((transport) => QTYPE_LABELS.flatMap((qtype) => RESULTS.map((result) => ({ transport, qtype, result })))), registry)
  const answerSeconds = new ArrayHistogram('dnsvakt_dns_answer_duration_seconds', 'Time from arrival to reply sent, by result.', ANSWER_BUCKETS,
    REPLY_SOURCES.map((result) => ({ result })), registry)
  const resultIndex = new Map(RESULTS.map((r, i) => [r, i]))
  // A 256-entry table: the qtype lookup is one array read.
  const qtypeIndex = new Uint8Array(256).fill(QTYPE_LABELS.length - 1)
  QTYPE_NUMBERS.forEach((n, i) => { qtypeIndex[n] = i })

  // policy
  const blocked = counter('dnsvakt_policy_blocked_total', 'Blocked answers by category, client group and what caught them.', ['category', 'group', 'caught_by'])
  const exemptions = counter('dnsvakt_policy_exemptions_applied_total', 'Answers let through by an exemption, by the category it lifted.', ['category', 'group'])
  let readExemptionsActive: () => number = () => 0
  gauge('dnsvakt_policy_exemptions_active', 'Exemptions in force now.', [], 'max', (g) => g.set(readExemptionsActive()))
  const cats: string[] = [], groups: string[] = [], catIdx = new Map<string, number>(), groupIdx = new Map<string, number>()
  const cells: Cell[][] = []
  let day: LocalDay = localDay(now())
  const rollover = (t: number): void => {
    if (t >= day.start && t < day.end) return
    day = localDay(t)
    for (const row of cells) for (const cell of row) cell.clients.clear()
  }
  gauge('dnsvakt_policy_blocked_clients_today', 'Distinct clients per group blocked in each category since local midnight (capped per series).', ['category', 'group'], 'max', (g) => {
    rollover(now())
    cells.forEach((row, c) => row.forEach((cell, gi) => {
      if (cell.known || cell.shown) g.set({ category: cats[c] ?? OTHER, group: groups[gi] ?? OTHER }, cell.clients.size)
    }))
  })
  const addValues = (values: readonly string[], list: string[], index: Map<string, number>): void => {
    for (const v of [OTHER, ...values]) if (!index.has(v)) { index.set(v, list.length); list.push(v) }
  }
  const fillCells = (): void => {
    cats.forEach((category, c) => {
      const row = (cells[c] ??= [])
      groups.forEach((group, g) => {
        if (row[g]) return
        const known = category !== OTHER && group !== OTHER
        const make = (m: Counter<string>, labels: Record<string, string>): Inc => (known ? zeroed(m, labels) : m.labels(labels))
        row[g] = {
          blocked: CAUGHT_BY.map((caught_by) => make(blocked, { category, group, caught_by })),
          exempt: make(exemptions, { category, group }), clients: new Set(), known, shown: false,
        }
      })
    })
  }
  const setLabelSets = (sets: { groups?: readonly string[]; categories?: readonly string[] }): void => {
    addValues(sets.categories ?? [], cats, catIdx)
    addValues(sets.groups ?? [], groups, groupIdx)
    fillCells()
  }
  setLabelSets(opts)
  // Index 0 is always 'other' (addValues puts it first).
  const cell = (category: string, group: string): Cell => cells[catIdx.get(category) ?? 0]![groupIdx.get(group) ?? 0]!

  // cache
  const cacheHits = new ArrayCounter('dnsvakt_cache_hits_total', 'Cache lookups answered from a fresh entry.', [], registry)
  const cacheMisses = new ArrayCounter('dnsvakt_cache_misses_total', 'Cache lookups that went upstream.', [], registry)
  const cacheStale = counter('dnsvakt_cache_stale_answers_total', 'Expired entries served because the upstream failed (RFC 8767).')
  let readCache: () => CacheStats = () => ({ entries: 0, bytes: 0 })
  gauge('dnsvakt_cache_entries', 'Entries in the answer cache.', [], 'sum', (g) => g.set(readCache().entries))
  gauge('dnsvakt_cache_bytes', 'Bytes of answer wire data held by the cache.', [], 'sum', (g) => g.set(readCache().bytes))

  // upstream
  const ups = [...new Set(opts.upstreams)]
  const upIdx = new Map(ups.map((u, i) => [u, i]))
  const upNames = [...ups, OTHER]
  const upTries = counter('dnsvakt_upstream_queries_total', 'Queries sent to each upstream, retries included.', ['upstream'])
  const upFailures = counter('dnsvakt_upstream_failures_total', 'Failed upstream exchanges by reason.', ['upstream', 'reason'])
  const upIgnored = counter('dnsvakt_upstream_ignored_replies_total', 'Upstream datagrams discarded as not an answer to our query (RFC 5452).', ['upstream', 'reason'])
  const upSeconds = new Histogram({ name: 'dnsvakt_upstream_duration_seconds', help: 'Upstream exchange time for answered queries.', labelNames: ['upstream'], buckets: UPSTREAM_BUCKETS, registers })
  const upUp = gauge('dnsvakt_upstream_up', 'Whether the upstream is considered healthy (1) or not (0).', ['upstream'], 'min')
  const isKnown = (i: number): boolean => i < ups.length
  const upTryKids = upNames.map((upstream, i) => (isKnown(i) ? zeroed(upTries, { upstream }) : upTries.labels({ upstream })))
  const upFailKids = upNames.map((upstream, i) => FAILURES.map((reason) => (isKnown(i) ? zeroed(upFailures, { upstream, reason }) : upFailures.labels({ upstream, reason }))))
  const upIgnKids = upNames.map((upstream, i) => IGNORED.map((reason) => (isKnown(i) ? zeroed(upIgnored, { upstream, reason }) : upIgnored.labels({ upstream, reason }))))
  const upSecKids: Obs[] = upNames.map((upstream, i) => { if (isKnown(i)) upSeconds.zero({ upstream }); return upSeconds.labels(upstream) })
  // Optimistic start, like the pool: every upstream is tried until it fails.
  const upUpKids = ups.map((upstream) => { const g = upUp.labels(upstream); g.set(1); return g })
  const failIdx = new Map(FAILURES.map((r, i) => [r, i]))
  const ignIdx = new Map(IGNORED.map((r, i) => [r, i]))
  const up = (upstream: string): number => upIdx.get(upstream) ?? ups.length

  // lists
  const listEntries = gauge('dnsvakt_lists_entries', 'Entries loaded per category and kind.', ['category', 'kind'], 'max')
  const reloads = counter('dnsvakt_lists_reloads_total', 'List reload attempts by result.', ['result'])
  const reloadKids = { success: zeroed(reloads, { result: 'success' }), failure: zeroed(reloads, { result: 'failure' }) }
  const lastSuccess = gauge('dnsvakt_lists_last_success_timestamp_seconds', 'Unix time of the last successful list reload.', [], 'max')
  const commitTime = gauge('dnsvakt_lists_commit_timestamp_seconds', 'Unix time of the git commit of the active lists (absent for non-git lists).', [], 'max')
  const listInfo = gauge('dnsvakt_lists_info', 'Always 1; the version label is the active list version (git commit or content hash).', ['version'], 'max')
  // Absent until known: a 0 would read as "lists from 1970" to the staleness alert.
  lastSuccess.remove()
  commitTime.remove()
  let listVersion: string | undefined

  // server
  const tcp = gauge('dnsvakt_tcp_connections', 'Open client TCP connections.')
  gauge('dnsvakt_build_info', 'Always 1; labels carry the dnsvakt and Node.js versions.', ['version', 'node'], 'max')
    .set({ version: opts.version ?? 'unknown', node: process.version }, 1)
  if (opts.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'dnsvakt_' })
    // These three are gauges named *_total (promtool lint fails them); the
    // per-type gauges without the suffix carry the same numbers, so sum() those.
    for (const n of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`dnsvakt_nodejs_active_${n}_total`)
  }

  return {
    registry,
    countQuery(transport, qtype, result, seconds) {
      const r = resultIndex.get(result) ?? 0
      const q = qtype < 256 ? qtypeIndex[qtype]! : QTYPE_LABELS.length - 1
      queries.cells[(TRANSPORT_INDEX[transport] * QTYPE_LABELS.length + q) * RESULTS.length + r]++
      if (r < REPLY_SOURCES.length) answerSeconds.observe(r, seconds)
    },
    countBlocked(category, group, caughtBy, clientPseudonym) {
      const c = cell(category, group)
      c.blocked[caughtBy === 'name' ? 0 : caughtBy === 'cname' ? 1 : 2]!.inc()
      rollover(now())
      // Bounded memory: at most `cap` pseudonyms per series (measured ~57 B
      // each, so ~6 MB at the 100k default); past it the gauge reads the cap, "at least".
      if (c.clients.size < cap) c.clients.add(clientPseudonym)
      c.shown = true
    },
    countExemption(category, group) { cell(category, group).exempt.inc() },
    setExemptionsActive(n) { readExemptionsActive = typeof n === 'number' ? () => n : n },
    cacheHit() { cacheHits.cells[0]++ },
    cacheMiss() { cacheMisses.cells[0]++ },
    cacheStaleAnswer() { cacheStale.inc() },
    setCacheStats(read) { readCache = read },
    upstreamTry(upstream) { upTryKids[up(upstream)]!.inc() },
    upstreamFailure(upstream, reason) { upFailKids[up(upstream)]![failIdx.get(reason) ?? 0]!.inc() },
    upstreamIgnored(upstream, reason) { upIgnKids[up(upstream)]![ignIdx.get(reason) ?? 0]!.inc() },
    upstreamLatency(upstream, seconds) { upSecKids[up(upstream)]!.observe(seconds) },
    setUpstreamUp(upstream, isUp) { upUpKids[upIdx.get(upstream) ?? -1]?.set(isUp ? 1 : 0) },
    setListEntries(category, kind, n) { listEntries.set({ category: catIdx.has(category) ? category : OTHER, kind }, n) },
    countReload(ok) { (ok ? reloadKids.success : reloadKids.failure).inc() },
    setListVersion(version, lastSuccessMs, commitTimeMs) {
      // One series only: drop the old version's label set before setting the new one.
      if (listVersion !== undefined && listVersion !== version) listInfo.remove({ version: listVersion })
      listVersion = version
      listInfo.set({ version }, 1)
      lastSuccess.set(lastSuccessMs / 1000)
      if (commitTimeMs === undefined) commitTime.remove()
      else commitTime.set(commitTimeMs / 1000)
    },
    tcpConnections(delta) { tcp.inc(delta) },
    setLabelSets,
  }
}
