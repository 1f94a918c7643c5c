/**
 * The upstream metrics: tries, failures and ignored replies per upstream and
 * reason, exchange latency, and health. Upstreams are the configured ones
 * (`addr:port`); an unknown label folds into `other`, which never gets an
 * `up` series (a 0 there would page someone). Children are resolved once into
 * arrays indexed by upstream and reason.
 */
import { type Inc, type MetricFactory, type Obs, OTHER, zeroed } from './metric-factory.js'

export type UpstreamFailure = 'timeout' | 'network' | 'servfail' | 'refused' | 'bad-reply'
export type UpstreamIgnored = 'wrong-source' | 'wrong-id' | 'wrong-question' | 'malformed'

const FAILURES: readonly UpstreamFailure[] = ['timeout', 'network', 'servfail', 'refused', 'bad-reply']
const IGNORED: readonly UpstreamIgnored[] = ['wrong-source', 'wrong-id', 'wrong-question', 'malformed']
const UPSTREAM_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3]

export interface UpstreamMetricsApi {
  upstreamTry(upstream: string): void
  upstreamFailure(upstream: string, reason: UpstreamFailure): void
  upstreamIgnored(upstream: string, reason: UpstreamIgnored): void
  upstreamLatency(upstream: string, seconds: number): void
  setUpstreamUp(upstream: string, up: boolean): void
}

export function upstreamMetrics(f: MetricFactory, upstreams: readonly string[]): UpstreamMetricsApi {
  const ups = [...new Set(upstreams)]
  const upIdx = new Map(ups.map((u, i) => [u, i]))
  const names = [...ups, OTHER]
  const tries = f.counter('dnsvakt_upstream_queries_total', 'Queries sent to each upstream, retries included.', ['upstream'])
  const failures = f.counter('dnsvakt_upstream_failures_total', 'Failed upstream exchanges by reason.', ['upstream', 'reason'])
  const ignored = f.counter('dnsvakt_upstream_ignored_replies_total', 'Upstream datagrams discarded as not an answer to our query (RFC 5452).', ['upstream', 'reason'])
  const seconds = f.histogram('dnsvakt_upstream_duration_seconds', 'Upstream exchange time for answered queries.', ['upstream'], UPSTREAM_BUCKETS)
  const upGauge = f.gauge('dnsvakt_upstream_up', 'Whether the upstream is considered healthy (1) or not (0).', ['upstream'], 'min')
  const known = (i: number): boolean => i < ups.length
  const child = (c: typeof tries, i: number, labels: Record<string, string>): Inc => (known(i) ? zeroed(c, labels) : c.labels(labels))
  const tryKids = names.map((upstream, i) => child(tries, i, { upstream }))
  const failKids = names.map((upstream, i) => FAILURES.map((reason) => child(failures, i, { upstream, reason })))
  const ignKids = names.map((upstream, i) => IGNORED.map((reason) => child(ignored, i, { upstream, reason })))
  const secKids: Obs[] = names.map((upstream, i) => {
    if (known(i)) seconds.zero({ upstream })
    return seconds.labels(upstream)
  })
  // Optimistic start, like the pool: every upstream is tried until it fails.
  const upKids = ups.map((upstream) => {
    const g = upGauge.labels(upstream)
    g.set(1)
    return g
  })
  const failIdx = new Map(FAILURES.map((r, i) => [r, i]))
  const ignIdx = new Map(IGNORED.map((r, i) => [r, i]))
  const up = (upstream: string): number => upIdx.get(upstream) ?? ups.length
  return {
    upstreamTry(upstream) { tryKids[up(upstream)]!.inc() },
    upstreamFailure(upstream, reason) { failKids[up(upstream)]![failIdx.get(reason) ?? 0]!.inc() },
    upstreamIgnored(upstream, reason) { ignKids[up(upstream)]![ignIdx.get(reason) ?? 0]!.inc() },
    upstreamLatency(upstream, s) { secKids[up(upstream)]!.observe(s) },
    setUpstreamUp(upstream, isUp) { upKids[upIdx.get(upstream) ?? -1]?.set(isUp ? 1 : 0) },
  }
}
