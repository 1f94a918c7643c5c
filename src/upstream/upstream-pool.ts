/**
 * An ordered set of upstreams with failover. `sequential` always starts at the
 * first upstream (the usual primary/secondary setup); `round-robin` starts at
 * the next one each query, then fails over through the rest. Each try has its
 * own timeout and the whole exchange a deadline. Failover happens on timeout,
 * network error, SERVFAIL and REFUSED; a UDP reply with TC=1 is retried over
 * TCP at the same upstream. An upstream is marked down after N consecutive
 * failures and skipped, so a dead one does not cost every query a timeout;
 * once every probe interval one query is let through to see if it is back.
 */
import { DnsvaktError } from '../errors.js'
import { FLAG, RCODE } from '../dns/constants.js'
import { tcpExchange } from './tcp-exchange.js'
import { type IgnoredReason, UdpExchanger } from './udp-exchange.js'

export interface Upstream {
  readonly address: string
  readonly port: number
  readonly protocol?: 'udp' | 'tcp'
}

export interface PoolOptions {
  readonly strategy: 'sequential' | 'round-robin'
  readonly tryTimeoutMs: number
  readonly deadlineMs: number
  readonly failuresBeforeDown: number
  readonly probeIntervalMs: number
  readonly now?: () => number
}

export type FailureReason = 'timeout' | 'network' | 'servfail' | 'refused' | 'bad-reply'

export interface PoolHooks {
  onTry?(upstream: string): void
  onFailure?(upstream: string, reason: FailureReason): void
  onLatency?(upstream: string, seconds: number): void
  onHealthChange?(upstream: string, up: boolean): void
  onIgnored?(upstream: string, reason: IgnoredReason): void
}

interface State {
  readonly upstream: Upstream
  readonly label: string
  failures: number
  up: boolean
  /** ms: when a down upstream may next be tried. */
  nextProbe: number
}

export class UpstreamPool {
  private readonly states: State[]
  private readonly udp: UdpExchanger
  private readonly now: () => number
  private next = 0

  constructor(
    upstreams: readonly Upstream[],
    private readonly opts: PoolOptions,
    private readonly hooks: PoolHooks = {},
  ) {
    if (upstreams.length === 0) throw new DnsvaktError('DNSVAKT_ERR_CONFIG', 'an upstream pool needs at least one upstream')
    this.states = upstreams.map((u) => ({ upstream: u, label: upstreamLabel(u), failures: 0, up: true, nextProbe: 0 }))
    this.udp = new UdpExchanger((u, r) => hooks.onIgnored?.(u, r))
    this.now = opts.now ?? Date.now
  }

  /**
   * Sends a complete query message and resolves with the first good reply.
   * When every upstream answered SERVFAIL or REFUSED, that answer is returned
   * (the client sees SERVFAIL either way); when none answered in time, it
   * rejects with DNSVAKT_ERR_UPSTREAM_DEADLINE.
   */
  async exchange(query: Buffer): Promise<{ wire: Buffer; upstream: string; ms: number }> {
    const started = performance.now()
    const deadline = started + this.opts.deadlineMs
    let lastBad: { wire: Buffer; upstream: string } | null = null
    let lastError: unknown = null
    for (const s of this.order()) {
      const left = deadline - performance.now()
      if (left <= 0) break
      this.hooks.onTry?.(s.label)
      const t0 = performance.now()
      try {
        const wire = await this.tryOne(s.upstream, query, Math.min(this.opts.tryTimeoutMs, left))
        this.hooks.onLatency?.(s.label, (performance.now() - t0) / 1000)
        const rcode = wire.readUInt16BE(2) & 0xf
        if (rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED) {
          this.failed(s, rcode === RCODE.SERVFAIL ? 'servfail' : 'refused')
          lastBad = { wire, upstream: s.label }
          continue
        }
        this.succeeded(s)
        return { wire, upstream: s.label, ms: performance.now() - started }
      } catch (e) {
        lastError = e
        this.failed(s, (e as DnsvaktError).code === 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' ? 'timeout' : 'network')
      }
    }
    if (lastBad) return { ...lastBad, ms: performance.now() - started }
    throw new DnsvaktError('DNSVAKT_ERR_UPSTREAM_DEADLINE', `no upstream answered within ${this.opts.deadlineMs} ms`, { cause: lastError })
  }

  health(): Array<{ upstream: string; up: boolean; consecutiveFailures: number }> {
    return this.states.map((s) => ({ upstream: s.label, up: s.up, consecutiveFailures: s.failures }))
  }

  close(): void {
    this.udp.close()
  }

  /** Upstreams to try, in order: healthy ones first; down ones only when due for a probe, or when all are down. */
  private order(): State[] {
    const n = this.states.length
    const start = this.opts.strategy === 'round-robin' ? this.next++ % n : 0
    const rotated = n === 1 ? this.states : [...this.states.slice(start), ...this.states.slice(0, start)]
    const now = this.now()
    const healthy = rotated.filter((s) => s.up)
    const due = rotated.filter((s) => !s.up && now >= s.nextProbe)
    for (const s of due) s.nextProbe = now + this.opts.probeIntervalMs
    if (healthy.length === 0) return due.length > 0 ? due : rotated
    // A due probe goes first, so recovery is noticed with one real query.
    return [...due, ...healthy]
  }

  private async tryOne(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
    if (u.protocol === 'tcp') return tcpExchange(u.address, u.port, query, timeoutMs)
    const t0 = performance.now()
    const wire = await this.udp.exchange(u.address, u.port, query, timeoutMs)
    if ((wire.readUInt16BE(2) & FLAG.TC) === 0) return wire
    // Truncated: the full answer is only available over TCP (RFC 7766 s5).
    return tcpExchange(u.address, u.port, query, Math.max(1, timeoutMs - (performance.now() - t0)))
  }

  private failed(s: State, reason: FailureReason): void {
    this.hooks.onFailure?.(s.label, reason)
    s.failures++
    if (s.up && s.failures >= this.opts.failuresBeforeDown) {
      s.up = false
      s.nextProbe = this.now() + this.opts.probeIntervalMs
      this.hooks.onHealthChange?.(s.label, false)
    }
  }

  private succeeded(s: State): void {
    s.failures = 0
    if (!s.up) {
      s.up = true
      this.hooks.onHealthChange?.(s.label, true)
    }
  }
}

export const upstreamLabel = (u: Upstream): string => (u.address.includes(':') ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`)
