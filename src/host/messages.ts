/**
 * The IPC messages between the cluster primary and its workers. The channel
 * uses Node's 'advanced' serialization, so the lists travel as the loader's
 * typed arrays (in bounded pieces, see lists/snapshot-transfer.ts) rather
 * than as JSON: the primary reads and checks the folder once, and every
 * worker serves exactly what it accepted.
 */
import type { SnapshotHeader, SnapshotPiece } from '../lists/snapshot-transfer.js'
import type { ClientsTodayBatch } from '../observability/clients-today.js'

export interface BoundAddress {
  readonly address: string
  readonly port: number
}

export interface UpstreamHealth {
  readonly upstream: string
  readonly up: boolean
  readonly consecutiveFailures: number
}

/** One serving process, as /v1/status reports it (one entry in single-process mode). */
export interface WorkerStatus {
  readonly pid: number
  readonly listVersion: string
  readonly upstreams: readonly UpstreamHealth[]
  readonly cache: { entries: number; bytes: number } | null
  readonly inFlight: number
}

/** What one serving process did with a reload. */
export interface WorkerReload {
  readonly pid: number
  readonly ok: boolean
  readonly version: string
  readonly problems: readonly string[]
}

export type ToWorker =
  /** Lists arrive in pieces (lists/snapshot-transfer.ts): the header, then the pieces; init or lists then take them. */
  | { readonly type: 'dnsvakt:lists-begin'; readonly transferId: number; readonly header: SnapshotHeader }
  | { readonly type: 'dnsvakt:lists-piece'; readonly transferId: number; readonly piece: SnapshotPiece }
  /**
   * The answer to `hello`: the pseudonym secret (hex), the transfer holding the lists to start on,
   * and how many workers share the sockets (each enforces its share of the rate limits).
   */
  | { readonly type: 'dnsvakt:init'; readonly secret: string; readonly transferId: number; readonly servingLastGood: boolean; readonly workers: number }
  /** Lists the primary accepted: take them and acknowledge with the version served. */
  | { readonly type: 'dnsvakt:lists'; readonly requestId: number; readonly trigger: string; readonly transferId: number; readonly version: string; readonly servingLastGood: boolean }
  | { readonly type: 'dnsvakt:status'; readonly requestId: number }
  /** A scrape: the worker's registry as prom-client JSON, aggregated with the primary's own. */
  | { readonly type: 'dnsvakt:metrics'; readonly requestId: number }
  | { readonly type: 'dnsvakt:shutdown'; readonly graceMs: number }
  /** A reload (or git update) the primary refused: counted once, by one worker, in the metrics. */
  | { readonly type: 'dnsvakt:reload-failed' }

export type ToPrimary =
  | { readonly type: 'dnsvakt:hello' }
  | { readonly type: 'dnsvakt:ready'; readonly version: string; readonly dns: readonly BoundAddress[]; readonly upstreams: readonly string[] }
  /** The worker could not start (a busy port, say): one line naming the key and address. */
  | { readonly type: 'dnsvakt:start-failed'; readonly line: string }
  | { readonly type: 'dnsvakt:status'; readonly requestId: number; readonly status: WorkerStatus }
  | { readonly type: 'dnsvakt:reloaded'; readonly requestId: number; readonly ok: boolean; readonly version: string; readonly problems: readonly string[] }
  | { readonly type: 'dnsvakt:metrics'; readonly requestId: number; readonly metrics: MetricsJson }
  /** Pseudonyms new to this worker today, for the host's one distinct set (observability/clients-today.ts). */
  | { readonly type: 'dnsvakt:clients-today'; readonly batch: ClientsTodayBatch }

/** What prom-client's Registry.getMetricsAsJSON() gives, as AggregatorRegistry.aggregate takes it. */
export type MetricsJson = Awaited<ReturnType<import('prom-client').Registry['getMetricsAsJSON']>>

export const isMessage = (m: unknown): m is { type: string } =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('dnsvakt:')
