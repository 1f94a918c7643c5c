/**
 * The host's one distinct set behind each per-day distinct-clients gauge
 * (dnsvakt_policy_blocked_clients_today, and any family counted the same
 * way) in cluster mode. Each worker counts the pseudonyms it saw, but a
 * client's packets are spread over the workers, so no worker's count is the
 * host's (with `max` over workers it could be N times too low). Workers send
 * every pseudonym new to them today (new-clients-feed.ts, cluster-worker.ts,
 * in batches over IPC); the primary keeps their union here, per series, and
 * exports it on its own registry under the workers' gauge name. The cluster
 * aggregation takes the `max`, which is this union: at least every worker's
 * own count. The pseudonyms come from the primary's shared secret, so one
 * device is one pseudonym on every worker.
 */
import type { Registry } from 'prom-client'
import { localDay, type LocalDay } from './client-pseudonym.js'
import { metricFactory } from './metric-factory.js'
import { DISTINCT_CLIENTS_CAP } from './metrics.js'

/** One worker's report: (gauge, label values, pseudonym) first seen on `dayStart`. */
export interface ClientsTodayBatch {
  readonly dayStart: number
  readonly clients: ReadonlyArray<readonly [gauge: string, labels: readonly string[], pseudonym: string]>
}

interface Series { readonly labels: readonly string[]; readonly clients: Set<string> }

export class ClientsToday {
  private day: LocalDay
  /** gauge name -> series key (the label values joined) -> series. */
  private readonly gauges = new Map<string, Map<string, Series>>()

  constructor(
    private readonly now: () => number,
    private readonly cap = DISTINCT_CLIENTS_CAP,
  ) {
    this.day = localDay(now())
  }

  /** Adds a worker's batch; a batch from another day than the host's (sent just before midnight), or for a gauge not registered here, is left out. */
  add(batch: ClientsTodayBatch): void {
    this.rollover()
    if (batch.dayStart !== this.day.start) return
    for (const [gauge, labels, pseudonym] of batch.clients) {
      const series = this.gauges.get(gauge)
      if (series === undefined) continue
      const key = labels.join('\u0000')
      let s = series.get(key)
      if (s === undefined) series.set(key, (s = { labels, clients: new Set() }))
      if (s.clients.size < this.cap) s.clients.add(pseudonym)
    }
  }

  /** Distinct pseudonyms today in one series (0 if none). */
  count(gauge: string, labels: readonly string[]): number {
    this.rollover()
    return this.gauges.get(gauge)?.get(labels.join('\u0000'))?.clients.size ?? 0
  }

  /** The host-wide gauge `name` (the workers' name, help and label names), aggregated with `max`. */
  register(registry: Registry, name: string, help: string, labelNames: readonly string[]): void {
    const series = new Map<string, Series>()
    this.gauges.set(name, series)
    metricFactory(registry).gauge(name, help, [...labelNames], 'max', (g) => {
      this.rollover()
      g.reset()
      for (const s of series.values()) g.set(Object.fromEntries(labelNames.map((l, i) => [l, s.labels[i] ?? ''])), s.clients.size)
    })
  }

  private rollover(): void {
    const t = this.now()
    if (t >= this.day.start && t < this.day.end) return
    this.day = localDay(t)
    for (const series of this.gauges.values()) series.clear()
  }
}
