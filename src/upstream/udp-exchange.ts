/**
 * One DNS query over UDP to one upstream, with the spoofing defences a
 * resolver needs (like Unbound's): a fresh query ID from `crypto` for every
 * exchange, a source port picked at random from a pool of sockets that are
 * replaced after a bounded number of uses, and a reply accepted only if it
 * comes from the upstream's exact address and port, carries our ID, has QR
 * set and repeats our question byte for byte. Anything else is ignored (and
 * reported) while we keep waiting for the real reply.
 */
import { randomInt } from 'node:crypto'
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import { DnsvaktError } from '../errors.js'
import { FLAG } from '../dns/constants.js'
import { findQuestionEnd } from '../dns/build-reply.js'

export type IgnoredReason = 'wrong-source' | 'wrong-id' | 'wrong-question' | 'malformed'

interface Pending {
  readonly address: string
  readonly port: number
  readonly question: Buffer
  readonly resolve: (wire: Buffer) => void
  readonly reject: (e: Error) => void
  readonly timer: NodeJS.Timeout
}

interface PooledSocket {
  readonly socket: Socket
  readonly pending: Map<number, Pending>
  uses: number
}

/** Sockets per address family; each is retired after this many queries, so source ports keep moving. */
const POOL_SIZE = 8
const USES_PER_SOCKET = 2000

export class UdpExchanger {
  private readonly pools = new Map<'udp4' | 'udp6', PooledSocket[]>()
  private closed = false

  constructor(
    private readonly onIgnored: (upstream: string, reason: IgnoredReason) => void = () => {},
    private readonly receiveBuffer = 4 * 1024 * 1024,
  ) {}

  /** Sends `query` (its ID is overwritten) and resolves with the validated reply. */
  exchange(address: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', 'exchanger closed'))
    const ps = this.pick(isIPv6(address) ? 'udp6' : 'udp4')
    let id = randomInt(0, 0x10000)
    while (ps.pending.has(id)) id = randomInt(0, 0x10000)
    const wire = Buffer.from(query)
    wire.writeUInt16BE(id, 0)
    const qEnd = findQuestionEnd(wire)
    const question = wire.subarray(12, qEnd > 0 ? qEnd : wire.length)
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        ps.pending.delete(id)
        this.retireIfDone(ps)
        reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_TIMEOUT', `no answer from ${address}:${port} within ${timeoutMs} ms`))
      }, timeoutMs)
      ps.pending.set(id, { address, port, question, resolve, reject, timer })
      ps.socket.send(wire, port, address, (err) => {
        if (!err) return
        const p = ps.pending.get(id)
        if (!p) return
        clearTimeout(p.timer)
        ps.pending.delete(id)
        reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', `cannot send to ${address}:${port}: ${err.message}`, { cause: err }))
      })
    })
  }

  close(): void {
    this.closed = true
    for (const list of this.pools.values()) {
      for (const ps of list) {
        for (const p of ps.pending.values()) {
          clearTimeout(p.timer)
          p.reject(new DnsvaktError('DNSVAKT_ERR_UPSTREAM_NETWORK', 'exchanger closed'))
        }
        ps.socket.close()
      }
    }
    this.pools.clear()
  }

  private pick(type: 'udp4' | 'udp6'): PooledSocket {
    let list = this.pools.get(type)
    if (!list) {
      list = []
      this.pools.set(type, list)
    }
    while (list.length < POOL_SIZE) list.push(this.open(type))
    const i = randomInt(0, list.length)
    const ps = list[i]
    if (++ps.uses >= USES_PER_SOCKET) {
      // Replace it for new queries; it stays open until its pending replies are in.
      list[i] = this.open(type)
      this.retireIfDone(ps)
    }
    return ps
  }

  private retireIfDone(ps: PooledSocket): void {
    if (ps.uses >= USES_PER_SOCKET && ps.pending.size === 0) ps.socket.close()
  }

  private open(type: 'udp4' | 'udp6'): PooledSocket {
    const socket = createSocket({ type })
    const ps: PooledSocket = { socket, pending: new Map(), uses: 0 }
    socket.on('message', (msg, rinfo) => this.receive(ps, msg, rinfo))
    socket.on('error', () => {})
    socket.bind(0, () => {
      try {
        socket.setRecvBufferSize(this.receiveBuffer)
      } catch {
        // Capped by the kernel: the default still works.
      }
    })
    socket.unref()
    return ps
  }

  private receive(ps: PooledSocket, msg: Buffer, rinfo: RemoteInfo): void {
    const from = `${rinfo.address}:${rinfo.port}`
    if (msg.length < 12) return this.onIgnored(from, 'malformed')
    const p = ps.pending.get(msg.readUInt16BE(0))
    if (!p) {
      // Not one of ours: count it against the sender if it claims to be an upstream we use.
      return this.onIgnored(from, 'wrong-id')
    }
    const upstream = p.address.includes(":") ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`
    if (rinfo.port !== p.port || !sameAddress(rinfo.address, p.address)) return this.onIgnored(upstream, 'wrong-source')
    if ((msg.readUInt16BE(2) & FLAG.QR) === 0) return this.onIgnored(upstream, 'malformed')
    if (msg.readUInt16BE(4) !== 1 || msg.length < 12 + p.question.length || !p.question.equals(msg.subarray(12, 12 + p.question.length))) {
      return this.onIgnored(upstream, 'wrong-question')
    }
    clearTimeout(p.timer)
    ps.pending.delete(msg.readUInt16BE(0))
    this.retireIfDone(ps)
    p.resolve(msg)
  }
}

const sameAddress = (a: string, b: string) => a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '') || a.split('%')[0] === b.split('%')[0]
