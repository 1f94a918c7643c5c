/**
 * A DNS over TLS listener on one address (RFC 7858): TLS from Node's tls,
 * then the TCP framing of RFC 7766 (2-byte length, many queries per
 * connection, answers out of order as they are ready). Each query goes
 * through the same QueryHandler as UDP/TCP, as transport 'dot', so access
 * list, groups, exemptions, metrics and the decision log all apply. Answers
 * are padded (RFC 7830/8467). As for TCP: a cap on connections, an idle
 * timeout, and reading pauses while a connection has too many queries open.
 */
import type { Http2SecureServer } from 'node:http2'
import type { Socket } from 'node:net'
import { createServer, type Server, type TLSSocket } from 'node:tls'
import { padResponse } from '../dns/edns-padding.js'
import { FrameReader } from './frame-reader.js'
import type { QueryHandler, ReplySink } from './query-handler.js'
import type { TlsPair } from './tls-context.js'
import { listenOn } from './listen-on.js'

export interface StreamListenerOptions {
  readonly idleTimeoutMs: number
  readonly maxConnections: number
  /** Reading pauses while a connection has this many queries unanswered (default 100). */
  readonly maxInFlightPerConnection?: number
  /** access.allow at accept: false destroys the socket before the TLS handshake (no CPU spent on it). */
  readonly allowed?: (address: string) => boolean
  readonly onConnections?: (delta: number) => void
}

class DotConnection implements ReplySink {
  private readonly reader = new FrameReader()
  private inFlight = 0
  private closed = false
  private pumping = false
  closing = false

  constructor(
    private readonly socket: TLSSocket,
    private readonly handler: QueryHandler,
    private readonly maxInFlight: number,
  ) {}

  onData(chunk: Buffer): void {
    this.reader.push(chunk)
    this.pump()
  }

  /** Hands queries to the handler while under the in-flight cap (frames past it wait in the reader); pauses reading otherwise. */
  pump(): void {
    if (this.pumping || this.closed || this.closing) return
    this.pumping = true
    try {
      while (this.inFlight < this.maxInFlight) {
        const frame = this.reader.next()
        if (frame === undefined) break
        this.inFlight++
        // A view of the chunk, as the TCP listener passes: Node never reuses a chunk it handed out.
        this.handler.handle(frame, this.socket.remoteAddress ?? '', this.socket.remotePort ?? 0, 'dot', this)
      }
    } finally {
      this.pumping = false
    }
    if (this.closed || this.closing) return
    const full = this.inFlight >= this.maxInFlight || this.reader.buffered > 0xffff + 2
    if (full && !this.socket.isPaused()) this.socket.pause()
    else if (!full && this.socket.isPaused()) this.socket.resume()
  }

  send(wire: Buffer): void {
    this.inFlight--
    if (this.closed) return
    const padded = padResponse(wire)
    const framed = Buffer.allocUnsafe(2 + padded.length)
    framed.writeUInt16BE(padded.length, 0)
    padded.copy(framed, 2)
    this.socket.write(framed)
    this.settle()
  }

  dropped(): void {
    this.inFlight--
    this.settle()
  }

  get idle(): boolean {
    return this.inFlight <= 0
  }

  closeWhenIdle(): void {
    this.closing = true
    this.socket.pause()
    this.settle()
  }

  markClosed(): void {
    this.closed = true
  }

  private settle(): void {
    if (!this.closing) return this.pump()
    if (this.inFlight <= 0 && !this.closed) this.socket.end()
  }
}

export class DotListener {
  private readonly connections = new Map<TLSSocket, DotConnection>()

  private constructor(readonly server: Server) {}

  static bind(address: string, port: number, tls: TlsPair, handler: QueryHandler, opts: StreamListenerOptions): Promise<DotListener> {
    const server = createServer({ cert: tls.cert, key: tls.key, ALPNProtocols: ['dot'], handshakeTimeout: Math.min(opts.idleTimeoutMs, 10_000) })
    const listener = new DotListener(server)
    server.maxConnections = opts.maxConnections
    refuseOutsiders(server, opts)
    server.on('secureConnection', (socket) => listener.accept(socket, handler, opts))
    // Failed handshakes (scanners, clients that distrust the certificate) must not reach the process.
    server.on('tlsClientError', (_e, socket: Socket) => socket.destroy())
    return listenOn(server, address, port, listener)
  }

  private accept(socket: TLSSocket, handler: QueryHandler, opts: StreamListenerOptions): void {
    const conn = new DotConnection(socket, handler, opts.maxInFlightPerConnection ?? 100)
    this.connections.set(socket, conn)
    opts.onConnections?.(1)
    socket.setNoDelay(true)
    // RFC 7858 s3.4 / RFC 7766 s6.2.3: idle connections are closed; clients reconnect.
    socket.setTimeout(opts.idleTimeoutMs, () => {
      if (conn.idle) socket.end()
    })
    socket.on('data', (chunk: Buffer) => conn.onData(chunk))
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      conn.markClosed()
      this.connections.delete(socket)
      opts.onConnections?.(-1)
    })
  }

  get port(): number {
    const a = this.server.address()
    return typeof a === 'object' && a !== null ? a.port : 0
  }

  /** Stops accepting; each connection ends once its queries are answered, or is cut after `graceMs`. */
  close(graceMs = 0): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      setTimeout(() => {
        for (const s of this.connections.keys()) s.destroy()
      }, graceMs).unref()
      for (const c of this.connections.values()) c.closeWhenIdle()
    })
  }
}

/** Clients outside access.allow are cut on the raw TCP connection, before the TLS handshake costs anything (DoT and DoH). */
export function refuseOutsiders(server: Server | Http2SecureServer, opts: StreamListenerOptions): void {
  const allowed = opts.allowed
  if (allowed === undefined) return
  server.prependListener('connection', (socket: Socket) => {
    if (allowed(socket.remoteAddress ?? '')) return
    socket.on('error', () => {})
    socket.destroy()
  })
}
