/** The IPC messages between the cluster primary and its workers. */

export type ToWorker =
  | { readonly type: 'dnsvakt:reload'; readonly trigger: string }
  | { readonly type: 'dnsvakt:status'; readonly requestId: number }
  | { readonly type: 'dnsvakt:shutdown'; readonly graceMs: number }
  /** A git update the primary refused: counted once, by one worker. */
  | { readonly type: 'dnsvakt:sync-failed' }

export type ToPrimary =
  | { readonly type: 'dnsvakt:ready' }
  | { readonly type: 'dnsvakt:status'; readonly requestId: number; readonly status: WorkerStatus }
  | { readonly type: 'dnsvakt:reloaded'; readonly ok: boolean; readonly version: string }

export interface WorkerStatus {
  readonly pid: number
  readonly listVersion: string
  readonly upstreams: ReadonlyArray<{ upstream: string; up: boolean; consecutiveFailures: number }>
  readonly cache: { entries: number; bytes: number } | null
  readonly inFlight: number
}

export const isMessage = (m: unknown): m is { type: string } =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('dnsvakt:')
