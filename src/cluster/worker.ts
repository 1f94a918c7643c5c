/**
 * A cluster worker: one gateway sharing the listening sockets with the other
 * workers (node:cluster hands every worker the same UDP socket and spreads
 * TCP connections), its metrics registry answering the primary's
 * aggregation requests. Reloads come from the primary, which owns the
 * watcher, git sync, signals and the admin listener.
 */
import type { Logger } from 'pino'
import { AggregatorRegistry, Registry } from 'prom-client'
import type { LoadedConfig } from '../config/load-config.js'
import { createGateway } from '../gateway.js'
import { isMessage, type ToPrimary, type ToWorker } from './messages.js'

export async function runWorker(loaded: LoadedConfig, log: Logger): Promise<void> {
  const registry = new Registry()
  // Constructing one installs prom-client's handler for the primary's metric requests; setRegistries points it at ours.
  new AggregatorRegistry()
  AggregatorRegistry.setRegistries([registry])
  const gateway = await createGateway(loaded, { logger: log, registry })
  const send = (m: ToPrimary) => process.send?.(m)
  process.on('message', (raw: unknown) => {
    if (!isMessage(raw)) return
    const m = raw as ToWorker
    if (m.type === 'dnsvakt:reload') {
      void gateway.reload(m.trigger).then((r) => send({ type: 'dnsvakt:reloaded', ok: r.ok, version: r.version }))
    } else if (m.type === 'dnsvakt:status') {
      send({
        type: 'dnsvakt:status',
        requestId: m.requestId,
        status: {
          pid: process.pid,
          listVersion: gateway.store.snapshot.version,
          upstreams: gateway.pools.flatMap((p) => p.health()),
          cache: gateway.cache ? { entries: gateway.cache.entries, bytes: gateway.cache.bytes } : null,
          inFlight: gateway.handler.inFlight,
        },
      })
    } else if (m.type === 'dnsvakt:sync-failed') {
      gateway.metrics.countReload(false)
    } else if (m.type === 'dnsvakt:shutdown') {
      void gateway.close(m.graceMs).then(() => process.exit(0))
    }
  })
  // The primary decides when to stop; a signal sent to the whole process group is left to it.
  process.on('SIGTERM', () => {})
  process.on('SIGINT', () => {})
  process.on('SIGHUP', () => {})
  // The primary is gone (killed hard): do not linger as an orphan holding the port.
  process.on('disconnect', () => void gateway.close(1000).then(() => process.exit(0)))
  send({ type: 'dnsvakt:ready' })
}
