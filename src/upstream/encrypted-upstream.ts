/**
 * What DoT and DoH upstreams share: the exchanger shape the pool calls (one
 * long-lived connection per upstream, many queries on it), the certificate
 * check (CA chain and name by Node's tls, then an optional SPKI pin), and the
 * factory the pool uses to make one for a `tls` or `https` target.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { checkServerIdentity } from 'node:tls'
import { DnsvaktError } from '../errors.js'
import type { EncryptedOptions, EncryptedTarget, PersistentExchanger, TlsClientSettings } from './encrypted-target.js'
import { HttpsUpstream } from './https-exchange.js'
import { TlsUpstream } from './tls-exchange.js'

export type { EncryptedOptions, EncryptedTarget, PersistentExchanger, TlsClientSettings }

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
