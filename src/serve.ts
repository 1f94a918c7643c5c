/**
 * Runs the gateway as a service: lists, listeners, the admin listener, list
 * watching, and signals (SIGHUP reloads lists; SIGTERM/SIGINT stop accepting,
 * finish in-flight queries within a bound, and exit 0).
 */
import pino, { type Logger } from 'pino'
import { Registry } from 'prom-client'
import type { GitSync } from './list-sync/git-sync.js'
import type { ListLoader } from './lists/policy-store.js'
import { prepareListTriggers } from './list-sync/list-triggers.js'
import type { ListWatcher } from './list-sync/watch-lists.js'
import type { LoadedConfig } from './config/load-config.js'
import { createGateway, type Gateway } from './gateway.js'
import { explain } from './policy/explain.js'
import { ClientClassifier } from './policy/client-classifier.js'
import { AdminHttp } from './server/admin-http.js'
import { firewallRoute } from './firewall/feed-route.js'
import { VERSION } from './version.js'

export interface Service {
  readonly gateway: Gateway
  readonly admin: AdminHttp | null
  readonly watcher: ListWatcher
  readonly git: GitSync | null
  stop(graceMs?: number): Promise<void>
}

export async function startService(
  loaded: LoadedConfig,
  opts: { logger?: Logger; registry?: Registry; now?: () => number; env?: NodeJS.ProcessEnv; listLoader?: ListLoader } = {},
): Promise<Service> {
  const { config } = loaded
  const log = opts.logger ?? pino({ level: config.log.level, base: { service: 'dnsvakt' } })
  const now = opts.now ?? Date.now
  let gatewayRef: Gateway | null = null
  const triggers = await prepareListTriggers(loaded, log, (trigger) => gatewayRef!.reload(trigger), () => gatewayRef?.metrics.countReload(false))
  const gateway = await createGateway(loaded, { logger: log, registry: opts.registry ?? new Registry(), now, listLoader: opts.listLoader })
  gatewayRef = gateway
  await triggers.start()
  const classifier = new ClientClassifier(config.access.allow, config.groups)
  // An empty token (e.g. DNSVAKT_ADMIN_TOKEN= ) means none: it must never match a missing header.
  const token = config.admin.token || (opts.env ?? process.env)[config.admin.tokenEnv] || null
  let admin: AdminHttp | null = null
  let stopping = false
  if (config.listen.admin !== '') {
    admin = await AdminHttp.listen(config.listen.admin.address, config.listen.admin.port, {
      metrics: async () => ({ contentType: gateway.metrics.registry.contentType, body: await gateway.metrics.registry.metrics() }),
      // Reachable only once lists are loaded and listeners bound; not ready again once stopping (drains load balancers).
      ready: () => !stopping,
      token,
      reload: () => gateway.reload('admin-api'),
      firewall: firewallRoute({ config, snapshot: () => gateway.store.snapshot, now, changedAt: (c) => gateway.feedChanges.changedAt(c) }),
      explain: (name, client, type) =>
        explain({ name, client, type, now: now(), snapshot: gateway.store.snapshot, classifier, mode: config.blocking.mode }),
      status: () => ({
        version: VERSION,
        lists: { version: gateway.store.snapshot.version, loadedAt: new Date(gateway.store.snapshot.loadedAt).toISOString(), categories: gateway.store.snapshot.counts(), allow: gateway.store.snapshot.allow.size },
        exemptions: gateway.store.snapshot.exemptions.map((e) => ({ id: e.id, categories: e.categories, expires: new Date(e.expiresAt).toISOString(), active: e.expiresAt > now() })),
        upstreams: gateway.pools.flatMap((p) => p.health()),
        cache: gateway.cache ? { entries: gateway.cache.entries, bytes: gateway.cache.bytes } : null,
        listeners: gateway.dns,
      }),
    })
  }
  log.info({ event: 'started', version: VERSION, dns: gateway.dns, admin: admin ? `${config.listen.admin === '' ? '' : config.listen.admin.address}:${admin.port}` : null, upstreams: gateway.pools.flatMap((p) => p.health().map((h) => h.upstream)) }, 'dnsvakt is serving')
  return {
    gateway,
    admin,
    watcher: triggers.watcher,
    git: triggers.git,
    async stop(graceMs = 5000) {
      stopping = true
      triggers.stop()
      await gateway.close(graceMs)
      await admin?.close()
    },
  }
}

/** Process-level wiring: signals. Only the CLI calls this. */
export function handleSignals(service: Service, log: Logger): void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ event: 'stopping', signal, inFlight: service.gateway.handler.inFlight }, 'stopping: finishing in-flight queries')
    service.stop(5000).then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGHUP', () => void service.gateway.reload('SIGHUP'))
}
