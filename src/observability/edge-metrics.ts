/**
 * Metrics of the edge bounds (docs/reliability.md): TCP connections refused
 * or cut and why, upstream exchanges in flight and refused past
 * upstream.maxPending, and the rate limiter's store. None carries a client
 * label; the client of a limiting episode is in the `rate-limited` log line.
 */
import { type MetricFactory, zeroed } from './metric-factory.js'

export type TcpClosed = 'access' | 'per-client' | 'total' | 'idle' | 'output'
const TCP_CLOSED: readonly TcpClosed[] = ['access', 'per-client', 'total', 'idle', 'output']

export interface EdgeMetrics {
  /** A TCP connection refused at accept or cut by the listener (tcp-listener.ts TcpCloseReason). */
  tcpClosed(reason: TcpClosed): void
  /** A miss answered SERVFAIL because upstream.maxPending exchanges were in flight. */
  upstreamOverload(): void
  /** Read at scrape time for dnsvakt_upstream_pending and dnsvakt_rate_limit_clients. */
  setUpstreamPending(read: () => number): void
  setRateLimitClients(read: () => number): void
  rateLimitEpisode(): void
  rateLimitEviction(): void
}

export function edgeMetrics(f: MetricFactory): EdgeMetrics {
  const overload = f.counter('dnsvakt_upstream_overload_total', 'Misses answered SERVFAIL at once because upstream.maxPending exchanges were in flight.')
  let readPending: () => number = () => 0
  f.gauge('dnsvakt_upstream_pending', 'Upstream exchanges in flight.', [], 'sum', (g) => g.set(readPending()))
  const episodes = f.counter('dnsvakt_rate_limit_episodes_total', 'Times a client (address prefix) went from within its rate limit to over it.')
  const evictions = f.counter('dnsvakt_rate_limit_evictions_total', 'Rate-limit buckets evicted (least recently used) to stay within rateLimit.maxClients.')
  let readClients: () => number = () => 0
  f.gauge('dnsvakt_rate_limit_clients', 'Clients (address prefixes) with a rate-limit bucket.', [], 'sum', (g) => g.set(readClients()))
  const closed = f.counter('dnsvakt_tcp_closed_connections_total', 'TCP connections refused at accept or cut by the listener, by reason.', ['reason'])
  const closedKids = new Map(TCP_CLOSED.map((reason) => [reason, zeroed(closed, { reason })]))
  return {
    tcpClosed(reason) { closedKids.get(reason)?.inc() },
    upstreamOverload() { overload.inc() },
    setUpstreamPending(read) { readPending = read },
    setRateLimitClients(read) { readClients = read },
    rateLimitEpisode() { episodes.inc() },
    rateLimitEviction() { evictions.inc() },
  }
}
