/**
 * The lookup behind `explain --resolve` (CLI) and `/v1/explain?resolve=1`:
 * the configured upstreams (the same pools, zones, failover and spoofing
 * checks the gateway uses) behind a forward stage, with no policy stage and
 * no cache, so explain gets the upstream's own answer and runs the same
 * inspection the inspect-answer stage runs (policy/explain-resolved.ts).
 * It keeps its own sockets: it must not disturb the serving chain's cache.
 */
import type { Config } from '../config/schema.js'
import { compose } from '../pipeline/compose.js'
import { type Lookup, lookupThrough } from '../policy/explain-resolved.js'
import { buildPools, resolveUpstreams } from '../upstream/build-pools.js'
import { ForwardStage } from './forward.js'

export interface UpstreamLookup {
  readonly lookup: Lookup
  close(): void
}

export function buildUpstreamLookup(upstream: Config['upstream'], now: () => number = Date.now): UpstreamLookup {
  const pools = buildPools(upstream, resolveUpstreams(upstream), {}, now)
  const forward = new ForwardStage(pools.pool, pools.zonePools, now)
  return { lookup: lookupThrough(compose([forward]), now), close: () => pools.close() }
}
