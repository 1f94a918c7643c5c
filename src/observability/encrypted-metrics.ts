/**
 * Metrics of the encrypted listeners, on the registry passed in: open DoT and
 * DoH connections, the listener certificate's expiry (so an alert fires
 * before clients start refusing it), and certificate reloads by result.
 * Kept apart from metrics.ts; registered only when DoT/DoH listeners exist.
 * The shape is server/encrypted-listeners.ts's EncryptedEvents (not imported:
 * server/ must not depend on observability/ and back).
 */
import { Counter, Gauge, type Registry } from 'prom-client'

export interface EncryptedMetrics {
  connections(transport: 'dot' | 'doh', delta: number): void
  /** The certificate now served: its notAfter, in ms. */
  certificateExpiry(ms: number): void
  countCertificateReload(ok: boolean): void
}

export function createEncryptedMetrics(registry: Registry): EncryptedMetrics {
  const registers = [registry]
  const conns = new Gauge({ name: 'dnsvakt_encrypted_connections', help: 'Open client DoT and DoH connections.', labelNames: ['transport'], registers })
  conns.set({ transport: 'dot' }, 0)
  conns.set({ transport: 'doh' }, 0)
  const expiry = new Gauge({ name: 'dnsvakt_tls_certificate_expiry_timestamp_seconds', help: 'Unix time the DoT/DoH certificate now served expires.', registers, aggregator: 'min' })
  const reloads = new Counter({ name: 'dnsvakt_tls_certificate_reloads_total', help: 'DoT/DoH certificate reloads after the files changed, by result.', labelNames: ['result'], registers })
  reloads.inc({ result: 'success' }, 0)
  reloads.inc({ result: 'failure' }, 0)
  return {
    connections: (transport, delta) => conns.inc({ transport }, delta),
    certificateExpiry: (ms) => expiry.set(ms / 1000),
    countCertificateReload: (ok) => reloads.inc({ result: ok ? 'success' : 'failure' }),
  }
}
