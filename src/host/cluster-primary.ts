/**
 * The cluster primary (`workers` > 1): the host skeleton around a pool of
 * workers that share the DNS sockets. The primary reads and checks the lists
 * once (in a loader thread, like one process does) and hands the accepted
 * snapshot to every worker; workers never read the folder. A reload counts
 * as done only when every worker acknowledges the new version; /readyz is
 * not ready while they disagree. Metrics are the workers' registries (asked
 * for over IPC at each scrape) aggregated with the primary's own, which holds
 * what only the host can know: the one distinct set of clients blocked today
 * (observability/clients-today.ts) and the primary's dropped log lines.
 */
import type { Logger } from 'pino'
import { AggregatorRegistry, Registry } from 'prom-client'
import type { LoadedConfig } from '../config/load-config.js'
import { listOptionsFor } from '../lists/load-lists.js'
import { PolicyStore } from '../lists/policy-store.js'
import { snapshotToData } from '../lists/snapshot-data.js'
import { BYPASS_CLIENTS_TODAY, BYPASS_CLIENTS_TODAY_HELP } from '../observability/bypass-telemetry.js'
import { ClientsToday } from '../observability/clients-today.js'
import { droppedLinesMetric } from '../observability/log-drops.js'
import { metricFactory } from '../observability/metric-factory.js'
import { BLOCKED_CLIENTS_TODAY, BLOCKED_CLIENTS_TODAY_HELP } from '../observability/policy-metrics.js'
import type { HostEngine, HostReloadResult } from './host-engine.js'
import type { PseudonymSecret } from './pseudonym-secret.js'
import { startHost } from './service-host.js'
import { installSignals } from './signals.js'
import { WorkerPool } from './worker-pool.js'

export async function runPrimary(loaded: LoadedConfig, log: Logger, count: number): Promise<void> {
  const host = await startHost(loaded, log, (secret) => startWorkers(loaded, log, count, secret))
  installSignals({ stop: (g) => host.stop(g), reload: (t) => host.reload(t) }, log)
}

async function startWorkers(loaded: LoadedConfig, log: Logger, count: number, secret: PseudonymSecret): Promise<HostEngine> {
  // The primary alone reads the folder, keeps the last good state and writes the audit lines.
  const store = await PolicyStore.open(() => listOptionsFor(loaded, Date.now()), {}, undefined, log)
  const lists = () => snapshotToData(store.snapshot).data
  const own = new Registry()
  const clientsToday = new ClientsToday(Date.now)
  clientsToday.register(own, BLOCKED_CLIENTS_TODAY, BLOCKED_CLIENTS_TODAY_HELP, ['category', 'group'])
  clientsToday.register(own, BYPASS_CLIENTS_TODAY, BYPASS_CLIENTS_TODAY_HELP, ['group'])
  droppedLinesMetric(metricFactory(own))
  const pool = new WorkerPool(count, log, {
    clientsToday: (batch) => clientsToday.add(batch),
    secret: secret.secret.toString('hex'),
    current: () => ({ version: store.snapshot.version, data: lists, servingLastGood: store.servingLastGood !== null }),
    fatal: (line) => {
      process.stderr.write(`dnsvakt: ${line}\n`)
      process.exit(1)
    },
  })
  await pool.start()
  const first = pool.firstReady!
  return {
    get snapshot() {
      return store.snapshot
    },
    listsStatus: () => store.status(),
    listeners: first.dns,
    upstreams: first.upstreams,
    workerCount: count,
    reload: (trigger) => reloadEverywhere(store, pool, log, trigger),
    countSyncFailure: () => pool.sendOne({ type: 'dnsvakt:reload-failed' }),
    metrics: async () => {
      const all = AggregatorRegistry.aggregate([...(await pool.metrics()), await own.getMetricsAsJSON()])
      return { contentType: all.contentType, body: await all.metrics() }
    },
    workers: () => pool.status(),
    ready: () => pool.allOn(store.snapshot.version),
    alive: () => pool.alive(),
    inFlight: () => null,
    stop: (graceMs) => pool.shutdown(graceMs),
  }
}

/** Checks the lists once, here; hands accepted lists to every worker and reports what each did. */
async function reloadEverywhere(store: PolicyStore, pool: WorkerPool, log: Logger, trigger: string): Promise<HostReloadResult> {
  const r = await store.reload(trigger)
  if (!r.ok) {
    log.warn({ event: 'lists-reload-refused', trigger, problems: r.problems }, 'reload refused; the last good lists keep serving')
    pool.sendOne({ type: 'dnsvakt:reload-failed' })
    return { ...r, workers: pool.versions(r.version) }
  }
  const workers = await pool.applyLists(trigger, r.version, snapshotToData(store.snapshot).data, store.servingLastGood !== null)
  const refused = workers.filter((w) => !w.ok)
  log.info({ event: 'host-lists-applied', trigger, version: r.version, workers: workers.length, replaced: refused.map((w) => w.pid) }, 'lists handed to every worker')
  if (refused.length === 0) return { ...r, workers }
  return { ...r, ok: false, problems: refused.map((w) => `worker ${w.pid} could not take ${r.version} (${w.problems.join('; ') || `serves ${w.version}`}); it is being replaced`), workers }
}
