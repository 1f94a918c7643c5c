/**
 * What the admin listener answers, the same for one process and for the
 * cluster primary: the token rule, explain, reload, and one /v1/status shape
 * whatever the worker count (`workers` always a list; one entry in
 * single-process mode). The host's engine supplies the facts.
 */
import type { LoadedConfig } from '../config/load-config.js'
import { ddrServerName } from '../config/encrypted-schema.js'
import { firewallRoute } from '../firewall/feed-route.js'
import { ClientClassifier } from '../policy/client-classifier.js'
import { explain } from '../policy/explain.js'
import type { AdminRoutes } from '../server/admin-http.js'
import { VERSION } from '../version.js'
import type { HostEngine } from './host-engine.js'
import type { UpstreamHealth, WorkerStatus } from './messages.js'

/**
 * The bearer token for POST endpoints, or null (POST answers 403). An empty
 * value (e.g. `DNSVAKT_ADMIN_TOKEN=`) means none: it must never match a
 * missing or empty header.
 */
export function adminToken(loaded: LoadedConfig, env: NodeJS.ProcessEnv): string | null {
  const { admin } = loaded.config
  return admin.token || env[admin.tokenEnv] || null
}

export function buildAdminRoutes(
  loaded: LoadedConfig,
  engine: HostEngine,
  opts: { env: NodeJS.ProcessEnv; now: () => number; stopping: () => boolean },
): AdminRoutes {
  const { config } = loaded
  const classifier = new ClientClassifier(config.access.allow, config.groups)
  return {
    token: adminToken(loaded, opts.env),
    metrics: () => engine.metrics(),
    alive: () => engine.alive(),
    // Not ready again once stopping: load balancers drain before the listeners close.
    ready: () => !opts.stopping() && engine.ready(),
    reload: () => engine.reload('admin-api'),
    explain: (name, client, type) => explain({ name, client, type, now: opts.now(), snapshot: engine.snapshot, classifier, mode: config.blocking.mode, ddrServerName: ddrServerName(config) }),
    firewall: firewallRoute({ config, snapshot: () => engine.snapshot, now: opts.now, changedAt: (category) => engine.feedChangedAt?.(category) }),
    status: async () => statusBody(engine, await engine.workers(), opts.now()),
  }
}

/** The /v1/status body (documented in README "Admin API"). */
export function statusBody(engine: Pick<HostEngine, 'listeners' | 'snapshot' | 'listsStatus'>, workers: readonly WorkerStatus[], now: number) {
  const snapshot = engine.snapshot
  return {
    version: VERSION,
    lists: engine.listsStatus(),
    exemptions: snapshot.exemptions.map((e) => ({ id: e.id, categories: e.categories, expires: new Date(e.expiresAt).toISOString(), active: e.expiresAt > now })),
    upstreams: mergeUpstreams(workers),
    cache: sumCaches(workers),
    listeners: engine.listeners,
    workers,
  }
}

/** An upstream is up for the host only if every worker answering sees it up; failures are the worst worker's. */
export function mergeUpstreams(workers: readonly WorkerStatus[]): UpstreamHealth[] {
  const merged = new Map<string, UpstreamHealth>()
  for (const w of workers) {
    for (const u of w.upstreams) {
      const seen = merged.get(u.upstream)
      merged.set(u.upstream, seen ? { upstream: u.upstream, up: seen.up && u.up, consecutiveFailures: Math.max(seen.consecutiveFailures, u.consecutiveFailures) } : { ...u })
    }
  }
  return [...merged.values()]
}

function sumCaches(workers: readonly WorkerStatus[]): { entries: number; bytes: number } | null {
  const caches = workers.flatMap((w) => (w.cache ? [w.cache] : []))
  if (caches.length === 0) return null
  return { entries: caches.reduce((n, c) => n + c.entries, 0), bytes: caches.reduce((n, c) => n + c.bytes, 0) }
}
