/**
 * `dnsvakt_firewall_feed_last_change_timestamp_seconds{category}`: when a
 * category's firewall feed (its address ranges) last changed, so the
 * firewall team can alert when a pulled list is older than what dnsvakt
 * serves. Updated on every list load; a reload that leaves the ranges alone
 * leaves the time alone. Process start counts as the first change.
 */
import { Gauge, type Registry } from 'prom-client'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'

export class FeedChangeTracker {
  private readonly gauge: Gauge<'category'>
  private readonly seen = new Map<string, { ranges: string; at: number }>()

  constructor(registry: Registry) {
    this.gauge = new Gauge({ name: 'dnsvakt_firewall_feed_last_change_timestamp_seconds', help: 'Unix time the address ranges of each category (its firewall feed) last changed.', labelNames: ['category'], registers: [registry], aggregator: 'max' })
  }

  /** Called with every snapshot that starts serving. */
  update(snapshot: PolicySnapshot, now: number): void {
    for (const c of snapshot.categories) {
      if (c.cidrs.size === 0) continue
      const ranges = c.cidrs.toCidrs().join(',')
      if (this.seen.get(c.name)?.ranges === ranges) continue
      this.seen.set(c.name, { ranges, at: now })
      this.gauge.set({ category: c.name }, now / 1000)
    }
  }

  changedAt(category: string): number | undefined {
    return this.seen.get(category)?.at
  }
}
