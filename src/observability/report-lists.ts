/**
 * Tells metrics and the log about the lists: the first load (entries per
 * category, version, problems left out) and every reload after it (a new
 * category gets its own label values; a refused reload is counted and
 * logged, the last good lists keep serving).
 */
import type { Logger } from 'pino'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import type { PolicyStore } from '../lists/policy-store.js'
import type { FeedChangeTracker } from '../firewall/feed-metric.js'
import type { Metrics } from './metrics.js'

export type ListMetrics = Pick<Metrics, 'setLabelSets' | 'setListEntries' | 'setListVersion' | 'countReload' | 'setExemptionsActive' | 'setServingLastGood'>

/** Told of every snapshot that starts serving (firewall/feed-metric.ts: when each feed last changed). */
export type FeedChanges = Pick<FeedChangeTracker, 'update'>

function publish(metrics: ListMetrics, store: PolicyStore, snapshot: PolicySnapshot, now: number, feed?: FeedChanges): void {
  feed?.update(snapshot, now)
  // A list file added by a reload is a new category: give it its own label values.
  metrics.setLabelSets({ categories: snapshot.categories.map((c) => c.name) })
  for (const c of snapshot.categories) {
    metrics.setListEntries(c.name, 'domain', c.domains.size)
    metrics.setListEntries(c.name, 'cidr', c.cidrs.size)
  }
  metrics.setListEntries('allow', 'allow', snapshot.allow.size)
  metrics.setListVersion(snapshot.version, now, snapshot.committedAt ?? undefined)
  metrics.setServingLastGood(store.servingLastGood !== null)
}

/** Reports the store's current lists now and every reload from here on. */
export function reportLists(store: PolicyStore, metrics: ListMetrics, log: Logger, now: () => number, feed?: FeedChanges): void {
  const first = store.snapshot
  // Counted at scrape time: exemptions expire by themselves, without a reload.
  metrics.setExemptionsActive(() => store.snapshot.exemptions.filter((e) => e.expiresAt > now()).length)
  publish(metrics, store, first, now(), feed)
  metrics.countReload(true)
  if (first.problems.length > 0) {
    log.warn({ event: 'list-problems', problems: first.problems }, `${first.problems.length} list line(s) left out; fix them in git`)
  }
  log.info({ event: 'lists-loaded', version: first.version, categories: first.counts() }, 'lists loaded')
  store.setEvents({
    onReload: (result, trigger, snapshot) => {
      metrics.countReload(result.ok)
      if (result.ok) {
        publish(metrics, store, snapshot, now(), feed)
        log.info({ event: 'lists-reloaded', trigger, version: result.version, changed: result.changed }, 'lists reloaded')
      } else {
        log.warn({ event: 'lists-reload-refused', trigger, problems: result.problems }, 'reload refused; the last good lists keep serving')
      }
    },
  })
}
