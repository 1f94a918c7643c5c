/**
 * The cluster primary: forks one gateway worker per core (config `workers`),
 * restarts a worker that dies, and owns everything that is per-service
 * rather than per-core: the admin listener (metrics aggregated across
 * workers with prom-client's AggregatorRegistry), the list watcher and git
 * sync, and signals. A reload, from any trigger, reaches every worker. It
 * keeps its own copy of the lists for explain and status.
 */
import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import { AggregatorRegistry } from 'prom-client'
import { prepareListTriggers } from '../list-sync/list-triggers.js'
import { PolicyStore } from '../lists/policy-store.js'
import { listOptionsFor } from '../lists/load-lists.js'
import type { LoadedConfig } from '../config/load-config.js'
import { ClientClassifier } from '../policy/client-classifier.js'
import { explain } from '../policy/explain.js'
import { AdminHttp } from '../server/admin-http.js'
import { firewallRoute } from '../firewall/feed-route.js'
import { VERSION } from '../version.js'
import { isMessage, type ToPrimary, type ToWorker, type WorkerStatus } from './messages.js'

/** A worker that dies is restarted, but not more often than this per minute (a crash loop is logged and left). */
const MAX_RESTARTS_PER_MINUTE = 10

export async function runPrimary(loaded: LoadedConfig, log: Logger, count: number): Promise<void> {
  const { config } = loaded
  const store = await PolicyStore.open(() => listOptionsFor(loaded, Date.now()))
  const ready = new Set<number>()
  const statusWaiters = new Map<number, (s: WorkerStatus) => void>()
  let nextRequest = 1
  let stopping = false
  const restarts: number[] = []

  const broadcast = (m: ToWorker) => {
    for (const w of Object.values(cluster.workers ?? {})) w?.send(m)
  }
  const reloadAll = async (trigger: string) => {
    broadcast({ type: 'dnsvakt:reload', trigger })
    return store.reload(trigger)
  }
  const triggers = await prepareListTriggers(loaded, log, reloadAll, () => {
    const first = Object.values(cluster.workers ?? {})[0]
    first?.send({ type: 'dnsvakt:sync-failed' } satisfies ToWorker)
  })

  const fork = (): Worker => {
    const w = cluster.fork()
    w.on('message', (raw: unknown) => {
      if (!isMessage(raw)) return
      const m = raw as ToPrimary
      if (m.type === 'dnsvakt:ready') ready.add(w.id)
      else if (m.type === 'dnsvakt:status') statusWaiters.get(m.requestId)?.(m.status)
    })
    w.on('exit', (code, signal) => {
      ready.delete(w.id)
      if (stopping) return
      const now = Date.now()
      restarts.push(now)
      while (restarts.length > 0 && restarts[0] < now - 60_000) restarts.shift()
      if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
        log.error({ event: 'worker-crash-loop', code, signal }, 'workers keep dying; not restarting this one')
        return
      }
      log.error({ event: 'worker-died', pid: w.process.pid, code, signal }, 'a worker died; starting another')
      fork()
    })
    return w
  }
  cluster.setupPrimary({ serialization: 'json' })
  for (let i = 0; i < count; i++) fork()
  await triggers.start()

  const workerStatus = async (): Promise<WorkerStatus[]> => {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
    return Promise.all(
      workers.map(
        (w) =>
          new Promise<WorkerStatus>((resolve) => {
            const id = nextRequest++
            const t = setTimeout(() => resolve({ pid: w.process.pid ?? 0, listVersion: 'no answer', upstreams: [], cache: null, inFlight: -1 }), 2000)
            statusWaiters.set(id, (s) => {
              clearTimeout(t)
              statusWaiters.delete(id)
              resolve(s)
            })
            w.send({ type: 'dnsvakt:status', requestId: id } satisfies ToWorker)
          }),
      ),
    )
  }

  const aggregator = new AggregatorRegistry()
  const classifier = new ClientClassifier(config.access.allow, config.groups)
  // An empty token means none: it must never match a missing header.
  const token = config.admin.token || process.env[config.admin.tokenEnv] || null
  const admin =
    config.listen.admin === ''
      ? null
      : await AdminHttp.listen(config.listen.admin.address, config.listen.admin.port, {
          metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
          ready: () => !stopping && ready.size === count,
          token,
          reload: () => reloadAll('admin-api'),
          firewall: firewallRoute({ config, snapshot: () => store.snapshot, now: Date.now }),
          explain: (name, client, type) => explain({ name, client, type, now: Date.now(), snapshot: store.snapshot, classifier, mode: config.blocking.mode }),
          status: async () => ({
            version: VERSION,
            lists: { version: store.snapshot.version, loadedAt: new Date(store.snapshot.loadedAt).toISOString(), categories: store.snapshot.counts(), allow: store.snapshot.allow.size },
            exemptions: store.snapshot.exemptions.map((e) => ({ id: e.id, categories: e.categories, expires: new Date(e.expiresAt).toISOString(), active: e.expiresAt > Date.now() })),
            workers: await workerStatus(),
          }),
        })
  log.info({ event: 'primary-started', version: VERSION, workers: count, admin: admin ? admin.port : null }, `dnsvakt primary started ${count} workers`)

  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ event: 'stopping', signal }, 'stopping: workers finish in-flight queries')
    triggers.stop()
    broadcast({ type: 'dnsvakt:shutdown', graceMs: 5000 })
    const left = () => Object.values(cluster.workers ?? {}).filter(Boolean).length
    const deadline = Date.now() + 7000
    const wait = setInterval(() => {
      if (left() > 0 && Date.now() < deadline) return
      clearInterval(wait)
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL')
      void (admin?.close() ?? Promise.resolve()).then(() => process.exit(0))
    }, 50)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGHUP', () => void reloadAll('SIGHUP'))
}
