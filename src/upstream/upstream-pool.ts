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
import type { PendingBudget } from './pending-budget.js'
import { tcpExchange, type TcpExchangeOptions } from './tcp-exchange.js'
import type { EncryptedTarget, PersistentExchanger } from './encrypted-target.js'
import { encryptedExchanger } from './encrypted-upstream.js'
import { type IgnoredReason, UdpExchanger, type UdpExchangeOptions, type UdpExchangerOptions } from './udp-exchange.js'

/**
 * `address` is an IP literal (IPv6 may carry a %scope; a DoH name for 'https'); protocol 'tcp' = tcp-only, default 'udp' (TCP after TC=1);
 * 'tls'/'https' see encrypted-upstream.ts. `randomizeCase` (default true): 0x20 letter case on the question; false for a resolver
 * that does not echo it (encrypted upstreams ignore it: nobody can spoof into a TLS session).
 */
export interface Upstream extends EncryptedTarget {
  readonly address: string; readonly port: number; readonly protocol?: 'udp' | 'tcp' | 'tls' | 'https'; readonly randomizeCase?: boolean
}

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
  readonly udp?: Pick<UdpExchangerOptions, 'sockets' | 'queriesPerSocket' | 'socketMaxAgeMs' | 'recvBufferSize'>
  /** CA bundle for tls/https upstreams (default: the system CAs). */
  readonly caFile?: string | null
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

/** `wire`: the validated reply, with our ID (the caller writes the client's); `ms`: the whole exchange, failovers included. */
export interface ExchangeResult { readonly wire: Buffer; readonly upstream: string; readonly ms: number }

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

type Attempt = { ok: true; wire: Buffer; rcode: number } | { ok: false; reason: FailureReason; error: unknown }

type Run = { readonly started: number; finished: boolean; servfail: { wire: Buffer; upstream: string } | undefined }

export class UpstreamPool {
  private readonly states: State[]
  private readonly udp: UdpExchanger
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
  }

  /** Sends a complete query (header, one question, OPT); resolves with the first usable reply (see above). */
  exchange(query: Buffer, opts: { deadlineMs?: number } = {}): Promise<ExchangeResult> {
    if (this.closed) return Promise.reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', 'upstream pool closed'))
    const budget = this.budget
    if (budget === undefined) return this.exchangeWithin(query, opts)
    if (!budget.acquire()) {
      return Promise.reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_OVERLOAD', `${budget.max} upstream exchanges already in flight (upstream.maxPending)`))
    }
    // Released when the run ends, not at the deadline: a try still waiting then holds its socket until its own timeout.
    return this.exchangeWithin(query, opts, () => budget.release())
  }

  private exchangeWithin(query: Buffer, opts: { deadlineMs?: number }, ended?: () => void): Promise<ExchangeResult> {
    const deadlineMs = opts.deadlineMs ?? this.cfg.deadlineMs
    const run: Run = { started: this.hrtime(), finished: false, servfail: undefined }
    return new Promise<ExchangeResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        run.finished = true
        if (run.servfail) resolve({ ...run.servfail, ms: this.hrtime() - run.started })
        else reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_DEADLINE', `no usable upstream answer within ${deadlineMs} ms`))
      }, deadlineMs)
      // Whichever comes first, the deadline or the run's own end, settles the promise.
      const first = () => !run.finished && (run.finished = true)
      this.run(query, run).finally(() => {
        clearTimeout(timer)
        ended?.()
      }).then((r) => first() && resolve(r), (e: unknown) => first() && reject(e))
    })
  }

  health(): UpstreamHealth[] {
    return this.states.map((s) => ({ upstream: s.label, up: s.up, consecutiveFailures: s.failures }))
  }

  /** Closes every socket; exchanges in flight reject. */
  close(): void {
    this.closed = true
    this.aborter.abort()
    this.udp.close()
    for (const s of this.states) s.encrypted?.close()
  }

  private async run(query: Buffer, run: Run): Promise<ExchangeResult> {
    const failures: string[] = []
    let lastError: unknown
    let answered = false
    let round = this.plan()
    while (round.length > 0) {
      const again: State[] = []
      for (const s of round) {
        if (run.finished || this.closed) break
        const a = await this.attempt(s, query)
        if (a.ok) {
          answered = true
          if (a.rcode !== RCODE.SERVFAIL && a.rcode !== RCODE.REFUSED) return { wire: a.wire, upstream: s.label, ms: this.hrtime() - run.started }
          if (a.rcode === RCODE.SERVFAIL) run.servfail = { wire: a.wire, upstream: s.label }
          failures.push(`${s.label} ${a.rcode === RCODE.SERVFAIL ? 'servfail' : 'refused'}`)
          continue
        }
        failures.push(`${s.label} ${a.reason}`)
        lastError = a.error
        if (a.reason === 'bad-reply') answered = true
        if (a.reason === 'timeout') again.push(s)
      }
      round = run.finished || this.closed ? [] : again
    }
    if (run.servfail) return { ...run.servfail, ms: this.hrtime() - run.started }
    const code = answered ? 'DNSVAKT_ERR_UPSTREAM_ANSWER' : 'DNSVAKT_ERR_UPSTREAM_NETWORK'
    throw new DnsvaktError(code, `no usable upstream answer (${failures.join(', ') || 'pool closed'})`, { cause: lastError })
  }

  /** This query's order: up upstreams from the strategy's start; all of them when none is up. */
  private plan(): State[] {
    const n = this.states.length
    const start = this.cfg.strategy === 'round-robin' ? this.cursor : 0
    if (this.cfg.strategy === 'round-robin') this.cursor = (this.cursor + 1) % n
    const rotated = this.states.map((_, k) => this.states[(start + k) % n])
    const up = rotated.filter((s) => s.up)
    if (up.length === 0) return rotated
    const now = this.now()
    for (const s of rotated) if (!s.up && !s.probing && now >= s.nextProbeAt) this.probe(s)
    return up
  }

  private probe(s: State): void {
    s.probing = true
    const done = () => void (s.probing = false)
    void this.attempt(s, this.probeQuery).then(done, done)
  }

  private async attempt(s: State, query: Buffer): Promise<Attempt> {
    this.hooks.onTry?.(s.label)
    const t0 = this.hrtime()
    let wire: Buffer
    try {
      if (s.encrypted !== null) wire = await s.encrypted.exchange(query, s.tcpOpts)
      else if (s.target.protocol === 'tcp') wire = await tcpExchange(query, s.target, s.tcpOpts)
      else {
        wire = await this.udp.exchange(query, s.target, s.udpOpts)
        // TC: the answer did not fit; the whole one is only to be had over TCP (RFC 7766 s5).
        if ((wire.readUInt16BE(2) & FLAG.TC) !== 0) wire = await tcpExchange(query, s.target, s.tcpOpts)
      }
    } catch (error) {
      // Our caller's bug, not the upstream's: no failover, no health change.
      if (isDnsvaktError(error, 'DNSVAKT_ERR_MALFORMED')) throw error
      const reason: FailureReason = isDnsvaktError(error, 'DNSVAKT_ERR_UPSTREAM_TIMEOUT') ? 'timeout' : isDnsvaktError(error, 'DNSVAKT_ERR_UPSTREAM_ANSWER') ? 'bad-reply' : 'network'
      if (!this.closed) this.failed(s, reason)
      return { ok: false, reason, error }
    }
    this.hooks.onLatency?.(s.label, (this.hrtime() - t0) / 1000)
    this.reachable(s)
    const rcode = wire[3] & 0x0f
    if (rcode === RCODE.SERVFAIL) this.hooks.onFailure?.(s.label, 'servfail')
    else if (rcode === RCODE.REFUSED) this.hooks.onFailure?.(s.label, 'refused')
    return { ok: true, wire, rcode }
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
    this.hooks.onHealthChange?.(s.label, up)
  }
}

/** The health probe: `. IN NS` with RD, and an OPT of size 1232 (RFC 6891) so the answer fits UDP. */
const rootNsQuery = (): Buffer =>
  Buffer.from(['0000 0100 0001 0000 0000 0001', '00 0002 0001', '00 0029 04d0 00 00 0000 0000'].join('').replaceAll(' ', ''), 'hex')
