/**
 * The shapes DoT and DoH upstreams share (tls-exchange.ts, https-exchange.ts,
 * made by encrypted-upstream.ts): the target as configured, the exchanger the
 * pool calls (one long-lived connection, many queries on it) and the TLS
 * settings both pass to Node. Apart so the exchangers and their factory do
 * not import each other.
 */
import type { PeerCertificate } from 'node:tls'
import type { TcpExchangeOptions } from './tcp-exchange.js'

/** An upstream reached over one reused connection. */
export interface PersistentExchanger {
  /** A copy of `query` with a fresh ID; resolves with the reply that passes checkReply. */
  exchange(query: Buffer, opts: TcpExchangeOptions): Promise<Buffer>
  /** Closes the connection; exchanges in flight reject with DNSVAKT_ERR_UPSTREAM_NETWORK. */
  close(): void
}

export interface EncryptedTarget {
  readonly address: string
  readonly port: number
  readonly protocol?: string
  readonly serverName?: string | null
  readonly pins?: readonly string[]
  readonly path?: string
}

export interface EncryptedOptions {
  /** PEM CA bundle file; null or undefined: Node's bundled (system) CAs. */
  readonly caFile?: string | null
  readonly randomInt?: (max: number) => number
  /** An idle connection is closed after this long (default 30 s). */
  readonly idleMs?: number
}

/** Connection settings both transports pass to tls.connect / http2.connect. */
export interface TlsClientSettings {
  readonly ca: string | undefined
  readonly servername: string | undefined
  readonly checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined
}
