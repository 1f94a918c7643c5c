/**
 * A TCP DNS listener on one address, per RFC 7766: many queries on one
 * connection, each answered as soon as it is ready (out of order), 2-byte
 * length framing reassembled across any chunk boundaries, an idle timeout,
 * a cap on open connections and on queries in flight per connection.
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { QueryHandler, ReplySink } from './query-handler.js'

export interface TcpListenerOptions {
  readonly idleTimeoutMs: number
  readonly maxConnections: number
  /** Reading pauses while a connection has this many queries unanswered. */
  readonly maxInFlightPerConnection?: number
  readonly onConnections?: (delta: number) => void
}

/** One client connection: frames in, framed answers out. */
class Connection implements ReplySink {
  private buffered: Buffer | null = null
  private inFlight = 0
  private closed = false
  private closing = false

  constructor(
    private readonly socket: Socket,
    private readonly handler: QueryHandler,
    private readonly maxInFlight: number,
  ) {}

  onData(chunk: Buffer): void {
    let data = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk])
    while (data.length >= 2) {
      const length = data.readUInt16BE(0)
      if (data.length < 2 + length) break
      const frame = data.subarray(2, 2 + length)
      data = data.subarray(2 + length)
      this.inFlight++
      if (this.inFlight >= this.maxInFlight) this.socket.pause()
      this.handler.handle(frame, this.socket.remoteAddress ?? '', this.socket.remotePort ?? 0, 'tcp', this)
    }
    this.buffered = data.length > 0 ? data : null
  }

  send(wire: Buffer): void {
    this.inFlight--
    if (this.closed) return
    const framed = Buffer.allocUnsafe(2 + wire.length)
    framed.writeUInt16BE(wire.length, 0)
    wire.copy(framed, 2)
    this.socket.write(framed)
    if (this.closing) this.endIfIdle()
    else if (this.inFlight < this.maxInFlight && this.socket.isPaused()) this.socket.resume()
  }

  dropped(): void {
    this.inFlight--
    if (this.closing) this.endIfIdle()
  }

  /** Shutdown: read no more queries, end the connection once the ones in flight are answered. */
  closeWhenIdle(): void {
    this.closing = true
    this.socket.pause()
    this.endIfIdle()
  }

  private endIfIdle(): void {
    if (this.inFlight <= 0 && !this.closed) this.socket.end()
  }

  /** No query waiting for an answer. */
  get idle(): boolean {
    return this.inFlight <= 0
  }

  markClosed(): void {
    this.closed = true
  }
}

export class TcpListener {
  private readonly connections = new Map<Socket, Connection>()

  private constructor(private readonly server: Server) {}

  static bind(address: string, port: number, handler: QueryHandler, opts: TcpListenerOptions): Promise<TcpListener> {
    const server = createServer({ pauseOnConnect: false, noDelay: true })
    const listener = new TcpListener(server)
    server.maxConnections = opts.maxConnections
    server.on('connection', (socket) => listener.accept(socket, handler, opts))
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: address, port, ipv6Only: address.includes(':') }, () => {
        server.off('error', reject)
        server.on('error', () => {})
        resolve(listener)
      })
    })
  }

  private accept(socket: Socket, handler: QueryHandler, opts: TcpListenerOptions): void {
    const conn = new Connection(socket, handler, opts.maxInFlightPerConnection ?? 100)
    this.connections.set(socket, conn)
    opts.onConnections?.(1)
    // RFC 7766 s6.2.3: close idle connections; the client reconnects when it needs to.
    socket.setTimeout(opts.idleTimeoutMs, () => {
      if (conn.idle) socket.end()
    })
    socket.on('data', (chunk) => conn.onData(chunk))
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
