/**
 * Binds a stream server (TCP, DoT, DoH) to one address: resolves once it
 * listens, rejects with the bind error (EADDRINUSE, EACCES) for the caller
 * to turn into one line naming the key; after that, server errors are
 * swallowed here, since each connection handles its own.
 */
import type { Server } from 'node:net'

export function listenOn<T>(server: Pick<Server, 'once' | 'off' | 'on' | 'listen'>, address: string, port: number, listener: T): Promise<T> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: address, port, ipv6Only: address.includes(':') }, () => {
      server.off('error', reject)
      server.on('error', () => {})
      resolve(listener)
    })
  })
}
