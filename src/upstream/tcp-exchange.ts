/**
 * One DNS query over TCP: the 2-byte length prefix of RFC 1035 s4.2.2 and
 * RFC 7766 s8, replies reassembled across any chunk boundaries, and the same
 * checks as UDP (fresh crypto ID, QR, question byte for byte, 0x20 case); a message that
 * fails them is ignored and reported while we keep reading. The source
 * address cannot be forged on an established connection, so 'wrong-source'
 * does not occur here.
 *
 * One connection per exchange: TCP is the fallback path (after a UDP reply
 * with TC=1) and the path of tcp-only upstreams, not the common one. RFC 7766
 * s6.2.1 would have us reuse and pipeline connections; worth doing if a
 * tcp-only upstream ever carries real load.
 */
import { randomInt as cryptoRandomInt } from 'node:crypto'
import { connect } from 'node:net'
import { DnsvaktError } from '../errors.js'
import { findQuestionEnd } from '../dns/build-reply.js'
import { HEADER_LENGTH } from '../dns/constants.js'
import { FrameReader } from '../server/frame-reader.js'
import { randomizeCase, restoreCase } from './case-randomization.js'
import { checkReply, type IgnoredReason, type UpstreamTarget } from './udp-exchange.js'

export interface TcpExchangeOptions {
  readonly timeoutMs: number
  readonly onIgnored?: (reason: IgnoredReason) => void
  /** Uniform integer in [0, max): defaults to crypto.randomInt. */
  readonly randomInt?: (max: number) => number
  readonly localAddress?: string
  /** Send the question with a random letter case (0x20); the reply must echo it exactly. */
  readonly randomizeCase?: boolean
  /** Aborting destroys the connection and rejects (the pool's close()). */
  readonly signal?: AbortSignal
}

/**
 * Sends a copy of `query` with a fresh ID over a new connection; resolves with
 * the first reply that passes the checks. Rejects with
 * DNSVAKT_ERR_UPSTREAM_TIMEOUT, _NETWORK (refused, reset, closed early), or
 * _ANSWER when the upstream closed after sending only invalid replies.
 * The socket is destroyed on every outcome.
 */
export function tcpExchange(query: Buffer, target: UpstreamTarget, opts: TcpExchangeOptions): Promise<Buffer> {
  const label = `${target.address}:${target.port}`
  const questionEnd = findQuestionEnd(query)
  if (questionEnd < 0 || query.length > 0xffff) {
    return Promise.reject(new DnsvaktError('DNSVAKT_ERR_MALFORMED', 'upstream query needs exactly one well-formed question and at most 65535 bytes'))
  }
  if (opts.signal?.aborted) return Promise.reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `TCP to ${label}: aborted`))
  const framed = Buffer.allocUnsafe(2 + query.length)
  framed.writeUInt16BE(query.length, 0)
  query.copy(framed, 2)
  framed.writeUInt16BE((opts.randomInt ?? cryptoRandomInt)(0x10000), 2)
  if (opts.randomizeCase === true) randomizeCase(framed, 2 + HEADER_LENGTH)
  const sent = framed.subarray(2)

  return new Promise<Buffer>((resolve, reject) => {
    let settled = false
    let ignored = 0
    let timer: NodeJS.Timeout | undefined
    const socket = connect({ host: target.address, port: target.port, localAddress: opts.localAddress })
    const onAbort = () => done(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `TCP to ${label}: aborted`))
    function done(err: Error | undefined, reply?: Buffer): void {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err) reject(err)
      else resolve(reply!)
    }
    timer = setTimeout(() => done(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_TIMEOUT', `no TCP answer from ${label} within ${opts.timeoutMs} ms`)), opts.timeoutMs)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    socket.setNoDelay(true)
    const reader = new FrameReader()
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk)
      for (let msg = reader.next(); msg !== undefined && !settled; msg = reader.next()) {
        const bad = checkReply(sent, questionEnd, msg)
        if (bad === undefined) {
          // A copy: the view may share a large chunk that a cache would otherwise keep alive.
          const reply = Buffer.from(msg)
          done(undefined, opts.randomizeCase === true ? restoreCase(reply, query, questionEnd) : reply)
          return
        }
        ignored++
        opts.onIgnored?.(bad)
      }
    })
    socket.on('error', (e) => done(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `TCP to ${label}: ${e.message}`, { cause: e })))
    socket.on('close', () =>
      done(
        ignored > 0
          ? new DnsvaktError('DNSVAKT_ERR_UPSTREAM_ANSWER', `TCP to ${label}: closed after ${ignored} invalid ${ignored === 1 ? 'reply' : 'replies'}`)
          : new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `TCP to ${label}: closed before an answer`),
      ),
    )
    // Queued by net until the connection is up.
    socket.write(framed)
  })
}
