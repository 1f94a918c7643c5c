/**
 * Starts the DoT and DoH listeners of `listen.dot` / `listen.doh` with the
 * certificate of the `tls` section (re-read when its files change), all fed
 * into the gateway's one QueryHandler, and describes them for DDR. The one
 * place the gateway calls for encrypted serving.
 */
import type { Logger } from 'pino'
import type { Config } from '../config/schema.js'
import { ddrServerName } from '../config/encrypted-schema.js'
import { type DdrEndpoint, makeDdrPlan } from '../dns/build-ddr-reply.js'
import type { DdrDesignation } from '../policy/ddr-designation.js'
import { DohListener } from './doh-listener.js'
import { DotListener, type StreamListenerOptions } from './dot-listener.js'
import { listenError } from './bind-listeners.js'
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

/** What the listeners report (observability/encrypted-metrics.ts implements it). */
export interface EncryptedEvents {
  connections(transport: 'dot' | 'doh', delta: number): void
  /** The certificate now served: its notAfter, in ms. */
  certificateExpiry(ms: number): void
  countCertificateReload(ok: boolean): void
}

export interface EncryptedOptions {
  /** Designates the bound listeners when tls.serverName is set (DDR). */
  readonly ddr?: DdrDesignation
  /** access.allow, checked before the TLS handshake. */
  readonly allowed?: (address: string) => boolean
}

/** Binds the listeners; when tls.serverName is set, `ddr` then designates them. */
/** `events` is called (once) only when there is a listener to start, so the metrics exist only then. */
export async function startEncryptedListeners(
  config: Pick<Config, 'listen' | 'tls'>,
  handler: QueryHandler,
  events: () => EncryptedEvents,
  log: Logger,
  eopts: EncryptedOptions = {},
): Promise<EncryptedListeners> {
  const { dot, doh } = config.listen
  const { certFile, keyFile } = config.tls
  if ((dot.length === 0 && doh.length === 0) || certFile === null || keyFile === null) return NONE
  const metrics = events()
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
    allowed: eopts.allowed,
  })
  const listeners: Array<DotListener | DohListener> = []
  const bound: DdrEndpoint[] = []
  try {
    for (const l of dot) {
      const s = await DotListener.bind(l.address, l.port, material.pair, handler, opts('dot')).catch((e: unknown) => Promise.reject(listenError('listen.dot', l, 'DoT', e)))
      material.add(s.server)
      listeners.push(s)
      bound.push({ transport: 'dot', address: l.address, port: s.port })
    }
    for (const l of doh) {
      const s = await DohListener.bind(l.address, l.port, material.pair, handler, opts('doh')).catch((e: unknown) => Promise.reject(listenError('listen.doh', l, 'DoH', e)))
      material.add(s.server)
      listeners.push(s)
      bound.push({ transport: 'doh', address: l.address, port: s.port })
    }
  } catch (e) {
    material.close()
    await Promise.all(listeners.map((s) => s.close(0)))
    throw e
  }
  const serverName = ddrServerName(config)
  if (serverName !== null) eopts.ddr?.designate(makeDdrPlan(serverName, bound, DDR_TTL))
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
function warnAboutNames(config: Pick<Config, 'listen' | 'tls'>, material: TlsMaterial, log: Logger): void {
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
