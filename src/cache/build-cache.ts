/**
 * The answer cache from the `cache` config section: null when the cache is
 * off, so the cache stage is left out of the chain. Serve-stale off means no
 * entry is kept past its TTL.
 */
import type { Config } from '../config/schema.js'
import { AnswerCache } from './answer-cache.js'

export function buildCache(section: Config['cache']): AnswerCache | null {
  if (!section.enabled) return null
  return new AnswerCache({
    maxEntries: section.maxEntries,
    maxBytes: section.maxBytes,
    minTtl: section.minTtl,
    maxTtl: section.maxTtl,
    negativeMaxTtl: section.negativeMaxTtl,
    maxStale: section.serveStale.enabled ? section.serveStale.maxStale : 0,
  })
}
