/**
 * DNS over HTTPS to one upstream (RFC 8484): POST of the wire query as
 * `application/dns-message` on one reused HTTP/2 session, each query its own
 * stream. The reply must be HTTP 200 with `application/dns-message` and then
 * pass the same checks as UDP/TCP (ID, QR, question byte for byte): anything
 * else is a bad reply (DNSVAKT_ERR_UPSTREAM_ANSWER, the pool fails over). A
 * session that closes, errs or says GOAWAY is dropped and the next query
 * opens a new one; a query whose stream it took down is retried once there.
 * We send our own random ID rather than RFC 8484's ID 0: POST answers are not
 * HTTP-cached anyway, and the ID is one more check on what comes back.
 */
import { randomInt as cryptoRandomInt } from 'node:crypto'
import { connect, constants, type ClientHttp2Session } from 'node:http2'
import { DnsvaktError } from '../errors.js'
import { findQuestionEnd } from '../dns/build-reply.js'
import type { EncryptedOptions, EncryptedTarget, PersistentExchanger, TlsClientSettings } from './encrypted-target.js'
import type { TcpExchangeOptions } from './tcp-exchange.js'
import { checkReply } from './udp-exchange.js'

const MESSAGE = 'application/dns-message'

export class HttpsUpstream implements PersistentExchanger {
  private session: ClientHttp2Session | null = null
  private readonly origin: string
  private readonly label: string
  private readonly randomInt: (max: number) => number
  private shut = false

  constructor(
    private readonly target: EncryptedTarget,
    private readonly tls: TlsClientSettings,
    private readonly opts: EncryptedOptions,
  ) {
    const host = target.address.includes(':') ? `[${target.address}]` : target.address
    this.origin = `https://${host}:${target.port}`
    this.label = `${this.origin}${target.path ?? '/dns-query'}`
    this.randomInt = opts.randomInt ?? ((max) => cryptoRandomInt(max))
  }

  exchange(query: Buffer, opts: TcpExchangeOptions): Promise<Buffer> {
    const questionEnd = findQuestionEnd(query)
    if (questionEnd < 0 || query.length > 0xffff) {
      return Promise.reject(new DnsvaktError('DNSVAKT_ERR_MALFORMED', 'upstream query needs exactly one well-formed question and at most 65535 bytes'))
    }
    if (this.shut) return Promise.reject(this.error('DNSVAKT_ERR_UPSTREAM_NETWORK', 'upstream pool closed'))
    const sent = Buffer.from(query)
    sent.writeUInt16BE(this.randomInt(0x10000), 0)
    const session = this.connection()
    return this.send(session, sent, questionEnd, opts).catch((e: unknown) => {
      // The session went away under this stream (GOAWAY after the server's stream limit, an idle
      // close): the server never answered it, so once more on a fresh session.
      if (this.shut || this.session === session || !(e instanceof DnsvaktError) || e.code !== 'DNSVAKT_ERR_UPSTREAM_NETWORK') throw e
      return this.send(this.connection(), sent, questionEnd, opts)
    })
  }

  private send(session: ClientHttp2Session, sent: Buffer, questionEnd: number, opts: TcpExchangeOptions): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: this.target.path ?? '/dns-query',
        ...(this.tls.servername !== undefined && { [constants.HTTP2_HEADER_AUTHORITY]: this.tls.servername }),
        'content-type': MESSAGE,
        accept: MESSAGE,
        'content-length': sent.length,
      })
      let settled = false
      const done = (err: Error | undefined, reply?: Buffer) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL)
        if (err) reject(err)
        else resolve(reply!)
      }
      const timer = setTimeout(() => done(this.error('DNSVAKT_ERR_UPSTREAM_TIMEOUT', `no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs)
      let status = 0
      let type = ''
      const chunks: Buffer[] = []
      let size = 0
      stream.on('response', (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS])
        type = String(h['content-type'] ?? '')
      })
      stream.on('data', (c: Buffer) => {
        size += c.length
        if (size > 0xffff) return done(this.error('DNSVAKT_ERR_UPSTREAM_ANSWER', 'reply larger than a DNS message'))
        chunks.push(c)
      })
      stream.on('end', () => {
        if (status === 0) return done(this.error('DNSVAKT_ERR_UPSTREAM_NETWORK', 'stream ended before a response'))
        if (status !== 200) return done(this.error('DNSVAKT_ERR_UPSTREAM_ANSWER', `HTTP status ${status}`))
        if (type.split(';')[0].trim().toLowerCase() !== MESSAGE) return done(this.error('DNSVAKT_ERR_UPSTREAM_ANSWER', `content-type "${type}"`))
        const reply = Buffer.concat(chunks)
        const bad = checkReply(sent, questionEnd, reply)
        if (bad === undefined) return done(undefined, reply)
        opts.onIgnored?.(bad)
        done(this.error('DNSVAKT_ERR_UPSTREAM_ANSWER', `reply failed the ${bad} check`))
      })
      stream.on('error', (e) => done(this.error('DNSVAKT_ERR_UPSTREAM_NETWORK', e.message, e)))
      stream.on('close', () => done(this.error('DNSVAKT_ERR_UPSTREAM_NETWORK', 'stream closed before an answer')))
      stream.end(sent)
    })
  }

  close(): void {
    this.shut = true
    this.session?.destroy()
    this.session = null
  }

  private connection(): ClientHttp2Session {
    if (this.session !== null && !this.session.closed && !this.session.destroyed) return this.session
    const session = connect(this.origin, {
      ca: this.tls.ca,
      servername: this.tls.servername,
      checkServerIdentity: this.tls.checkServerIdentity,
    })
    const drop = () => {
      if (this.session === session) this.session = null
    }
    // Errors reach every open stream too, which reject their own exchanges.
    session.on('error', drop)
    session.on('goaway', drop)
    session.on('close', drop)
    session.setTimeout(this.opts.idleMs ?? 30_000, () => session.close())
    session.unref()
    this.session = session
    return session
  }

  private error(code: 'DNSVAKT_ERR_UPSTREAM_TIMEOUT' | 'DNSVAKT_ERR_UPSTREAM_NETWORK' | 'DNSVAKT_ERR_UPSTREAM_ANSWER', why: string, cause?: Error): DnsvaktError {
    return new DnsvaktError(code, `DoH to ${this.label}: ${why}`, { cause })
  }
}
