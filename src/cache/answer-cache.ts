/**
 * The shared answer cache: upstream answers only (never our own sinkhole
 * answers), keyed by name, type, class and the DO/CD bits, bounded by entries
 * and by bytes. TTLs are honoured and clamped; negative answers are kept for
 * the RFC 2308 TTL from their SOA; expired entries stay for serve-stale
 * (RFC 8767) until their stale window closes or the LRU pushes them out.
 */
import { LRUCache } from 'lru-cache'
import { RCODE } from '../dns/constants.js'
import type { UpstreamAnswer } from '../dns/read-answer.js'
import type { Query } from '../pipeline/query.js'
import { CacheEntry } from './cache-entry.js'

export interface AnswerCacheOptions {
  readonly maxEntries: number
  readonly maxBytes: number
  /** Clamps, ms. */
  readonly minTtl: number
  readonly maxTtl: number
  readonly negativeMaxTtl: number
  /** How long past expiry an entry may still be served stale, ms (0: never). */
  readonly maxStale: number
}

/**
 * What an entry costs beyond its answer bytes and its key, for the byte
 * bound: the CacheEntry and UpstreamAnswer objects, the Buffer with its
 * ArrayBuffer and native backing store, the offset arrays, the inspection
 * memo's share, the key's string header and the LRU's map entry and slots.
 * Measured, not estimated: ~830-850 bytes per entry in all for a 68-byte
 * answer and a 27-character key on Node 20 (docs/benchmarks.md, "What a
 * cache entry costs"); the byte bound used to count 200 here, so a 64 MiB
 * bound let the cache grow to ~190 MiB of real memory.
 */
export const ENTRY_OVERHEAD = 750

/**
 * The key's prefix for class IN, made once per (qtype < 256, DO, CD): a key is
 * then one concatenation with the name instead of a template of five parts.
 */
const IN_PREFIXES: string[] = new Array<string>(256 * 4).fill('')

/** `qtype/qclass/DO CD/`: the one place the key's format is written. */
const keyPrefix = (qtype: number, qclass: number, flags: number): string => `${qtype}/${qclass}/${flags >> 1}${flags & 1}/`

export const cacheKey = (q: Query): string => {
  const flags = (q.dnssecOk ? 2 : 0) + (q.checkingDisabled ? 1 : 0)
  if (q.qclass !== 1 || q.qtype > 255) return keyPrefix(q.qtype, q.qclass, flags) + q.name
  const i = q.qtype * 4 + flags
  let prefix = IN_PREFIXES[i]!
  if (prefix === '') prefix = IN_PREFIXES[i] = keyPrefix(q.qtype, 1, flags)
  return prefix + q.name
}

export class AnswerCache {
  private readonly lru: LRUCache<string, CacheEntry>

  constructor(private readonly opts: AnswerCacheOptions) {
    this.lru = new LRUCache<string, CacheEntry>({
      max: opts.maxEntries,
      maxSize: opts.maxBytes,
      sizeCalculation: (e, key) => e.size + key.length + ENTRY_OVERHEAD,
    })
  }

  /** The entry for `key` if it is fresh or still servable stale at `now`; expired-for-good entries are dropped. */
  get(key: string, now: number): CacheEntry | undefined {
    const e = this.lru.get(key)
    if (e !== undefined && now >= e.staleUntil && now >= e.expiresAt) {
      this.lru.delete(key)
      return undefined
    }
    return e
  }

  /**
   * Makes a cache entry from an upstream answer, with TTLs clamped in its wire.
   * Returns it even when it is not cacheable (the forward path serves it
   * once); `stored` tells whether it went into the cache, `clamped` whether
   * a TTL in its wire was changed (an answer rendered before is stale then).
   */
  store(key: string, answer: UpstreamAnswer, now: number): { entry: CacheEntry; stored: boolean; clamped: boolean } {
    const ttlMs = this.cacheTtl(answer)
    let clamped = false
    if (ttlMs > 0) {
      const negative = isNegative(answer)
      clamped = clampTtls(answer, negative ? 0 : this.opts.minTtl / 1000, (negative ? this.opts.negativeMaxTtl : this.opts.maxTtl) / 1000)
    }
    const expiresAt = now + Math.max(ttlMs, 0)
    const entry = new CacheEntry(answer, now, expiresAt, ttlMs > 0 ? expiresAt + this.opts.maxStale : expiresAt)
    if (ttlMs <= 0) return { entry, stored: false, clamped }
    this.lru.set(flat(key), entry)
    // lru-cache silently refuses an entry larger than maxSize.
    return { entry, stored: this.lru.has(key), clamped }
  }

  /** How long an answer may be cached, ms; 0 when it must not be (SERVFAIL, TC, no TTL known). */
  private cacheTtl(a: UpstreamAnswer): number {
    if (a.truncated || a.ttl < 0) return 0
    if (isNegative(a)) return Math.min(a.ttl * 1000, this.opts.negativeMaxTtl)
    if (a.rcode !== RCODE.NOERROR) return 0
    return Math.min(Math.max(a.ttl * 1000, this.opts.minTtl), this.opts.maxTtl)
  }

  get entries(): number {
    return this.lru.size
  }

  get bytes(): number {
    return this.lru.calculatedSize
  }

  clear(): void {
    this.lru.clear()
  }
}

/**
 * The key as one flat string: cacheKey() makes a rope (prefix + name) that
 * holds three strings; kept for as long as the entry, that is ~50 bytes more.
 * Keys are ASCII (names are escaped), so latin1 copies them exactly.
 */
const flat = (key: string): string => Buffer.from(key, 'latin1').toString('latin1')

/** NXDOMAIN, or NOERROR with an empty answer section (NODATA): RFC 2308 negative answers. */
const isNegative = (a: UpstreamAnswer): boolean =>
  a.rcode === RCODE.NXDOMAIN || (a.rcode === RCODE.NOERROR && a.wire.readUInt16BE(6) === 0)

/** Clamps every TTL in the wire into [min, max]; true if one changed. */
function clampTtls(a: UpstreamAnswer, min: number, max: number): boolean {
  let changed = false
  for (const off of a.ttlOffsets) {
    const t = a.wire.readUInt32BE(off)
    if (t < min) a.wire.writeUInt32BE(Math.ceil(min), off)
    else if (t > max) a.wire.writeUInt32BE(Math.floor(max), off)
    else continue
    changed = true
  }
  return changed
}
