/**
 * What DoT and DoH upstreams share: the exchanger shape the pool calls (one
 * long-lived connection per upstream, many queries on it), the certificate
 * check (CA chain and name by Node's tls, then an optional SPKI pin), and the
 * factory the pool uses to make one for a `tls` or `https` target.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { checkServerIdentity, type PeerCertificate } from 'node:tls'
import { DnsvaktError } from '../errors.js'
import { HttpsUpstream } from './https-exchange.js'
import type { TcpExchangeOptions } from './tcp-exchange.js'
import { TlsUpstream } from './tls-exchange.js'

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

/** Makes the exchanger for a tls:// or https:// target; null for plain UDP/TCP targets. */
export function encryptedExchanger(target: EncryptedTarget, opts: EncryptedOptions): PersistentExchanger | null {
  if (target.protocol !== 'tls' && target.protocol !== 'https') return null
  const settings = tlsClientSettings(target, opts.caFile ?? null)
  return target.protocol === 'tls' ? new TlsUpstream(target, settings, opts) : new HttpsUpstream(target, settings, opts)
}

export function tlsClientSettings(target: EncryptedTarget, caFile: string | null): TlsClientSettings {
  let ca: string | undefined
  if (caFile !== null) {
    try {
      ca = readFileSync(caFile, 'utf8')
    } catch (cause) {
      throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `upstream.caFile: cannot read ${caFile}: ${(cause as Error).message}`, { cause })
    }
  }
  const pins = target.pins ?? []
  const name = target.serverName ?? undefined
  return {
    ca,
    servername: name,
    checkServerIdentity: (host, cert) => {
      // The name we configured, not whatever the connect address was.
      const bad = checkServerIdentity(name ?? host, cert)
      if (bad !== undefined || pins.length === 0) return bad
      // cert.pubkey is the bare key (an EC point for EC keys); the pin is over the DER SubjectPublicKeyInfo.
      const spki = createHash('sha256').update(new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' })).digest('base64')
      return pins.includes(spki) ? undefined : new Error(`certificate public key sha256/${spki} matches no configured pin`)
    },
  }
}
