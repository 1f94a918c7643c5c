/**
 * A UDP DNS listener on one address. Each datagram goes to the query handler;
 * the socket itself is the reply sink. The receive buffer is enlarged because
 * the default drops packets under bursts of a few hundred outstanding queries.
 */
import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { QueryHandler, ReplySink } from './query-handler.js'

/**
 * Replies always go to an IP literal (the client's source address), so the
 * name lookup dgram does before every send is answered synchronously here;
 * Node's default defers it with process.nextTick, one extra tick per answer.
 */
const literalLookup =
  (family: 4 | 6) =>
  (address: string, _family: unknown, callback: (err: Error | null, address: string, family: number) => void): void => {
    callback(null, address, family)
  }

export class UdpListener implements ReplySink {
  private constructor(private readonly socket: Socket) {}

  static bind(address: string, port: number, handler: QueryHandler, receiveBuffer: number): Promise<UdpListener> {
    const v6 = isIPv6(address)
    // An IPv6 listener is ipv6Only, so its clients (and reply addresses) are IPv6; an IPv4 one's are IPv4.
    const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6, lookup: literalLookup(v6 ? 6 : 4) })
    const listener = new UdpListener(socket)
    return new Promise((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(port, address, () => {
        socket.off('error', reject)
        // A send error (ICMP unreachable reported late, a full buffer) must not kill the listener.
        socket.on('error', () => {})
        try {
          socket.setRecvBufferSize(receiveBuffer)
          socket.setSendBufferSize(receiveBuffer)
        } catch {
          // The kernel may cap it (net.core.rmem_max); the default still works, just drops sooner.
        }
        socket.on('message', (msg, rinfo) => handler.handle(msg, rinfo.address, rinfo.port, 'udp', listener))
        resolve(listener)
      })
    })
  }

  send(wire: Buffer, address: string, port: number): void {
    // No completion callback: with one, libuv reports every send back into JS
    // (~1 us per answer); close() asks the socket for its queue instead.
    this.socket.send(wire, port, address)
  }

  /** Stops taking queries but keeps the socket open, so answers still in flight can be sent. */
  stopReceiving(): void {
    this.socket.removeAllListeners('message')
  }

  /** Answers accepted by send() that the kernel has not taken yet. */
  private queued(): number {
    try {
      return this.socket.getSendQueueCount()
    } catch {
      return 0
    }
  }

  get port(): number {
    return this.socket.address().port
  }

  get address(): string {
    return this.socket.address().address
  }

  async close(): Promise<void> {
    // Let answers already handed to send() go out first (bounded: a few event-loop turns).
    for (let i = 0; i < 100 && this.queued() > 0; i++) await new Promise((r) => setImmediate(r))
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve())
      } catch {
        resolve()
      }
    })
  }
}
