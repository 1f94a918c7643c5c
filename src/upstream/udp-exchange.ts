/**
 * One DNS query over UDP to one upstream, with the spoofing defences of
 * RFC 5452 (as Unbound applies them):
 * - a fresh query ID from `crypto` for every exchange (s9.2);
 * - unpredictable, changing source ports (s10): each socket is bound to
 *   port 0 (the kernel picks a random ephemeral port) and carries one query
 *   at a time, at most `queriesPerSocket` (default 8) in its life and for at
 *   most 5 s, then it is closed and replaced. Idle sockets wait in a
 *   rotation of `sockets` (default 64) per family, least recently used
 *   first, and the rotation is filled before any socket is reused, so
 *   consecutive queries leave from different ports (32 in a row: 32 ports).
 *   A query that fails (timeout, error) closes its socket. An off-path
 *   spoofer does not see these ports (we talk only to our upstreams); one
 *   that scans for open ports (SadDNS) has at most a socket's 5 s life to
 *   find one, and then still has to guess the 16-bit ID and the 0x20 case
 *   within the upstream's round trip. In exchange most of the socket/bind/close
 *   syscalls of a fresh socket per query are saved (docs/benchmarks.md,
 *   "The miss path"). `queriesPerSocket: 1` is a fresh socket per query;
 * - optionally bound to one upstream-facing source address per family;
 * - optionally the question's letter case randomised (case-randomization.ts);
 * - a reply is accepted only if it comes from the upstream's exact address
 *   and port, carries our ID, has QR=1 and repeats our question byte for byte
 *   (s9.1; byte for byte also keeps the 0x20 letter case). Anything else is
 *   ignored, reported through `onIgnored`, and we keep waiting until the
 *   per-try timeout for the real reply.
 *
 * The miss path's bookkeeping is lean: send() tells a waiter object (the
 * pool's run) instead of settling a promise, the per-try timeouts share one
 * timer (deadline-queue.ts), and a socket for one query keeps its exchange
 * in a field, not a map (upstream-socket.ts). exchange() is the promise form.
 * Cost of the fresh socket per query: see docs/benchmarks.md ("Upstream
 * spoofing defences" and "The miss path"), measured in instructions.
 */
import { randomInt as cryptoRandomInt } from 'node:crypto'
import { createSocket, type RemoteInfo } from 'node:dgram'
import { isIP } from 'node:net'
import { DnsvaktError } from '../errors.js'
import { FLAG, HEADER_LENGTH } from '../dns/constants.js'
import { findQuestionEnd } from '../dns/build-reply.js'
import { randomizeCase, restoreCase } from './case-randomization.js'
import { DeadlineQueue } from './deadline-queue.js'
import { Pending, type ReplyWaiter, UpstreamSocket } from './upstream-socket.js'
import type { IgnoredReason, UpstreamTarget } from './upstream-target.js'

export type { IgnoredReason, ReplyWaiter, UpstreamTarget }

/**
 * Why `reply` is not the answer to `sent`, or undefined when it is: same ID,
 * QR set, one question equal byte for byte to ours (RFC 5452 s9.1).
 * `questionEnd` is findQuestionEnd(sent). Shared with tcp-exchange.ts.
 */
export function checkReply(sent: Buffer, questionEnd: number, reply: Buffer): IgnoredReason | undefined {
  if (reply.length < HEADER_LENGTH) return 'malformed'
  if (reply.readUInt16BE(0) !== sent.readUInt16BE(0)) return 'wrong-id'
  if ((reply.readUInt16BE(2) & FLAG.QR) === 0) return 'malformed'
  if (reply.readUInt16BE(4) !== 1 || reply.length < questionEnd) return 'wrong-question'
  return reply.compare(sent, HEADER_LENGTH, questionEnd, HEADER_LENGTH, questionEnd) === 0 ? undefined : 'wrong-question'
}

/**
 * Canonical text of an IP literal (zone dropped), so a configured `0:0::1`
 * matches the `::1` the kernel reports (WHATWG URL serialises IPv6 per RFC 5952).
 */
export function canonicalIp(address: string): string {
  const bare = address.split('%')[0]
  return bare.includes(':') ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : bare
}

export interface UdpExchangerOptions {
  /** Sockets in the rotation per address family (default 64); more are opened, and closed after their query, when more queries wait. */
  readonly sockets?: number
  /** Queries a socket carries, one at a time, before it is closed and replaced (default 8; 1: a fresh socket per query; at most 16384). */
  readonly queriesPerSocket?: number
  /** A socket older than this is replaced at its next use (default 5 s: an open port is not left to a port scan for long). */
  readonly socketMaxAgeMs?: number
  /** Local address to bind per family (default: all). Tests bind loopback. */
  readonly localAddress?: { readonly v4?: string; readonly v6?: string }
  /** Uniform integer in [0, max): defaults to crypto.randomInt. */
  readonly randomInt?: (max: number) => number
  readonly now?: () => number
  /** A packet tied to no outstanding exchange (neither its ID nor its sender is one we wait on). */
  readonly onStray?: (reason: IgnoredReason) => void
}

export interface UdpExchangeOptions {
  readonly timeoutMs: number
  /** Called for every packet ignored while this exchange waits (and for late spoofs aimed at it). */
  readonly onIgnored?: (reason: IgnoredReason) => void
  /** Send the question with a random letter case (0x20); the reply must echo it exactly. */
  readonly randomizeCase?: boolean
}

export class UdpExchanger {
  /** Idle sockets of the rotation per family, least recently used first. */
  private readonly idle4: UpstreamSocket[] = []
  private readonly idle6: UpstreamSocket[] = []
  /** Sockets of the rotation open per family (idle or waiting for a reply). */
  private pooled4 = 0
  private pooled6 = 0
  private readonly deadlines = new DeadlineQueue()
  private readonly sockets: number
  private readonly queriesPerSocket: number
  private readonly maxAgeMs: number
  private readonly randomInt: (max: number) => number
  private readonly now: () => number
  private closed = false
  /** The last upstream address seen, its family and canonical form (one or two upstreams is the usual case). */
  private lastAddress = ''
  private lastFamily = 0
  private lastCanonical = ''

  constructor(private readonly options: UdpExchangerOptions = {}) {
    this.sockets = Math.max(1, options.sockets ?? 64)
    this.queriesPerSocket = Math.min(16384, Math.max(1, options.queriesPerSocket ?? 8))
    this.maxAgeMs = options.socketMaxAgeMs ?? 5_000
    this.randomInt = options.randomInt ?? ((max) => cryptoRandomInt(max))
    this.now = options.now ?? Date.now
  }

  /** Sends a copy of `query` with a fresh ID; resolves with the validated reply. */
  exchange(query: Buffer, target: UpstreamTarget, opts: UdpExchangeOptions): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => this.send(query, target, opts, { replied: resolve, failed: reject }))
  }

  /**
   * The same as exchange() without a promise: `waiter` is told the validated
   * reply or the error (synchronously for a bad query, address or a closed
   * exchanger). The pool uses this, one waiter object per client query.
   */
  send(query: Buffer, target: UpstreamTarget, opts: UdpExchangeOptions, waiter: ReplyWaiter): void {
    if (this.closed) return waiter.failed(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `UDP to ${labelOf(target)}: exchanger closed`))
    const questionEnd = findQuestionEnd(query)
    if (questionEnd < 0) return waiter.failed(new DnsvaktError('DNSVAKT_ERR_MALFORMED', 'upstream query needs exactly one well-formed question'))
    if (target.address !== this.lastAddress) this.learn(target.address)
    if (this.lastFamily === 0) return waiter.failed(new DnsvaktError('DNSVAKT_ERR_CONFIG', `upstream address "${target.address}" is not an IP address`))
    const ps = this.pick(this.lastFamily)
    // A bind failure is reported while the socket is made (the lookup is synchronous): fail at once, nothing is sent.
    if (ps.error !== null) return waiter.failed(socketError(target, ps.error))
    let id = this.randomInt(0x10000)
    // At most queriesPerSocket (<= 1/4 of the ID space) are taken: this ends fast.
    while (ps.find(id) !== undefined) id = this.randomInt(0x10000)
    const wire = Buffer.from(query)
    wire.writeUInt16BE(id, 0)
    const randomized = opts.randomizeCase === true
    if (randomized) randomizeCase(wire, HEADER_LENGTH)
    const p = new Pending(this, ps, id, wire, randomized ? query : undefined, questionEnd, target, this.lastCanonical, opts.timeoutMs, opts.onIgnored, waiter)
    ps.add(p)
    this.deadlines.add(p, opts.timeoutMs)
    // The callback reports a local send error (no route, EPERM) at once, so failover does not wait out the try.
    try { ps.socket.send(wire, target.port, target.address, (err) => err && this.unsent(p, err)) } catch (err) { this.unsent(p, err as Error) }
  }

  /** Rejects every outstanding exchange and closes every socket. */
  close(): void {
    this.closed = true
    // Every exchange still waiting is in the deadline queue; finishing it closes its socket.
    for (const p of this.deadlines.takeAll() as Pending[]) this.finish(p, new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `UDP to ${labelOf(p.target)}: exchanger closed`))
    for (const ps of this.idle4.splice(0)) this.shut(ps)
    for (const ps of this.idle6.splice(0)) this.shut(ps)
  }

  /** The deadline of `p` passed (DeadlineQueue). */
  timedOut(p: Pending): void {
    this.finish(p, new DnsvaktError('DNSVAKT_ERR_UPSTREAM_TIMEOUT', `no UDP answer from ${labelOf(p.target)} within ${p.timeoutMs} ms`))
  }

  private unsent(p: Pending, err: Error): void {
    this.finish(p, new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `cannot send to ${labelOf(p.target)}: ${err.message}`, { cause: err }))
  }

  private learn(address: string): void {
    this.lastAddress = address
    this.lastFamily = isIP(address)
    this.lastCanonical = this.lastFamily === 0 ? '' : canonicalIp(address)
  }

  /**
   * A socket with no query outstanding: the rotation grows to `sockets`
   * before any is reused, then the least recently used idle one is taken, so
   * consecutive queries leave from different ports. Worn-out ones are replaced.
   */
  private pick(family: number): UpstreamSocket {
    const idle = family === 6 ? this.idle6 : this.idle4
    const pooled = family === 6 ? this.pooled6 : this.pooled4
    if (pooled >= this.sockets) {
      for (let ps = idle.shift(); ps !== undefined; ps = idle.shift()) {
        if (ps.error === null && this.now() - ps.createdAt < this.maxAgeMs) return ps
        this.shut(ps)
      }
    }
    // Below the rotation's size (or a worn-out one was just closed): a new member; above it (every socket busy): an extra for one query.
    const grow = (family === 6 ? this.pooled6 : this.pooled4) < this.sockets
    if (grow && family === 6) this.pooled6++
    else if (grow) this.pooled4++
    return this.open(family, grow)
  }

  private open(family: number, pooled: boolean): UpstreamSocket {
    // Upstreams are IP literals (config is validated), so the lookup dgram does
    // before every send is answered synchronously, saving a process.nextTick per query.
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: family === 6 ? literal6 : literal4 })
    const ps = new UpstreamSocket(socket, family, pooled, this.now())
    socket.on('message', (msg, rinfo) => this.receive(ps, msg, rinfo))
    socket.on('error', (err) => {
      // Bind or socket failure: fail what waits here; the socket is closed and not used again.
      ps.error = err
      for (const p of ps.waiting()) this.finish(p, socketError(p.target, err))
      this.shut(ps)
    })
    // exclusive: under node:cluster a shared handle would hand our replies to other workers.
    socket.bind({ port: 0, address: family === 6 ? this.options.localAddress?.v6 : this.options.localAddress?.v4, exclusive: true })
    // Sockets do not keep the process alive; the deadline queue's timer does while an exchange waits.
    socket.unref()
    return ps
  }

  private receive(ps: UpstreamSocket, msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < HEADER_LENGTH) return this.unmatched(ps, 'malformed', rinfo)
    const p = ps.find(msg.readUInt16BE(0))
    if (p === undefined) return this.unmatched(ps, 'wrong-id', rinfo)
    if (!from(p, rinfo)) return p.onIgnored?.('wrong-source')
    // A late or duplicated reply from the real upstream: not an attack, not counted.
    if (p.done) return
    const bad = checkReply(p.wire, p.questionEnd, msg)
    if (bad !== undefined) return p.onIgnored?.(bad)
    this.finish(p, undefined, p.original === undefined ? msg : restoreCase(msg, p.original, p.questionEnd))
  }

  /** Blame a packet with an unknown ID on the exchange waiting for its sender, if any (a blind spoof names the upstream as source). */
  private unmatched(ps: UpstreamSocket, reason: IgnoredReason, rinfo: RemoteInfo): void {
    for (const p of ps.waiting()) if (from(p, rinfo)) return p.onIgnored?.(reason)
    this.options.onStray?.(reason)
  }

  private finish(p: Pending, err: Error | undefined, reply?: Buffer): void {
    if (p.done) return
    p.done = true
    this.deadlines.remove(p)
    this.release(p.ps, err === undefined)
    if (err) p.waiter.failed(err)
    else p.waiter.replied(reply!)
  }

  /**
   * Its query is over: back to the idle end of the rotation, or closed when
   * it is worn out (queriesPerSocket, or a failed query: a timed-out one may
   * still get a late reply, so its port is not used again), an extra, or the
   * exchanger is closing.
   */
  private release(ps: UpstreamSocket, ok: boolean): void {
    if (--ps.live > 0) return
    if (ok && ps.pooled && ps.error === null && !this.closed && ps.sent < this.queriesPerSocket) {
      ;(ps.family === 6 ? this.idle6 : this.idle4).push(ps)
      return
    }
    this.shut(ps)
  }

  private shut(ps: UpstreamSocket): void {
    if (ps.shut) return
    ps.shut = true
    if (ps.pooled && ps.family === 6) this.pooled6--
    else if (ps.pooled) this.pooled4--
    try { ps.socket.close() } catch { /* already closed by a socket error */ }
  }
}

type LookupCallback = (err: Error | null, address: string, family: number) => void
const literal4 = (address: string, _f: unknown, cb: LookupCallback): void => cb(null, address, 4)
const literal6 = (address: string, _f: unknown, cb: LookupCallback): void => cb(null, address, 6)
const labelOf = (t: UpstreamTarget): string => `${t.address}:${t.port}`
const socketError = (t: UpstreamTarget, err: Error) => new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `UDP to ${labelOf(t)}: ${err.message}`, { cause: err })
const from = (p: Pending, rinfo: RemoteInfo): boolean =>
  rinfo.port === p.target.port && (rinfo.address === p.address || canonicalIp(rinfo.address) === p.address)
