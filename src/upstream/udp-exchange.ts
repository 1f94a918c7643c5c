/**
 * One DNS query over UDP to one upstream, with the spoofing defences of
 * RFC 5452 (as Unbound applies them):
 * - a fresh query ID from `crypto` for every exchange (s9.2);
 * - a fresh source port for every query by default: each exchange gets its
 *   own socket bound to port 0 (the kernel picks a random ephemeral port)
 *   and the socket is closed when the exchange ends. `queriesPerSocket`
 *   above 1 turns this into a pool of `sockets` reused sockets (the old
 *   default, 8 sockets x 1000 queries: 16 consecutive queries saw 6-7
 *   distinct ports, far short of RFC 5452 s10);
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

export type { ReplyWaiter }

export type IgnoredReason = 'wrong-source' | 'wrong-id' | 'wrong-question' | 'malformed'

/** `address` is an IP literal; IPv6 may carry a %scope (link-local). */
export interface UpstreamTarget { readonly address: string; readonly port: number }

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
  /** Socket slots per address family, one picked at random per query (default 8). */
  readonly sockets?: number
  /** Queries a socket carries before it is replaced (default 1: a fresh port per query; at most 16384 so free IDs stay plentiful). */
  readonly queriesPerSocket?: number
  /** A socket older than this is replaced at its next use (default 60 s). */
  readonly socketMaxAgeMs?: number
  /** SO_RCVBUF in bytes (default 4 MiB; Linux caps it at net.core.rmem_max). */
  readonly recvBufferSize?: number
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
  private readonly v4: Array<UpstreamSocket | undefined>
  private readonly v6: Array<UpstreamSocket | undefined>
  /** Replaced sockets still waiting for replies; closed when their last exchange ends. */
  private readonly draining = new Set<UpstreamSocket>()
  private readonly deadlines = new DeadlineQueue()
  private readonly queriesPerSocket: number
  private readonly maxAgeMs: number
  private readonly recvBufferSize: number
  private readonly randomInt: (max: number) => number
  private readonly now: () => number
  private closed = false
  /** The last upstream address seen, its family and canonical form (one or two upstreams is the usual case). */
  private lastAddress = ''
  private lastFamily = 0
  private lastCanonical = ''

  constructor(private readonly options: UdpExchangerOptions = {}) {
    const n = Math.max(1, options.sockets ?? 8)
    this.v4 = new Array<UpstreamSocket | undefined>(n).fill(undefined)
    this.v6 = new Array<UpstreamSocket | undefined>(n).fill(undefined)
    this.queriesPerSocket = Math.min(16384, Math.max(1, options.queriesPerSocket ?? 1))
    this.maxAgeMs = options.socketMaxAgeMs ?? 60_000
    this.recvBufferSize = options.recvBufferSize ?? 4 * 1024 * 1024
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
    // Every exchange still waiting is in the deadline queue (sockets for one query sit in no slot).
    for (const p of this.deadlines.takeAll() as Pending[]) this.finish(p, new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `UDP to ${labelOf(p.target)}: exchanger closed`))
    for (const ps of [...this.v4, ...this.v6, ...this.draining]) {
      if (ps === undefined) continue
      ps.retired = true
      this.shut(ps)
    }
    this.v4.fill(undefined)
    this.v6.fill(undefined)
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

  private pick(family: number): UpstreamSocket {
    // One query per socket: no slot to look at, every query gets a fresh port.
    if (this.queriesPerSocket === 1) return this.open(family)
    const slots = family === 6 ? this.v6 : this.v4
    const i = slots.length === 1 ? 0 : this.randomInt(slots.length)
    const ps = slots[i]
    if (ps !== undefined && !ps.retired && ps.sent < this.queriesPerSocket && this.now() - ps.createdAt < this.maxAgeMs) return ps
    if (ps !== undefined) this.retire(ps)
    const fresh = this.open(family)
    slots[i] = fresh
    return fresh
  }

  private open(family: number): UpstreamSocket {
    // Upstreams are IP literals (config is validated), so the lookup dgram does
    // before every send is answered synchronously, saving a process.nextTick per query.
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: family === 6 ? literal6 : literal4 })
    const ps = new UpstreamSocket(socket, this.now())
    // A socket in no slot (one query per socket) is found again through its exchange; draining holds it only once retired.
    socket.on('message', (msg, rinfo) => this.receive(ps, msg, rinfo))
    socket.on('error', (err) => {
      // Bind or socket failure: fail what waits here, replace the socket at its next pick.
      this.retire(ps)
      for (const p of ps.waiting()) this.finish(p, new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `UDP to ${labelOf(p.target)}: ${err.message}`, { cause: err }))
    })
    // A socket for one query waits for one reply: the default buffer holds it.
    if (this.queriesPerSocket > 1) {
      socket.once('listening', () => {
        // Refused by the OS: the default buffer still works, bursts may drop.
        try { socket.setRecvBufferSize(this.recvBufferSize) } catch { /* keep the default */ }
      })
    }
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
    const ps = p.ps
    ps.live--
    // Used up (with the default of one query per socket: at once), so its port closes now.
    if (ps.live === 0 && ps.retired) this.shut(ps)
    else if (ps.live === 0 && ps.sent >= this.queriesPerSocket) this.retire(ps)
    if (err) p.waiter.failed(err)
    else p.waiter.replied(reply!)
  }

  private retire(ps: UpstreamSocket): void {
    if (ps.retired) return
    ps.retired = true
    if (ps.live === 0) this.shut(ps)
    else this.draining.add(ps)
  }

  private shut(ps: UpstreamSocket): void {
    this.draining.delete(ps)
    if (ps.shut) return
    ps.shut = true
    try { ps.socket.close() } catch { /* already closed by a socket error */ }
  }
}

type LookupCallback = (err: Error | null, address: string, family: number) => void
const literal4 = (address: string, _f: unknown, cb: LookupCallback): void => cb(null, address, 4)
const literal6 = (address: string, _f: unknown, cb: LookupCallback): void => cb(null, address, 6)
const labelOf = (t: UpstreamTarget): string => `${t.address}:${t.port}`
const from = (p: Pending, rinfo: RemoteInfo): boolean =>
  rinfo.port === p.target.port && (rinfo.address === p.address || canonicalIp(rinfo.address) === p.address)
