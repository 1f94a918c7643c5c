/**
 * A cluster worker: one gateway sharing the listening sockets with its
 * siblings, serving exactly the lists the primary accepted (sent over IPC,
 * never read from the folder here) with the primary's pseudonym secret. It
 * acknowledges every list hand-over with the version it now serves. A start
 * failure (a busy port) is reported to the primary as one line, and the
 * primary decides what the service does. It enforces its share of the rate
 * limits (1/N each, stages/rate-limit.ts), sends its registry when the
 * primary scrapes, and reports every client it blocks for the first time
 * today, in batches, for the host's one distinct count.
 */
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { LoadedConfig } from '../config/load-config.js'
import { createGateway, type Gateway } from '../gateway.js'
import { type SnapshotData, snapshotFromData } from '../lists/snapshot-data.js'
import { SnapshotReceiver } from '../lists/snapshot-transfer.js'
import type { Metrics } from '../observability/metrics.js'
import { workerShare } from '../stages/rate-limit.js'
import { gatewayStatus, gatewayUpstreams } from './gateway-status.js'
import { isMessage, type ToPrimary, type ToWorker } from './messages.js'
import { startFailureLine } from './start-failure.js'

type Init = Extract<ToWorker, { type: 'dnsvakt:init' }>

export async function runWorker(loaded: LoadedConfig, log: Logger): Promise<void> {
  const registry = new Registry()
  const send = (m: ToPrimary, then?: () => void) => process.send?.(m, undefined, {}, () => then?.())
  let gateway: Gateway | null = null
  const transfers = new Transfers()
  let resolveInit: (m: Init) => void = () => {}
  const init = new Promise<Init>((r) => (resolveInit = r))
  process.on('message', (raw: unknown) => {
    if (!isMessage(raw)) return
    const m = raw as ToWorker
    if (transfers.take(m)) return
    if (m.type === 'dnsvakt:init') return resolveInit(m)
    if (m.type === 'dnsvakt:shutdown') return void (gateway?.close(m.graceMs) ?? Promise.resolve()).then(() => process.exit(0))
    if (m.type === 'dnsvakt:metrics') return void registry.getMetricsAsJSON().then((metrics) => send({ type: 'dnsvakt:metrics', requestId: m.requestId, metrics }))
    if (gateway) onMessage(gateway, m, send, transfers)
  })
  // The primary decides when to stop; a signal sent to the whole process group is left to it.
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => {})
  // The primary is gone (killed hard): do not linger as an orphan holding the port.
  process.on('disconnect', () => void (gateway?.close(1000) ?? Promise.resolve()).then(() => process.exit(0)))
  send({ type: 'dnsvakt:hello' })
  const start = await init
  try {
    transfers.select(start.transferId)
    // The kernel spreads one client's packets over the workers: each enforces its share of the limits.
    const shared = { ...loaded, config: { ...loaded.config, rateLimit: workerShare(loaded.config.rateLimit, start.workers) } }
    gateway = await createGateway(shared, {
      logger: log,
      registry,
      // The primary's lists, never the folder's: the one transfer selected for this load.
      hostLists: async () => snapshotFromData(transfers.selected()),
      pseudonymSecret: Buffer.from(start.secret, 'hex'),
    })
  } catch (e) {
    // One line for the primary to print; no stack trace per worker.
    send({ type: 'dnsvakt:start-failed', line: startFailureLine(e) }, () => process.exit(1))
    return
  }
  // The worker's own store never falls back; whether the host serves its last good lists is the primary's to say.
  gateway.metrics.setServingLastGood(start.servingLastGood)
  reportClientsToday(gateway.metrics, send)
  send({ type: 'dnsvakt:ready', version: gateway.store.snapshot.version, dns: gateway.dns, upstreams: gatewayUpstreams(gateway) })
}

function onMessage(gateway: Gateway, m: ToWorker, send: (m: ToPrimary) => void, transfers: Transfers): void {
  if (m.type === 'dnsvakt:lists') {
    const refuse = (problem: string) => send({ type: 'dnsvakt:reloaded', requestId: m.requestId, ok: false, version: gateway.store.snapshot.version, problems: [problem] })
    try {
      transfers.select(m.transferId)
    } catch (e) {
      return refuse((e as Error).message)
    }
    void gateway.reload(m.trigger).then(
      (r) => {
        if (r.ok) gateway.metrics.setServingLastGood(m.servingLastGood)
        send({ type: 'dnsvakt:reloaded', requestId: m.requestId, ok: r.ok && r.version === m.version, version: r.version, problems: r.problems })
      },
      (e: unknown) => refuse((e as Error).message),
    )
  } else if (m.type === 'dnsvakt:status') {
    send({ type: 'dnsvakt:status', requestId: m.requestId, status: gatewayStatus(gateway) })
  } else if (m.type === 'dnsvakt:reload-failed') {
    gateway.metrics.countReload(false)
  }
}

/** How often (ms) new pseudonyms go to the primary, and how many make a batch go at once. */
const CLIENTS_BATCH_MS = 1000
const CLIENTS_BATCH_MAX = 1000

/** Pseudonyms new to this worker today, to the primary in batches (observability/clients-today.ts). */
function reportClientsToday(metrics: Metrics, send: (m: ToPrimary) => void): void {
  let dayStart = 0
  let clients: Array<[string, readonly string[], string]> = []
  const flush = () => {
    if (clients.length > 0) send({ type: 'dnsvakt:clients-today', batch: { dayStart, clients } })
    clients = []
  }
  setInterval(flush, CLIENTS_BATCH_MS).unref()
  metrics.newClients.listen((gauge, labels, pseudonym, day) => {
    if (day !== dayStart) {
      flush()
      dayStart = day
    }
    clients.push([gauge, labels, pseudonym])
    if (clients.length >= CLIENTS_BATCH_MAX) flush()
  })
}

/** Lists arriving in pieces; the finished one a load takes next. */
class Transfers {
  private readonly open = new Map<number, SnapshotReceiver>()
  private next: SnapshotData | null = null

  /** Consumes a transfer message; false for any other message. */
  take(m: ToWorker): boolean {
    if (m.type === 'dnsvakt:lists-begin') this.open.set(m.transferId, new SnapshotReceiver(m.header))
    else if (m.type === 'dnsvakt:lists-piece') this.open.get(m.transferId)?.add(m.piece)
    else return false
    return true
  }

  /** Finishes a transfer; the next load (first start or reload) takes it. Throws if it is incomplete. */
  select(transferId: number): void {
    const r = this.open.get(transferId)
    this.open.delete(transferId)
    if (!r) throw new Error(`no lists transfer ${transferId}`)
    this.next = r.finish()
  }

  selected(): SnapshotData {
    if (!this.next) throw new Error('no lists from the primary')
    return this.next
  }
}
