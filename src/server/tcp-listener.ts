/**
 * A TCP DNS listener on one address, per RFC 7766: many queries on one
 * connection, each answered as soon as it is ready (out of order), 2-byte
 * length framing reassembled across any chunk boundaries (frame-reader.ts).
 *
 * One client must not be able to exhaust it, so every resource is bounded:
 * - clients outside access.allow are cut at accept, before a byte is read;
 * - open connections are capped in total and per client address;
 * - queries in flight are capped per connection, also within one chunk:
 *   the frames past the cap stay in the reader until slots free up;
 * - output: while a connection's unsent replies exceed `outputPauseBytes`
 *   we stop reading its queries (a client that never reads gets no more
 *   work done for it); past `outputLimitBytes` the connection is cut;
 * - an idle connection is destroyed, not half-closed: a peer that never
 *   closes its side cannot hold a slot in FIN-WAIT-2 for good.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { FrameReader } from './frame-reader.js'
import type { QueryHandler, ReplySink } from './query-handler.js'
import { listenOn } from './listen-on.js'

/** Why the listener closed or refused a connection (a metric label). */
export type TcpCloseReason = 'access' | 'per-client' | 'total' | 'idle' | 'output'

export interface TcpListenerOptions {
  readonly idleTimeoutMs: number
  readonly maxConnections: number
  /** Open connections per client address (default 100). */
  readonly maxConnectionsPerClient?: number
  /** Reading pauses while a connection has this many queries unanswered (default 100). */
  readonly maxInFlightPerConnection?: number
  /** Reading pauses while this many reply bytes wait to be sent (default 256 KiB). */
  readonly outputPauseBytes?: number
  /** The connection is cut when this many reply bytes wait to be sent (default 4 MiB). */
  readonly outputLimitBytes?: number
  /** access.allow at accept: false destroys the socket before reading. */
  readonly allowed?: (address: string) => boolean
  readonly onConnections?: (delta: number) => void
  readonly onClosed?: (reason: TcpCloseReason) => void
}

interface Limits { maxInFlight: number; pauseBytes: number; limitBytes: number }

/** One client connection: frames in, framed answers out. */
class Connection implements ReplySink {
  private readonly reader = new FrameReader()
  private inFlight = 0
  private closed = false
  private closing = false
  private pumping = false

  constructor(
    private readonly socket: Socket,
    private readonly handler: QueryHandler,
    private readonly limits: Limits,
    private readonly onOverflow: () => void,
  ) {}

  onData(chunk: Buffer): void {
    this.reader.push(chunk)
    this.pump()
  }

  /** Hands queries to the handler while the caps allow; pauses reading otherwise. */
  pump(): void {
    if (this.pumping || this.closed) return
    this.pumping = true
    try {
      while (this.canTakeMore()) {
        const frame = this.reader.next()
        if (frame === undefined) break
        this.inFlight++
        this.handler.handle(frame, this.socket.remoteAddress ?? '', this.socket.remotePort ?? 0, 'tcp', this)
      }
    } finally {
      this.pumping = false
    }
    if (this.closed || this.closing) return
    // Paused while at a cap or while a whole frame still waits in the reader; resumed by send() or 'drain'.
    const full = !this.canTakeMore() || this.reader.buffered > 0xffff + 2
    if (full && !this.socket.isPaused()) this.socket.pause()
    else if (!full && this.socket.isPaused()) this.socket.resume()
  }

  private canTakeMore(): boolean {
    return !this.closing && !this.closed && this.inFlight < this.limits.maxInFlight && this.socket.writableLength < this.limits.pauseBytes
  }

  send(wire: Buffer): void {
    this.inFlight--
    if (this.closed) return
    if (wire.length > 0xffff) {
      // The handler never sends these (it answers TC instead); a frame cannot carry them.
      return this.after()
    }
    const framed = Buffer.allocUnsafe(2 + wire.length)
    framed.writeUInt16BE(wire.length, 0)
    wire.copy(framed, 2)
    this.socket.write(framed)
    if (this.socket.writableLength > this.limits.limitBytes) return this.onOverflow()
    this.after()
  }

  dropped(): void {
    this.inFlight--
    this.after()
  }

  private after(): void {
    if (this.closing) this.endIfIdle()
    else this.pump()
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

  /** No query waiting for an answer and no reply waiting to be sent. */
  get idle(): boolean {
    return this.inFlight <= 0
  }

  markClosed(): void {
    this.closed = true
  }
}

export class TcpListener {
  private readonly connections = new Map<Socket, Connection>()
  private readonly perClient = new Map<string, number>()

  private constructor(private readonly server: Server) {}

  static bind(address: string, port: number, handler: QueryHandler, opts: TcpListenerOptions): Promise<TcpListener> {
    const server = createServer({ pauseOnConnect: false, noDelay: true })
    const listener = new TcpListener(server)
    server.maxConnections = opts.maxConnections
    server.on('connection', (socket) => listener.accept(socket, handler, opts))
    // Past maxConnections Node closes the socket itself and tells us here.
    server.on('drop', () => opts.onClosed?.('total'))
    return listenOn(server, address, port, listener)
  }

  private accept(socket: Socket, handler: QueryHandler, opts: TcpListenerOptions): void {
    const address = socket.remoteAddress ?? ''
    if (opts.allowed !== undefined && !opts.allowed(address)) return refuse(socket, opts, 'access')
    const count = this.perClient.get(address) ?? 0
    if (count >= (opts.maxConnectionsPerClient ?? 100)) return refuse(socket, opts, 'per-client')
    this.perClient.set(address, count + 1)
    const limits: Limits = {
      maxInFlight: opts.maxInFlightPerConnection ?? 100,
      pauseBytes: opts.outputPauseBytes ?? 256 * 1024,
      limitBytes: opts.outputLimitBytes ?? 4 * 1024 * 1024,
    }
    const cut = (reason: TcpCloseReason) => {
      if (socket.destroyed) return
      opts.onClosed?.(reason)
      socket.destroy()
    }
    const conn = new Connection(socket, handler, limits, () => cut('output'))
    this.connections.set(socket, conn)
    opts.onConnections?.(1)
    // RFC 7766 s6.2.3: close idle connections; the client reconnects when it needs to.
    // Destroyed, not ended: a peer that never sends its FIN would keep the slot.
    socket.setTimeout(opts.idleTimeoutMs, () => {
      if (conn.idle) cut('idle')
    })
    socket.on('data', (chunk: Buffer) => conn.onData(chunk))
    socket.on('drain', () => conn.pump())
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      conn.markClosed()
      this.connections.delete(socket)
      const left = (this.perClient.get(address) ?? 1) - 1
      if (left <= 0) this.perClient.delete(address)
      else this.perClient.set(address, left)
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

function refuse(socket: Socket, opts: TcpListenerOptions, reason: TcpCloseReason): void {
  opts.onClosed?.(reason)
  socket.on('error', () => {})
  socket.destroy()
}
