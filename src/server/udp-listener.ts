/**
 * A UDP DNS listener on one address. Each datagram goes to the query handler;
 * the socket itself is the reply sink. The receive buffer is enlarged because
 * the default drops packets under bursts of a few hundred outstanding queries.
 */
import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { QueryHandler, ReplySink } from './query-handler.js'

export class UdpListener implements ReplySink {
  private constructor(private readonly socket: Socket) {}

  static bind(address: string, port: number, handler: QueryHandler, receiveBuffer: number): Promise<UdpListener> {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', ipv6Only: isIPv6(address) })
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
    this.socket.send(wire, port, address)
  }

  get port(): number {
    return this.socket.address().port
  }

  get address(): string {
    return this.socket.address().address
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve())
      } catch {
        resolve()
      }
    })
  }
}
