/**
 * One DNS query over TCP (RFC 1035 s4.2.2, RFC 7766): 2-byte length framing,
 * the reply reassembled across any chunk boundaries, validated like UDP (ID
 * and question). A connection per exchange: TCP is the fallback path (after
 * TC=1) and for tcp:// upstreams, not the common one.
 */
import { randomInt } from 'node:crypto'
import { connect } from 'node:net'
import { DnsvaktError } from '../errors.js'
import { findQuestionEnd } from '../dns/build-reply.js'

export function tcpExchange(address: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
  const id = randomInt(0, 0x10000)
  const framed = Buffer.allocUnsafe(2 + query.length)
  framed.writeUInt16BE(query.length, 0)
  query.copy(framed, 2)
  framed.writeUInt16BE(id, 2)
  const qEnd = findQuestionEnd(query)
  const question = query.subarray(12, qEnd > 0 ? qEnd : query.length)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, noDelay: true })
    let buffered = Buffer.alloc(0)
    let done = false
    const finish = (err: Error | null, wire?: Buffer) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      if (err) reject(err)
      else resolve(wire!)
    }
    const timer = setTimeout(
      () => finish(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_TIMEOUT', `no TCP answer from ${address}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.on('connect', () => socket.write(framed))
    socket.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0))
        buffered = buffered.subarray(2 + msg.length)
        if (msg.length >= 12 + question.length && msg.readUInt16BE(0) === id && question.equals(msg.subarray(12, 12 + question.length))) {
          return finish(null, Buffer.from(msg))
        }
      }
    })
    socket.on('error', (e) => finish(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `TCP to ${address}:${port}: ${e.message}`, { cause: e })))
    socket.on('close', () => finish(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `TCP to ${address}:${port} closed before an answer`)))
  })
}
