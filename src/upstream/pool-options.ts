/**
 * How an upstream pool (upstream-pool.ts) is tuned: strategy, per-try and
 * per-exchange time limits, health thresholds, the clocks and randomness
 * (injected by tests), source addresses, the shared in-flight budget, the
 * UDP socket rotation and the CA bundle for encrypted upstreams.
 */
import type { PendingBudget } from './pending-budget.js'
import type { UdpExchangerOptions } from './udp-exchange.js'

/** Defaults: sequential, tryTimeoutMs 1000, deadlineMs 3000, failuresBeforeDown 3, probeIntervalMs 5000. */
export interface PoolOptions {
  readonly strategy?: 'sequential' | 'round-robin'
  readonly tryTimeoutMs?: number
  readonly deadlineMs?: number
  readonly failuresBeforeDown?: number
  readonly probeIntervalMs?: number
  /** Wall clock in ms, for probe scheduling (tests move it). */
  readonly now?: () => number
  /** Monotonic ms with sub-ms resolution: latencies and `ms` (default performance.now). */
  readonly hrtime?: () => number
  /** Uniform integer in [0, max) for IDs and socket choice (default crypto.randomInt). */
  readonly randomInt?: (max: number) => number
  /** Local address to send from, per family (default: any). Tests bind loopback. */
  readonly localAddress?: { readonly v4?: string; readonly v6?: string }
  /** Global bound on exchanges in flight, shared by every pool; past it exchange() rejects with _UPSTREAM_OVERLOAD. */
  readonly budget?: PendingBudget
  /** UDP socket pool tuning. */
  readonly udp?: Pick<UdpExchangerOptions, 'sockets' | 'queriesPerSocket' | 'socketMaxAgeMs'>
  /** CA bundle for tls/https upstreams (default: the system CAs). */
  readonly caFile?: string | null
}
