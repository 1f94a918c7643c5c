/**
 * A DNS over HTTPS listener on one address (RFC 8484): `/dns-query`, GET with
 * `?dns=` (base64url, no padding) and POST of `application/dns-message`,
 * over HTTP/2 and HTTP/1.1 (Node's http2 server with allowHTTP1; no
 * hand-written HTTP). Each query goes through the same QueryHandler as
 * UDP/TCP, as transport 'doh', keyed on the TCP peer's address (never on a
 * forwarded-for header: groups and exemptions follow the device, and a
 * header is whatever the client says). Answers are padded (RFC 8467) and
 * carry a freshness lifetime no longer than their smallest TTL (s5.1).
 * Limits as for TCP: connections, idle timeout, streams per connection.
 */
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { padResponse } from '../dns/edns-padding.js'
import { readAnswer } from '../dns/read-answer.js'
import { refuseOutsiders, type StreamListenerOptions } from './dot-listener.js'
import type { QueryHandler } from './query-handler.js'
import type { TlsPair } from './tls-context.js'
import { listenOn } from './listen-on.js'

export const DOH_PATH = '/dns-query'
const MESSAGE = 'application/dns-message'
const MAX_MESSAGE = 65535

type Req = Http2ServerRequest | IncomingMessage
type Res = Http2ServerResponse | ServerResponse

/** writeHead on either response kind (their overloads do not unify in @types/node). */
const writeHead = (res: Res, status: number, headers: Record<string, string | number>): void => void (res as ServerResponse).writeHead(status, headers)

function fail(res: Res, status: number, text: string): void {
  if (res.headersSent) return
  writeHead(res, status, { 'content-type': 'text/plain; charset=utf-8' })
  res.end(`${text}\n`)
}

/** RFC 8484 s5.1: cacheable for no longer than the smallest TTL; 0 for answers without one. */
function maxAge(wire: Buffer): number {
  try {
    return Math.max(0, readAnswer(wire).ttl)
  } catch {
    return 0
  }
}

function answer(res: Res, wire: Buffer): void {
  if (res.headersSent || res.destroyed) return
  const body = padResponse(wire)
  writeHead(res, 200, { 'content-type': MESSAGE, 'content-length': body.length, 'cache-control': `max-age=${maxAge(wire)}` })
  res.end(body)
}

/** The query of a GET (`?dns=`) or POST; calls `done` with it, or answers the HTTP error itself. */
function readQuery(req: Req, res: Res, done: (wire: Buffer) => void): void {
  const url = new URL(req.url ?? '/', 'https://doh.invalid')
  if (url.pathname !== DOH_PATH) return fail(res, 404, `DNS queries go to ${DOH_PATH}`)
  if (req.method === 'GET') {
    const dns = url.searchParams.get('dns') ?? ''
    if (!/^[A-Za-z0-9_-]+$/.test(dns) || dns.length > Math.ceil((MAX_MESSAGE * 4) / 3)) return fail(res, 400, 'expected ?dns= with a base64url DNS message (RFC 8484 s4.1)')
    return done(Buffer.from(dns, 'base64url'))
  }
  if (req.method !== 'POST') {
    res.setHeader('allow', 'GET, POST')
    return fail(res, 405, 'GET or POST')
  }
  if ((req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() !== MESSAGE) return fail(res, 415, `POST needs content-type ${MESSAGE}`)
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (c: Buffer) => {
    size += c.length
    if (size > MAX_MESSAGE) {
      fail(res, 413, 'a DNS message is at most 65535 bytes')
      req.destroy()
    } else chunks.push(c)
  })
  req.on('end', () => size <= MAX_MESSAGE && done(Buffer.concat(chunks, size)))
  req.on('error', () => {})
}

export class DohListener {
  private readonly sessions = new Set<ServerHttp2Session>()
  private readonly sockets = new Set<Socket>()

  private constructor(readonly server: Http2SecureServer) {}

  static bind(address: string, port: number, tls: TlsPair, handler: QueryHandler, opts: StreamListenerOptions): Promise<DohListener> {
    const server = createSecureServer({
      cert: tls.cert, key: tls.key, allowHTTP1: true,
      settings: { maxConcurrentStreams: opts.maxInFlightPerConnection ?? 100 },
      handshakeTimeout: Math.min(opts.idleTimeoutMs, 10_000),
    })
    const listener = new DohListener(server)
    server.maxConnections = opts.maxConnections
    refuseOutsiders(server, opts)
    server.on('request', (req: Req, res: Res) => listener.request(req, res, handler))
    server.on('secureConnection', (socket: TLSSocket) => listener.track(socket, opts))
    server.on('session', (session: ServerHttp2Session) => listener.session(session, opts))
    server.on('tlsClientError', (_e, socket: Socket) => socket.destroy())
    server.on('sessionError', () => {})
    return listenOn(server, address, port, listener)
  }

  private request(req: Req, res: Res, handler: QueryHandler): void {
    const socket = req.socket
    readQuery(req, res, (wire) =>
      handler.handle(wire, socket.remoteAddress ?? '', socket.remotePort ?? 0, 'doh', {
        send: (reply) => answer(res, reply),
        dropped: () => fail(res, 400, 'not a DNS query'),
      }),
    )
  }

  private track(socket: TLSSocket, opts: StreamListenerOptions): void {
    this.sockets.add(socket)
    opts.onConnections?.(1)
    socket.on('close', () => {
      this.sockets.delete(socket)
      opts.onConnections?.(-1)
    })
    socket.on('error', () => socket.destroy())
    // HTTP/1.1 connections time out on the socket; HTTP/2 sessions on the session (below).
    if (socket.alpnProtocol !== 'h2') socket.setTimeout(opts.idleTimeoutMs, () => socket.end())
  }

  private session(session: ServerHttp2Session, opts: StreamListenerOptions): void {
    this.sessions.add(session)
    session.on('close', () => this.sessions.delete(session))
    session.on('error', () => {})
    session.setTimeout(opts.idleTimeoutMs, () => session.close())
  }

  get port(): number {
    const a = this.server.address()
    return typeof a === 'object' && a !== null ? a.port : 0
  }

  /** Stops accepting; open streams finish (HTTP/2 GOAWAY), everything is cut after `graceMs`. */
  close(graceMs = 0): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      for (const s of this.sessions) s.close()
      // HTTP/1.1 keep-alive connections have no GOAWAY: they are cut at the grace time.
      setTimeout(() => {
        for (const s of this.sockets) s.destroy()
      }, graceMs).unref()
    })
  }
}
