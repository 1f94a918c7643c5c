/**
 * DNS over TLS to one upstream (RFC 7858), with the connection reuse and
 * pipelining RFC 7766 s6.2.1 asks for: one TLS connection carries every
 * query in flight, each with its own fresh crypto ID, answered in any order.
 * Replies get the same checks as UDP/TCP (ID, QR, question byte for byte);
 * one that fails them is reported and ignored. A connection that closes
 * takes its waiting queries down (DNSVAKT_ERR_UPSTREAM_NETWORK, so the pool
 * fails over); the next query opens a new one. A reused connection that the
 * server had quietly closed while idle is retried once on a fresh one, so an
 * idle timeout on the server never counts against its health. The
 * certificate is checked by tls (CA, name) and then against the SPKI pins.
 */
import { randomInt as cryptoRandomInt } from 'node:crypto'
import { connect, type TLSSocket } from 'node:tls'
import { DnsvaktError } from '../errors.js'
import { findQuestionEnd } from '../dns/build-reply.js'
import type { EncryptedOptions, EncryptedTarget, PersistentExchanger, TlsClientSettings } from './encrypted-target.js'
import { FrameReader } from '../server/frame-reader.js'
import type { TcpExchangeOptions } from './tcp-exchange.js'
import { checkReply, type IgnoredReason } from './udp-exchange.js'

/** Queries waiting on one connection at most (IDs must stay plentiful). */
const MAX_IN_FLIGHT = 4096

interface Pending {
  readonly sent: Buffer
  readonly questionEnd: number
  readonly onIgnored: ((r: IgnoredReason) => void) | undefined
  readonly resolve: (b: Buffer) => void
  readonly reject: (e: Error) => void
  readonly timer: NodeJS.Timeout
}

/** One TLS connection and the queries waiting on it. */
class Connection {
  readonly pending = new Map<number, Pending>()
  /** Carried a reply already: a close before our answer may be the server's idle timeout. */
  used = false
  closed = false
  private readonly reader = new FrameReader()

  constructor(readonly socket: TLSSocket, private readonly label: string, idleMs: number) {
    socket.setNoDelay(true)
    socket.setTimeout(idleMs, () => this.pending.size === 0 && socket.end())
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk)
      for (let m = this.reader.next(); m !== undefined; m = this.reader.next()) this.receive(m)
    })
    socket.on('error', (e) => this.fail(`${e.message}`, e))
    socket.on('close', () => this.fail('closed before an answer'))
    socket.unref()
  }

  send(query: Buffer, id: number, opts: TcpExchangeOptions): Promise<Buffer> {
    const framed = Buffer.allocUnsafe(2 + query.length)
    framed.writeUInt16BE(query.length, 0)
    query.copy(framed, 2)
    framed.writeUInt16BE(id, 2)
    const sent = framed.subarray(2)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_TIMEOUT', `no DoT answer from ${this.label} within ${opts.timeoutMs} ms`))
      }, opts.timeoutMs)
      this.pending.set(id, { sent, questionEnd: findQuestionEnd(sent), onIgnored: opts.onIgnored, resolve, reject, timer })
      this.socket.write(framed)
    })
  }

  private receive(msg: Buffer): void {
    if (msg.length < 2) return
    const p = this.pending.get(msg.readUInt16BE(0))
    // No one waits for this ID (a reply after its timeout): nothing to check it against.
    if (p === undefined) return
    const bad = checkReply(p.sent, p.questionEnd, msg)
    if (bad !== undefined) return p.onIgnored?.(bad)
    this.used = true
    this.pending.delete(msg.readUInt16BE(0))
    clearTimeout(p.timer)
    // A copy: the view may share a large chunk that a cache would otherwise keep alive.
    p.resolve(Buffer.from(msg))
  }

  fail(why: string, cause?: Error): void {
    this.closed = true
    this.socket.destroy()
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `DoT to ${this.label}: ${why}`, { cause }))
    }
    this.pending.clear()
  }
}

export class TlsUpstream implements PersistentExchanger {
  private conn: Connection | null = null
  private readonly label: string
  private readonly randomInt: (max: number) => number
  private shut = false

  constructor(
    private readonly target: EncryptedTarget,
    private readonly tls: TlsClientSettings,
    private readonly opts: EncryptedOptions,
  ) {
    this.label = `tls://${target.address}:${target.port}`
    this.randomInt = opts.randomInt ?? ((max) => cryptoRandomInt(max))
  }

  async exchange(query: Buffer, opts: TcpExchangeOptions): Promise<Buffer> {
    if (findQuestionEnd(query) < 0 || query.length > 0xffff) {
      throw new DnsvaktError('DNSVAKT_ERR_MALFORMED', 'upstream query needs exactly one well-formed question and at most 65535 bytes')
    }
    const conn = this.connection()
    if (conn.pending.size >= MAX_IN_FLIGHT) throw new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `DoT to ${this.label}: ${MAX_IN_FLIGHT} queries already in flight`)
    const reused = conn.used
    try {
      return await conn.send(query, this.freeId(conn), opts)
    } catch (e) {
      // The server closed an idle connection as we wrote to it: once more, on a fresh one.
      if (!reused || !conn.closed || this.shut || !(e instanceof DnsvaktError) || e.code !== 'DNSVAKT_ERR_UPSTREAM_NETWORK') throw e
      const fresh = this.connection()
      return fresh.send(query, this.freeId(fresh), opts)
    }
  }

  close(): void {
    this.shut = true
    this.conn?.fail('upstream pool closed')
    this.conn = null
  }

  private connection(): Connection {
    if (this.shut) throw new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `DoT to ${this.label}: upstream pool closed`)
    if (this.conn !== null && !this.conn.closed) return this.conn
    const socket = connect({
      host: this.target.address,
      port: this.target.port,
      ca: this.tls.ca,
      servername: this.tls.servername,
      checkServerIdentity: this.tls.checkServerIdentity,
      ALPNProtocols: ['dot'],
    })
    this.conn = new Connection(socket, this.label, this.opts.idleMs ?? 30_000)
    return this.conn
  }

  private freeId(conn: Connection): number {
    let id = this.randomInt(0x10000)
    while (conn.pending.has(id)) id = this.randomInt(0x10000)
    return id
  }
}
