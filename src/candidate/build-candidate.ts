/**
 * The candidate list version from its config section (blocking.candidate),
 * beside what it builds: the evaluator, loaded with the gateway's list
 * loader (a worker thread, so a large candidate never stalls DNS) and the
 * served exemptions file, its delta with the served lists worked out in a
 * worker thread too, and the observer that hands it every answered
 * query after the edge has recorded it. Nothing is built without the key,
 * so a gateway without a candidate pays nothing.
 */
import { resolve } from 'node:path'
import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load-config.js'
import type { ListLoader } from '../lists/policy-store.js'
import { loadListsInWorker } from '../lists/load-lists-in-worker.js'
import { EmbeddedIpv4 } from '../net/embedded-ipv4.js'
import type { ShadowMetrics } from '../observability/shadow-metrics.js'
import type { QueryObserver } from '../server/query-handler.js'
import { CandidateShadow } from './candidate-shadow.js'
import { listDelta } from './list-delta.js'
import { listDeltaInWorker } from './list-delta-in-worker.js'

/** `loader` given (tests: in-thread loading), the delta is worked out in this thread too; else both run in worker threads. */
export function buildCandidate(loaded: LoadedConfig, metrics: ShadowMetrics, log: Logger, now: () => number, loader?: ListLoader): CandidateShadow | null {
  const section = loaded.config.blocking.candidate
  if (section === null) return null
  const dir = loaded.candidateDir ?? resolve(section.dir)
  const exemptionMaxDurationMs = loaded.config.blocking.exemptions.maxDuration
  return new CandidateShadow({
    dir,
    topNames: section.topNames,
    groups: loaded.config.groups,
    load: (d) => (loader ?? loadListsInWorker)({ dir: d, exemptionsFile: loaded.exemptionsFile, exemptionMaxDurationMs, now: now() }),
    delta: loader === undefined ? listDeltaInWorker : listDelta,
    metrics,
    embedded: new EmbeddedIpv4(loaded.config.blocking.nat64Prefixes),
    log,
    now,
  })
}

/** The edge's observer, then the candidate: the client's answer is sent and recorded before the candidate looks at it. */
export function withCandidate(edge: QueryObserver, candidate: CandidateShadow | null): QueryObserver {
  if (candidate === null) return edge
  return {
    observe(q, transport, source, reply, seconds) {
      edge.observe(q, transport, source, reply, seconds)
      candidate.observe(q, reply)
    },
    error: edge.error?.bind(edge),
  }
}
