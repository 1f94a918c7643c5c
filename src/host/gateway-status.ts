/**
 * One gateway's facts as the host reports them (a /v1/status `workers`
 * entry, the start log's upstreams), the same in one process and in a
 * cluster worker.
 */
import type { Gateway } from '../gateway.js'
import type { WorkerStatus } from './messages.js'

export function gatewayStatus(gateway: Gateway): WorkerStatus {
  return {
    pid: process.pid,
    listVersion: gateway.store.snapshot.version,
    upstreams: gateway.pools.flatMap((p) => p.health()),
    cache: gateway.cache ? { entries: gateway.cache.entries, bytes: gateway.cache.bytes } : null,
    inFlight: gateway.handler.inFlight,
  }
}

/** Every upstream the gateway forwards to, default pool and zones, once each. */
export function gatewayUpstreams(gateway: Gateway): string[] {
  return [...new Set(gateway.pools.flatMap((p) => p.health().map((h) => h.upstream)))]
}
