/**
 * An ordered set of upstreams with failover and health. `sequential` always
 * starts at the first; `round-robin` at the next one each query. Failover on
 * timeout, network error, 'bad-reply', SERVFAIL and REFUSED; TC=1 over UDP is
 * asked again over TCP at the same upstream (RFC 7766 s5). Per try
 * `tryTimeoutMs`; per exchange `deadlineMs`, then DNSVAKT_ERR_UPSTREAM_DEADLINE
 * (the caller answers SERVFAIL or serves stale). Until then upstreams that
 * timed out are tried again (UDP loss is mostly transient); fast failures not.
 * Nothing usable: the last SERVFAIL reply is returned as is (the client sees
 * the upstream's EDE, e.g. DNSSEC bogus). REFUSED never is: an upstream
 * refusing *us* is not the client's business, and our REFUSED means our ACL;
 * so with only REFUSED it rejects (_UPSTREAM_ANSWER) and the caller SERVFAILs.
 * Health: `failuresBeforeDown` consecutive timeouts, network errors or bad
 * replies mark an upstream down and it is skipped (no timeout per query).
 * Every `probeIntervalMs` a down one gets a background `. NS` probe no client
 * waits on; a validated reply marks it up. All down: all are tried in order.
 * SERVFAIL/REFUSED prove reachability and reset the count, else a client asking
 * thrice for a DNSSEC-bogus name could take a healthy upstream down.
 */
import { randomInt as cryptoRandomInt } from 'node:crypto'
import { isIP } from 'node:net'
import { setMaxListeners } from 'node:events'
import { DnsvaktError, isDnsvaktError } from '../errors.js'
import { FLAG, RCODE } from '../dns/constants.js'
import { DeadlineQueue } from './deadline-queue.js'
import type { PendingBudget } from './pending-budget.js'
import type { PoolOptions } from './pool-options.js'
import { tcpExchange, type TcpExchangeOptions } from './tcp-exchange.js'
import type { EncryptedTarget, PersistentExchanger } from './encrypted-target.js'
import { encryptedExchanger } from './encrypted-upstream.js'
import { type IgnoredReason, UdpExchanger, type UdpExchangeOptions } from './udp-exchange.js'
import { type ExchangeCallback, type ExchangeResult, Run, type RunOwner } from './upstream-run.js'

export type { PoolOptions }

/**
 * `address` is an IP literal (IPv6 may carry a %scope; a DoH name for 'https'); protocol 'tcp' = tcp-only, default 'udp' (TCP after TC=1);
 * 'tls'/'https' see encrypted-upstream.ts. `randomizeCase` (default true): 0x20 letter case on the question; false for a resolver
 * that does not echo it (encrypted upstreams ignore it: nobody can spoof into a TLS session).
 */
export interface Upstream extends EncryptedTarget {
  readonly address: string; readonly port: number; readonly protocol?: 'udp' | 'tcp' | 'tls' | 'https'; readonly randomizeCase?: boolean
}

export type FailureReason = 'timeout' | 'network' | 'servfail' | 'refused' | 'bad-reply'

/** Where metrics and logs plug in (the pool knows neither); `upstream` is upstreamLabel(); probes report like queries. */
export interface PoolHooks {
  onTry?(upstream: string): void
  onFailure?(upstream: string, reason: FailureReason): void
  onLatency?(upstream: string, seconds: number): void
  onHealthChange?(upstream: string, up: boolean): void
  /** `upstream` is UNMATCHED for a packet tied to no exchange at all. */
  onIgnored?(upstream: string, reason: IgnoredReason): void
}

export type UpstreamHealth = { upstream: string; up: boolean; consecutiveFailures: number }

/** The onIgnored label for stray packets (metrics fold it into their 'other' series). */
export const UNMATCHED = 'unmatched'

/** `address:port`, IPv6 as `[address]:port`. */
export const upstreamLabel = (u: { address: string; port: number; protocol?: string; path?: string }): string => {
  const hostPort = u.address.includes(':') ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`
  return u.protocol === 'tls' ? `tls://${hostPort}` : u.protocol === 'https' ? `https://${hostPort}${u.path ?? ''}` : hostPort
}

interface State {
  readonly target: Upstream
  readonly label: string
  readonly udpOpts: UdpExchangeOptions
  readonly tcpOpts: TcpExchangeOptions
  /** DoT/DoH: the upstream's one reused connection. */
  readonly encrypted: PersistentExchanger | null
  /** Health: consecutive failures; `nextProbeAt` (ms, `now`) matters while down. */
  failures: number; up: boolean; nextProbeAt: number; probing: boolean
}

export class UpstreamPool implements RunOwner<State> {
  private readonly states: State[]
  /** When every upstream is up: the order for each query, one per round-robin start (sequential uses the first). */
  private readonly orders: State[][]
  private down = 0
  private readonly udp: UdpExchanger
  private readonly deadlines = new DeadlineQueue()
  private readonly aborter = new AbortController()
  private readonly cfg: { strategy: 'sequential' | 'round-robin'; deadlineMs: number; failuresBeforeDown: number; probeIntervalMs: number }
  private readonly now: () => number
  private readonly hrtime: () => number
  private readonly probeQuery = rootNsQuery()
  private cursor = 0
  private closed = false
  private readonly budget: PendingBudget | undefined

  constructor(upstreams: readonly Upstream[], opts: PoolOptions = {}, private readonly hooks: PoolHooks = {}) {
    if (upstreams.length === 0) throw new DnsvaktError('DNSVAKT_ERR_CONFIG', 'an upstream pool needs at least one upstream')
    const problems = upstreams
      .filter((u) => (u.protocol !== 'https' && isIP(u.address) === 0) || !Number.isInteger(u.port) || u.port < 1 || u.port > 65535)
      .map((u) => `upstream ${upstreamLabel(u)}: expected an IP address and a port 1-65535`)
    if (problems.length > 0) throw new DnsvaktError('DNSVAKT_ERR_CONFIG', problems.join('; '), { problems })
    const tryTimeoutMs = opts.tryTimeoutMs ?? 1000
    this.cfg = {
      strategy: opts.strategy ?? 'sequential', deadlineMs: opts.deadlineMs ?? 3000,
      failuresBeforeDown: Math.max(1, opts.failuresBeforeDown ?? 3), probeIntervalMs: opts.probeIntervalMs ?? 5000,
    }
    this.now = opts.now ?? Date.now
    this.budget = opts.budget
    this.hrtime = opts.hrtime ?? (() => performance.now())
    const randomInt = opts.randomInt ?? ((max: number) => cryptoRandomInt(max))
    // One listener per TCP exchange in flight; the default limit of 10 would warn under load.
    setMaxListeners(0, this.aborter.signal)
    this.udp = new UdpExchanger({ ...opts.udp, randomInt, now: this.now, localAddress: opts.localAddress, onStray: (r) => hooks.onIgnored?.(UNMATCHED, r) })
    this.states = upstreams.map((target) => {
      const label = upstreamLabel(target)
      const onIgnored = (r: IgnoredReason) => hooks.onIgnored?.(label, r)
      const localAddress = isIP(target.address) === 6 ? opts.localAddress?.v6 : opts.localAddress?.v4
      const randomizeCase = target.randomizeCase ?? true
      return {
        target, label, failures: 0, up: true, nextProbeAt: 0, probing: false,
        udpOpts: { timeoutMs: tryTimeoutMs, onIgnored, randomizeCase },
        tcpOpts: { timeoutMs: tryTimeoutMs, onIgnored, randomInt, localAddress, randomizeCase, signal: this.aborter.signal },
        encrypted: encryptedExchanger(target, { caFile: opts.caFile, randomInt }),
      }
    })
    this.orders = this.states.map((_, start) => this.states.map((_s, k) => this.states[(start + k) % this.states.length]))
  }

  /** Sends a complete query (header, one question, OPT); resolves with the first usable reply (see above). */
  exchange(query: Buffer, opts: { deadlineMs?: number } = {}): Promise<ExchangeResult> {
    return new Promise<ExchangeResult>((resolve, reject) => this.query(query, (e, r) => (e ? reject(e) : resolve(r!)), opts.deadlineMs))
  }

  /**
   * exchange() without a promise: `done` is called once, with the result or
   * the error (synchronously when the pool is closed or over its budget).
   * The forward stage uses this; the walk through the upstreams is a Run.
   */
  query(query: Buffer, done: ExchangeCallback, deadlineMs = this.cfg.deadlineMs): void {
    if (this.closed) return done(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', 'upstream pool closed'), null)
    const budget = this.budget
    if (budget !== undefined && !budget.acquire()) {
      return done(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_OVERLOAD', `${budget.max} upstream exchanges already in flight (upstream.maxPending)`), null)
    }
    // The budget slot is given back when the run ends, not at the deadline: a try still waiting then holds its socket until its own timeout.
    const run = new Run<State>(this, query, this.hrtime(), this.plan(), done, budget !== undefined)
    this.deadlines.add(run, deadlineMs)
    this.step(run)
  }

  health(): UpstreamHealth[] {
    return this.states.map((s) => ({ upstream: s.label, up: s.up, consecutiveFailures: s.failures }))
  }

  /** Closes every socket; exchanges in flight reject. */
  close(): void {
    this.closed = true
    this.aborter.abort()
    this.udp.close()
    this.deadlines.takeAll()
    for (const s of this.states) s.encrypted?.close()
  }

  /** The next try of `run`, or its end: no upstream left, the deadline passed, or the pool closed. */
  private step(run: Run<State>): void {
    while (!run.finished && !this.closed) {
      if (run.next < run.round.length) return this.attempt(run.round[run.next++]!, run)
      if (run.again === null) break
      // Upstreams that timed out are tried again until the deadline (UDP loss is mostly transient).
      run.round = run.again
      run.again = null
      run.next = 0
    }
    this.end(run)
  }

  /** One try at `s`; its outcome comes back to tryReplied or tryFailed. */
  private attempt(s: State, run: Run<State>): void {
    this.hooks.onTry?.(s.label)
    run.current = s
    // Not over UDP: no TC fallback (over TCP, TLS and HTTPS a truncated answer is the whole one on offer).
    run.overTcp = s.encrypted !== null || s.target.protocol === 'tcp'
    run.tryStarted = this.hrtime()
    if (s.encrypted !== null) s.encrypted.exchange(run.query, s.tcpOpts).then((w) => run.replied(w), (e: unknown) => run.failed(e as Error))
    else if (run.overTcp) this.overTcp(s, run)
    else this.udp.send(run.query, s.target, s.udpOpts, run)
  }

  private overTcp(s: State, run: Run<State>): void {
    tcpExchange(run.query, s.target, s.tcpOpts).then((w) => run.replied(w), (e: unknown) => run.failed(e as Error))
  }

  tryReplied(run: Run<State>, wire: Buffer): void {
    const s = run.current!
    // TC: the answer did not fit; the whole one is only to be had over TCP (RFC 7766 s5).
    if (!run.overTcp && (wire.readUInt16BE(2) & FLAG.TC) !== 0) {
      run.overTcp = true
      return this.overTcp(s, run)
    }
    this.hooks.onLatency?.(s.label, (this.hrtime() - run.tryStarted) / 1000)
    this.reachable(s)
    const rcode = wire[3] & 0x0f
    if (rcode === RCODE.SERVFAIL) this.hooks.onFailure?.(s.label, 'servfail')
    else if (rcode === RCODE.REFUSED) this.hooks.onFailure?.(s.label, 'refused')
    if (run.done === null) return this.end(run)
    run.answered = true
    if (rcode !== RCODE.SERVFAIL && rcode !== RCODE.REFUSED) {
      run.tell(null, { wire, upstream: s.label, ms: this.hrtime() - run.started })
      return this.end(run)
    }
    if (rcode === RCODE.SERVFAIL) run.servfail = { wire, upstream: s.label }
    run.fail(s.label, rcode === RCODE.SERVFAIL ? 'servfail' : 'refused')
    this.step(run)
  }

  tryFailed(run: Run<State>, error: unknown): void {
    const s = run.current!
    // Our caller's bug, not the upstream's: no failover, no health change.
    if (isDnsvaktError(error, 'DNSVAKT_ERR_MALFORMED')) {
      run.tell(error, null)
      return this.end(run)
    }
    const reason: FailureReason = isDnsvaktError(error, 'DNSVAKT_ERR_UPSTREAM_TIMEOUT') ? 'timeout' : isDnsvaktError(error, 'DNSVAKT_ERR_UPSTREAM_ANSWER') ? 'bad-reply' : 'network'
    if (!this.closed) this.failed(s, reason)
    if (run.done === null) return this.end(run)
    run.fail(s.label, reason)
    run.lastError = error
    if (reason === 'bad-reply') run.answered = true
    if (reason === 'timeout') (run.again ??= []).push(s)
    this.step(run)
  }

  deadlinePassed(run: Run<State>): void {
    const sf = run.servfailResult(this.hrtime())
    run.tell(sf === null ? new DnsvaktError('DNSVAKT_ERR_UPSTREAM_DEADLINE', `no usable upstream answer within ${this.cfg.deadlineMs} ms`) : null, sf)
  }

  /** No try is under way any more: the deadline and the budget slot go; a probe is over; a caller not told yet gets the outcome of the tries. */
  private end(run: Run<State>): void {
    if (run.ended) return
    run.ended = true
    this.deadlines.remove(run)
    if (run.budgeted) this.budget!.release()
    if (run.done === null) {
      run.current!.probing = false
      return
    }
    if (run.finished) return
    const sf = run.servfailResult(this.hrtime())
    if (sf !== null) return run.tell(null, sf)
    const code = run.answered ? 'DNSVAKT_ERR_UPSTREAM_ANSWER' : 'DNSVAKT_ERR_UPSTREAM_NETWORK'
    run.tell(new DnsvaktError(code, `no usable upstream answer (${run.failures?.join(', ') || 'pool closed'})`, { cause: run.lastError }), null)
  }

  /** This query's order: up upstreams from the strategy's start; all of them when none is up. */
  private plan(): readonly State[] {
    const n = this.states.length
    const start = this.cfg.strategy === 'round-robin' ? this.cursor : 0
    if (this.cfg.strategy === 'round-robin') this.cursor = (this.cursor + 1) % n
    const order = this.orders[start]!
    if (this.down === 0) return order
    const up = order.filter((s) => s.up)
    if (up.length === 0) return order
    const now = this.now()
    for (const s of order) if (!s.up && !s.probing && now >= s.nextProbeAt) this.probe(s)
    return up
  }

  private probe(s: State): void {
    s.probing = true
    this.attempt(s, new Run<State>(this, this.probeQuery, this.hrtime(), [s], null, false))
  }

  private failed(s: State, reason: FailureReason): void {
    this.hooks.onFailure?.(s.label, reason)
    s.failures++
    // Down already (a failed probe or an all-down try): the next probe waits a full interval.
    if (!s.up || s.failures >= this.cfg.failuresBeforeDown) s.nextProbeAt = this.now() + this.cfg.probeIntervalMs
    if (s.up && s.failures >= this.cfg.failuresBeforeDown) this.setUp(s, false)
  }

  private reachable(s: State): void {
    s.failures = 0
    if (!s.up) this.setUp(s, true)
  }

  private setUp(s: State, up: boolean): void {
    s.up = up
    this.down += up ? -1 : 1
    this.hooks.onHealthChange?.(s.label, up)
  }
}

/** The health probe: `. IN NS` with RD, and an OPT of size 1232 (RFC 6891) so the answer fits UDP. */
const rootNsQuery = (): Buffer =>
  Buffer.from(['0000 0100 0001 0000 0000 0001', '00 0002 0001', '00 0029 04d0 00 00 0000 0000'].join('').replaceAll(' ', ''), 'hex')
