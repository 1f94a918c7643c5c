/**
 * Starts the DoT and DoH listeners of `listen.dot` / `listen.doh` with the
 * certificate of the `tls` section (re-read when its files change), all fed
 * into the gateway's one QueryHandler, and describes them for DDR. The one
 * place the gateway calls for encrypted serving.
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { Config } from '../config/schema.js'
import { type DdrEndpoint, makeDdrPlan } from '../dns/build-ddr-reply.js'
import type { DdrDesignation } from '../policy/ddr-designation.js'
import { createEncryptedMetrics } from '../observability/encrypted-metrics.js'
import { DohListener } from './doh-listener.js'
import { DotListener, type StreamListenerOptions } from './dot-listener.js'
import type { QueryHandler } from './query-handler.js'
import { TlsMaterial } from './tls-context.js'

export interface EncryptedListeners {
  /** What is bound (port 0 resolved): the DDR endpoints. */
  readonly bound: readonly DdrEndpoint[]
  readonly material: TlsMaterial | null
  close(graceMs: number): Promise<void>
}

const NONE: EncryptedListeners = { bound: [], material: null, close: async () => {} }

/** TTL of the DDR answers: devices re-check the designation about this often. */
const DDR_TTL = 300

/** Binds the listeners; when tls.serverName is set, `ddr` then designates them. */
export async function startEncryptedListeners(config: Config, handler: QueryHandler, registry: Registry, log: Logger, ddr?: DdrDesignation): Promise<EncryptedListeners> {
  const { dot, doh } = config.listen
  const { certFile, keyFile } = config.tls
  if ((dot.length === 0 && doh.length === 0) || certFile === null || keyFile === null) return NONE
  const metrics = createEncryptedMetrics(registry)
  const material = TlsMaterial.open(certFile, keyFile, config.tls.reloadInterval, {
    onReload: (pair) => {
      metrics.countCertificateReload(true)
      metrics.certificateExpiry(Date.parse(pair.leaf.validTo))
      log.info({ event: 'tls-reloaded', subject: pair.leaf.subject, validTo: pair.leaf.validTo }, 'DoT/DoH certificate reloaded')
    },
    onReloadFailed: (e) => {
      metrics.countCertificateReload(false)
      log.warn({ event: 'tls-reload-refused', err: e.message }, 'new DoT/DoH certificate refused; the last good one keeps serving')
    },
  })
  metrics.certificateExpiry(Date.parse(material.pair.leaf.validTo))
  warnAboutNames(config, material, log)
  const opts = (transport: 'dot' | 'doh'): StreamListenerOptions => ({
    idleTimeoutMs: config.listen.tcpIdleTimeout,
    maxConnections: config.listen.tcpMaxConnections,
    onConnections: (d) => metrics.connections(transport, d),
  })
  const listeners: Array<DotListener | DohListener> = []
  const bound: DdrEndpoint[] = []
  try {
    for (const l of dot) {
      const s = await DotListener.bind(l.address, l.port, material.pair, handler, opts('dot'))
      material.add(s.server)
      listeners.push(s)
      bound.push({ transport: 'dot', address: l.address, port: s.port })
    }
    for (const l of doh) {
      const s = await DohListener.bind(l.address, l.port, material.pair, handler, opts('doh'))
      material.add(s.server)
      listeners.push(s)
      bound.push({ transport: 'doh', address: l.address, port: s.port })
    }
  } catch (e) {
    material.close()
    await Promise.all(listeners.map((s) => s.close(0)))
    throw e
  }
  if (config.tls.serverName !== null) ddr?.designate(makeDdrPlan(config.tls.serverName, bound, DDR_TTL))
  return {
    bound,
    material,
    async close(graceMs) {
      material.close()
      await Promise.all(listeners.map((s) => s.close(graceMs)))
    },
  }
}

/**
 * RFC 9462 s4.2: a client verifies a designation only if the certificate
 * covers the address it asked (the plain listener's IP). Say so at start-up.
 */
function warnAboutNames(config: Config, material: TlsMaterial, log: Logger): void {
  const leaf = material.pair.leaf
  const name = config.tls.serverName
  if (name !== null && leaf.checkHost(name) === undefined) {
    log.warn({ event: 'tls-name-mismatch', serverName: name, subject: leaf.subject }, `the DoT/DoH certificate does not cover tls.serverName ${name}; clients will refuse it`)
  }
  const uncovered = config.listen.dns.map((l) => l.address).filter((a) => a !== '0.0.0.0' && a !== '::' && leaf.checkIP(a) === undefined)
  if (name !== null && uncovered.length > 0) {
    log.warn({ event: 'ddr-unverifiable', addresses: uncovered }, 'the certificate has no IP entry for these DNS listener addresses: devices will not accept the DDR designation (RFC 9462 s4.2) until it does')
  }
}
