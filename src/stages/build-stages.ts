/**
 * The stage chain from config: each stage built from its own section
 * (access and groups for acl, rateLimit, blocking for the block answers,
 * cache.serveStale), then put in the order stage-order.ts decides and
 * composed. Stages left out by config (rate-limit at 0 q/s for everyone, cache off) are
 * simply not built.
 */
import type { Logger } from 'pino'
import type { AnswerCache } from '../cache/answer-cache.js'
import type { Config } from '../config/schema.js'
import { makeBlockAnswerPlan } from '../dns/build-block-reply.js'
import { compose } from '../pipeline/compose.js'
import { orderStages } from '../pipeline/stage-order.js'
import type { Next, Stage } from '../pipeline/types.js'
import { BlockResponder } from '../policy/block-responder.js'
import { ClientClassifier } from '../policy/client-classifier.js'
import { EmbeddedIpv4 } from '../net/embedded-ipv4.js'
import type { DdrDesignation } from '../policy/ddr-designation.js'
import type { Exchanger, ZoneRoute } from './forward.js'
import { AclStage } from './acl.js'
import { CacheStage } from './cache.js'
import { ClientGroupStage } from './client-group.js'
import { ForwardStage } from './forward.js'
import { InspectAnswerStage } from './inspect-answer.js'
import { PolicyStage } from './policy.js'
import { RateLimitStage, type RateLimitOptions } from './rate-limit.js'

/** The config sections the stages read. */
export type StageConfig = Pick<Config, 'access' | 'groups' | 'rateLimit' | 'blocking' | 'cache'>

/** What the stages use that is built elsewhere. */
export interface StageParts {
  readonly pool: Exchanger
  readonly zonePools: readonly ZoneRoute[]
  /** null: the cache is off and its stage left out. */
  readonly cache: AnswerCache | null
  readonly now: () => number
  readonly log: Logger
  readonly cacheEvents?: { onHit?(): void; onMiss?(): void; onStale?(): void }
  /** The rate limiter's metrics and throttled log line; `tracked` is handed its bucket count. */
  readonly rateLimitEvents?: Pick<RateLimitOptions, 'onLimited' | 'onEpisode' | 'onEvicted'> & { tracked?(read: () => number): void }
  /** DDR: the policy stage answers the designation queries with it once DoT/DoH are bound. */
  readonly ddr?: DdrDesignation
}

/** The block answers of `blocking.mode`, prepared once. */
export function buildBlockResponder(blocking: Config['blocking']): BlockResponder {
  const plan = makeBlockAnswerPlan({
    ttl: Math.round(blocking.ttl / 1000),
    ipv4: blocking.sinkhole.ipv4,
    ipv6: blocking.sinkhole.ipv6,
    edeText: blocking.edeText,
  })
  return new BlockResponder(blocking.mode, plan)
}

/** Every stage the config asks for, unordered. */
export function buildStageList(config: StageConfig, parts: StageParts): Stage[] {
  const responder = buildBlockResponder(config.blocking)
  const onForwardError: ConstructorParameters<typeof ForwardStage>[3] = (q, e) =>
    parts.log.debug({ event: 'upstream-failed', qtype: q.qtype, err: (e as Error).message }, 'no upstream answered')
  // One classifier for acl and client-group: it remembers the last client, so both share one lookup.
  const classifier = new ClientClassifier(config.access.allow, config.groups)
  const stages: Stage[] = [
    new AclStage(classifier),
    new ClientGroupStage(classifier),
    new PolicyStage(responder, parts.ddr),
    new InspectAnswerStage(responder, new EmbeddedIpv4(config.blocking.nat64Prefixes)),
    new ForwardStage(parts.pool, parts.zonePools, parts.now, onForwardError),
  ]
  const rl = config.rateLimit
  const rateLimit: RateLimitOptions = {
    queriesPerSecond: rl.queriesPerSecond, burst: rl.burst, groups: rl.groups, ipv4Prefix: rl.ipv4Prefix, ipv6Prefix: rl.ipv6Prefix,
    maxTracked: rl.maxClients, logIntervalMs: rl.logInterval, ...parts.rateLimitEvents,
  }
  if (RateLimitStage.active(rateLimit)) {
    const limiter = new RateLimitStage(rateLimit)
    parts.rateLimitEvents?.tracked?.(() => limiter.tracked)
    stages.push(limiter)
  }
  if (parts.cache) {
    const { serveStale } = config.cache
    stages.push(new CacheStage(parts.cache, { serveStale: serveStale.enabled, staleAnswerTtl: Math.round(serveStale.answerTtl / 1000), now: parts.now, ...parts.cacheEvents }))
  }
  return stages
}

/** The composed chain, in STAGE_ORDER. */
export function buildStages(config: StageConfig, parts: StageParts): Next {
  return compose(orderStages(buildStageList(config, parts)))
}
