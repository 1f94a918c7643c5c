/**
 * What a host runs behind its admin listener and signals: one gateway in
 * this process (single-process.ts) or a pool of cluster workers fed by the
 * primary (cluster-primary.ts). The skeleton (service-host.ts) talks only to
 * this interface.
 */
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import type { ReloadResult } from '../lists/policy-store.js'
import type { BoundAddress, WorkerReload, WorkerStatus } from './messages.js'

/** A reload as the host reports it (POST /v1/reload): the lists' result and every serving process's. */
export interface HostReloadResult extends ReloadResult {
  readonly workers: readonly WorkerReload[]
}

export interface HostEngine {
  /** The lists the host accepted (explain and status read them). */
  readonly snapshot: PolicySnapshot
  /** The `lists` part of /v1/status (PolicyStore.status(): version, commit time, entries, last good state). */
  listsStatus(): Record<string, unknown>
  readonly listeners: readonly BoundAddress[]
  readonly upstreams: readonly string[]
  /** How many processes serve DNS (1 in single-process mode). */
  readonly workerCount: number
  reload(trigger: string): Promise<HostReloadResult>
  /** Counts a refused or failed git update in the metrics. */
  countSyncFailure(): void
  metrics(): Promise<{ contentType: string; body: string }>
  workers(): Promise<WorkerStatus[]>
  /** Every process serves, on the host's list version. */
  ready(): boolean
  /** Something serves (or is still starting): /healthz. */
  alive(): boolean
  /** Queries being answered now, where known (single process), for the stop log. */
  inFlight(): number | null
  /** The candidate list version's summary (GET /v1/candidate); absent or null: none evaluated in this process. */
  candidate?(): unknown | null
  /** When a category's firewall feed last changed (ms), where this process tracks it (single process). */
  feedChangedAt?(category: string): number | undefined
  /** Stops accepting, answers what is in flight (bounded by graceMs), closes everything. */
  stop(graceMs: number): Promise<void>
}
