/**
 * The host's one distinct set behind `dnsvakt_policy_blocked_clients_today`
 * in cluster mode. Each worker counts the pseudonyms it saw, but a client's
 * packets are spread over the workers, so no worker's count is the host's
 * (with `max` over workers it could be N times too low). Workers send every
 * pseudonym new to them today (cluster-worker.ts, in batches over IPC); the
 * primary keeps their union here, per (category, group), and exports it on
 * its own registry under the workers' gauge name. The cluster aggregation
 * takes the `max`, which is this union: at least every worker's own count.
 * The pseudonyms come from the primary's shared secret, so one device is one
 * pseudonym on every worker.
 */
import type { Registry } from 'prom-client'
import { localDay, type LocalDay } from './client-pseudonym.js'
import { metricFactory } from './metric-factory.js'
import { DISTINCT_CLIENTS_CAP } from './metrics.js'

/** One worker's report: (category, group, pseudonym) triples first seen on `dayStart`. */
export interface ClientsTodayBatch {
  readonly dayStart: number
  readonly clients: ReadonlyArray<readonly [category: string, group: string, pseudonym: string]>
}

export class ClientsToday {
  private day: LocalDay
  private readonly series = new Map<string, { category: string; group: string; clients: Set<string> }>()

  constructor(
    private readonly now: () => number,
    private readonly cap = DISTINCT_CLIENTS_CAP,
  ) {
    this.day = localDay(now())
  }

  /** Adds a worker's batch; a batch from another day than the host's (sent just before midnight) is left out. */
  add(batch: ClientsTodayBatch): void {
    this.rollover()
    if (batch.dayStart !== this.day.start) return
    for (const [category, group, pseudonym] of batch.clients) {
      const key = `${category}\u0000${group}`
      let s = this.series.get(key)
      if (s === undefined) this.series.set(key, (s = { category, group, clients: new Set() }))
      if (s.clients.size < this.cap) s.clients.add(pseudonym)
    }
  }

  /** Distinct pseudonyms today in one series (0 if none). */
  count(category: string, group: string): number {
    this.rollover()
    return this.series.get(`${category}\u0000${group}`)?.clients.size ?? 0
  }

  /** The gauge, under the workers' name and help, aggregated with `max`. */
  register(registry: Registry): void {
    metricFactory(registry).gauge(
      'dnsvakt_policy_blocked_clients_today',
      'Distinct clients per group blocked in each category since local midnight (capped per series).',
      ['category', 'group'],
      'max',
      (g) => {
        this.rollover()
        g.reset()
        for (const s of this.series.values()) g.set({ category: s.category, group: s.group }, s.clients.size)
      },
    )
  }

  private rollover(): void {
    const t = this.now()
    if (t >= this.day.start && t < this.day.end) return
    this.day = localDay(t)
    this.series.clear()
  }
}
