/**
 * The stages' hooks into metrics and the log: cache hits, misses and stale
 * answers, and the rate limiter's episodes, evictions, bucket count and its
 * throttled `rate-limited` line (the client as the log's address rule
 * allows). Built once here so the gateway hands the stage builder one value.
 */
import type { Logger } from 'pino'
import type { Metrics } from './metrics.js'

export type StageMetrics = Pick<Metrics, 'cacheHit' | 'cacheMiss' | 'cacheStaleAnswer' | 'rateLimitEpisode' | 'rateLimitEviction' | 'setRateLimitClients'>

export function stageEvents(metrics: StageMetrics, log: Logger, clientForLog: (address: string) => string | undefined) {
  return {
    cacheEvents: { onHit: () => metrics.cacheHit(), onMiss: () => metrics.cacheMiss(), onStale: () => metrics.cacheStaleAnswer() },
    rateLimitEvents: {
      onEpisode: () => metrics.rateLimitEpisode(),
      onEvicted: () => metrics.rateLimitEviction(),
      onLimited: (address: string, group: string, dropped: number) =>
        log.warn({ event: 'rate-limited', client: clientForLog(address), group, dropped }, 'client over its rate limit; its queries are dropped (UDP) or refused (TCP)'),
      tracked: (read: () => number) => metrics.setRateLimitClients(read),
    },
  }
}
