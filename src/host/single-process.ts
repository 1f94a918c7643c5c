/**
 * One process serving (`workers: 1`): the host skeleton around one gateway.
 * Exports what the CLI and tests use: startService, handleSignals, Service.
 */
import pino, { type Logger } from 'pino'
import { Registry } from 'prom-client'
import type { LoadedConfig } from '../config/load-config.js'
import { createGateway, type Gateway } from '../gateway.js'
import type { GitSync } from '../list-sync/git-sync.js'
import type { ListWatcher } from '../list-sync/watch-lists.js'
import type { ListLoader } from '../lists/policy-store.js'
import type { AdminHttp } from '../server/admin-http.js'
import type { HostEngine, HostReloadResult } from './host-engine.js'
import { gatewayStatus, gatewayUpstreams } from './gateway-status.js'
import { startHost } from './service-host.js'
import { installSignals } from './signals.js'

export interface Service {
  readonly gateway: Gateway
  readonly admin: AdminHttp | null
  readonly watcher: ListWatcher
  readonly git: GitSync | null
  /** A reload as the admin API runs it (the lists' result, and this process's). */
  reload(trigger: string): Promise<HostReloadResult>
  stop(graceMs?: number): Promise<void>
}

export interface ServiceOptions {
  logger?: Logger
  registry?: Registry
  now?: () => number
  env?: NodeJS.ProcessEnv
  listLoader?: ListLoader
}

export async function startService(loaded: LoadedConfig, opts: ServiceOptions = {}): Promise<Service> {
  const log = opts.logger ?? pino({ level: loaded.config.log.level, base: { service: 'dnsvakt' } })
  const registry = opts.registry ?? new Registry()
  const host = await startHost(
    loaded,
    log,
    async (secret) => {
      // A busy port arrives as one line naming listen.dns (bind-listeners.ts).
      const gateway = await createGateway(loaded, { logger: log, registry, now: opts.now, listLoader: opts.listLoader, pseudonymSecret: secret.secret })
      return gatewayEngine(gateway)
    },
    { env: opts.env, now: opts.now },
  )
  return {
    gateway: host.engine.gateway,
    admin: host.admin,
    watcher: host.triggers.watcher,
    git: host.triggers.git,
    reload: (trigger) => host.reload(trigger),
    stop: (graceMs) => host.stop(graceMs),
  }
}

/** Process-level wiring: signals. Only the CLI calls this. */
export function handleSignals(service: Service, log: Logger): void {
  installSignals({ stop: (g) => service.stop(g), reload: (t) => service.reload(t), describe: () => ({ inFlight: service.gateway.handler.inFlight }) }, log)
}

function gatewayEngine(gateway: Gateway): HostEngine & { readonly gateway: Gateway } {
  const registry = gateway.metrics.registry
  return {
    gateway,
    get snapshot() {
      return gateway.store.snapshot
    },
    listsStatus: () => gateway.store.status(),
    listeners: gateway.dns,
    upstreams: gatewayUpstreams(gateway),
    workerCount: 1,
    async reload(trigger) {
      const r = await gateway.reload(trigger)
      return { ...r, workers: [{ pid: process.pid, ok: r.ok, version: r.version, problems: r.problems }] }
    },
    countSyncFailure: () => gateway.metrics.countReload(false),
    metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    workers: async () => [gatewayStatus(gateway)],
    // Reachable only once the lists are loaded and the listeners bound.
    ready: () => true,
    alive: () => true,
    inFlight: () => gateway.handler.inFlight,
    candidate: () => gateway.candidate?.summary() ?? null,
    feedChangedAt: (category) => gateway.feedChanges.changedAt(category),
    stop: (graceMs) => gateway.close(graceMs),
  }
}
