/**
 * The DNS listeners from the `listen` config section: UDP and TCP on every
 * address of listen.dns (TCP on the port UDP got, so port 0 gives one port
 * for both). All or nothing: when one bind fails, the sockets already open
 * are closed and the error names the key and the address, in one line an
 * operator can act on (a busy port, a port below 1024 without the right).
 * The DoT/DoH listeners (encrypted-listeners.ts) start after the plain ones,
 * in the same all-or-nothing, and stop and close with TCP.
 */
import type { Config } from '../config/schema.js'
import { formatHostPort } from '../config/fields.js'
import { DnsvaktError } from '../errors.js'
import type { DdrEndpoint } from '../dns/build-ddr-reply.js'
import type { QueryHandler } from './query-handler.js'
import { TcpListener, type TcpListenerOptions } from './tcp-listener.js'
import { UdpListener } from './udp-listener.js'

export interface BoundDns {
  readonly address: string
  readonly port: number
}

export interface DnsListeners {
  readonly bound: readonly BoundDns[]
  /** DoT/DoH as bound; empty when none is configured. */
  readonly encrypted: readonly DdrEndpoint[]
  /**
   * Stops taking queries: UDP sockets stop reading, TCP stops accepting and
   * closes each connection once its answers are out (at most `graceMs`).
   * Resolves when TCP is closed.
   */
  stopAccepting(graceMs: number): Promise<void>
  /** Closes the UDP sockets (call once in-flight answers are sent) and waits for TCP. */
  close(): Promise<void>
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (another DNS server, or dnsvakt already running?)',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'this host has no such address',
}

/** A bind failure as one line naming the config key, or the error itself when it is not a bind failure. */
export function listenError(key: string, where: { address: string; port: number }, protocol: string, cause: unknown): unknown {
  const code = (cause as NodeJS.ErrnoException | null)?.code
  if (code === undefined || !(code in WHY)) return cause
  return new DnsvaktError('DNSVAKT_ERR_LISTEN', `${key}: cannot listen on ${formatHostPort(where)} (${protocol}): ${WHY[code]}`, { cause })
}

/** TCP checks at accept (access.allow) and where refused or cut connections are reported. */
export type TcpEdge = Pick<TcpListenerOptions, 'allowed' | 'onClosed'>

/** What bindListeners needs of the DoT/DoH listeners (encrypted-listeners.ts, which imports this file). */
export interface StreamListeners {
  readonly bound: readonly DdrEndpoint[]
  close(graceMs: number): Promise<void>
}

/** `startEncrypted`: binds the DoT/DoH listeners once the plain ones are up (encrypted-listeners.ts). */
export async function bindListeners(
  section: Config['listen'],
  handler: QueryHandler,
  onConnections: (delta: number) => void,
  edge: TcpEdge = {},
  startEncrypted?: () => Promise<StreamListeners>,
): Promise<DnsListeners> {
  const udp: UdpListener[] = []
  const tcp: TcpListener[] = []
  const bound: BoundDns[] = []
  let tcpClosed: Promise<void> | undefined
  const closeAll = async () => {
    await Promise.all([...udp.map((u) => u.close()), ...tcp.map((t) => t.close())])
  }
  for (const l of section.dns) {
    let protocol = 'UDP'
    try {
      const u = await UdpListener.bind(l.address, l.port, handler, section.udpReceiveBuffer)
      udp.push(u)
      protocol = 'TCP'
      const t = await TcpListener.bind(l.address, u.port, handler, {
        idleTimeoutMs: section.tcpIdleTimeout,
        maxConnections: section.tcpMaxConnections,
        maxConnectionsPerClient: section.tcpMaxConnectionsPerClient,
        onConnections,
        ...edge,
      })
      tcp.push(t)
      bound.push({ address: l.address, port: u.port })
    } catch (e) {
      await closeAll()
      throw listenError('listen.dns', l, protocol, e)
    }
  }
  let encrypted: StreamListeners | null = null
  try {
    encrypted = (await startEncrypted?.()) ?? null
  } catch (e) {
    await closeAll()
    throw e
  }
  const closeStreams = (graceMs: number) => Promise.all([...tcp.map((t) => t.close(graceMs)), encrypted?.close(graceMs)]).then(() => {})
  return {
    bound,
    encrypted: encrypted?.bound ?? [],
    async stopAccepting(graceMs) {
      for (const u of udp) u.stopReceiving()
      tcpClosed ??= closeStreams(graceMs)
      await tcpClosed
    },
    async close() {
      tcpClosed ??= closeStreams(0)
      await Promise.all(udp.map((u) => u.close()))
      await tcpClosed
    },
  }
}
