/**
 * Every rule that spans more than one key, in one place: the ones the config
 * alone decides (checked on every load), and the ones that need the lists or
 * the resolved upstreams (checked at start by the gateway and by
 * `dnsvakt check-config`, so both refuse the same files). Each problem starts
 * with the key to fix.
 */
import { networkInterfaces } from 'node:os'
import { DnsvaktError } from '../errors.js'
import { encryptedConfigProblems } from './encrypted-schema.js'
import { formatHostPort, type HostPort } from './fields.js'
import type { Config } from './schema.js'

/** Rules across keys that the schema cannot express field by field. */
export function crossFieldProblems(c: Config): string[] {
  const problems: string[] = []
  if (c.upstream.deadline < c.upstream.tryTimeout) {
    problems.push('upstream.deadline: must be at least upstream.tryTimeout')
  }
  if (c.blocking.mode === 'sinkhole' && !c.blocking.sinkhole.ipv4 && !c.blocking.sinkhole.ipv6) {
    problems.push('blocking.sinkhole: mode "sinkhole" needs blocking.sinkhole.ipv4 and/or ipv6, such as ipv4: 10.20.0.80')
  }
  if (c.cache.minTtl > c.cache.maxTtl) problems.push('cache.minTtl: must not exceed cache.maxTtl')
  problems.push(...encryptedConfigProblems(c))
  const seen = new Map<string, string>()
  for (const [name, g] of Object.entries(c.groups)) {
    if (name === 'default' && g.networks.length > 0) {
      problems.push('groups.default.networks: the default group takes every allowed client no other group matches; give it no networks')
    }
    for (const net of g.networks) {
      const other = seen.get(net)
      if (other) problems.push(`groups.${name}.networks: ${net} is already in group "${other}"`)
      seen.set(net, name)
    }
  }
  return problems
}

/** What the lists offer: the categories that have a list file. */
export interface CategorySet {
  has(category: string): boolean
}

/** A group enforcing a category that has no list is an operator mistake (a typo, or a list not deployed). */
export function groupCategoryProblems(groups: Readonly<Record<string, { readonly networks?: readonly string[]; enforce: readonly string[]; shadow?: readonly string[] }>>, lists: CategorySet, listDir: string): string[] {
  return Object.entries(groups).flatMap(([name, { enforce, shadow = [] }]) => [
    ...enforce.filter((c) => !lists.has(c)).map((c) => `groups.${name}.enforce: no list for category "${c}" in ${listDir}`),
    ...shadow.filter((c) => !lists.has(c)).map((c) => `groups.${name}.shadow: no list for category "${c}" in ${listDir}`),
    ...shadow.filter((c) => enforce.includes(c)).map((c) => `groups.${name}.shadow: "${c}" is also enforced; a category is either enforced or in shadow`),
  ])
}

/**
 * An upstream that is one of our own listeners would forward every miss back
 * to us until the deadline: the classic case is resolv.conf naming 127.0.0.1
 * while dnsvakt listens on 127.0.0.1:53. Wildcard listeners catch loopback too.
 */
export function forwardingLoops(
  upstreams: readonly HostPort[],
  listeners: readonly HostPort[],
  /** This host's addresses: a wildcard listener answers on all of them. */
  localAddresses: readonly string[] = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
): string[] {
  const wildcard = (a: string) => a === '0.0.0.0' || a === '::'
  const local = (a: string) => a.startsWith('127.') || a === '::1' || localAddresses.includes(a)
  return upstreams
    .filter((u) => listeners.some((l) => l.port === u.port && l.port !== 0 && (l.address === u.address || (wildcard(l.address) && local(u.address)))))
    .map((u) => `upstream.servers: ${formatHostPort(u)} is dnsvakt's own listener (a forwarding loop); name the real resolvers, not resolv.conf, when it points at this host`)
}

/** What start-up knows beyond the config: the first lists and every upstream (resolv.conf read). */
export interface StartFacts {
  readonly lists: CategorySet
  readonly listDir: string
  readonly upstreams: readonly HostPort[]
}

/** The checks that need the lists and the resolved upstreams. */
export function startProblems(config: Config, facts: StartFacts): string[] {
  return [...groupCategoryProblems(config.groups, facts.lists, facts.listDir), ...forwardingLoops(facts.upstreams, [...config.listen.dns, ...config.listen.dot]), ...rateLimitGroupProblems(config)]
}

/** A rateLimit.groups entry must name a client group (a typo would silently leave the NAT'd group on the default limit). */
export function rateLimitGroupProblems(config: Config): string[] {
  return Object.keys(config.rateLimit.groups)
    .filter((name) => name !== 'default' && !(name in config.groups))
    .map((name) => `rateLimit.groups.${name}: no client group "${name}" in groups`)
}

/** The error for a config that must not start, listing every problem. */
export function configError(problems: readonly string[], origin = 'config'): DnsvaktError {
  return new DnsvaktError('DNSVAKT_ERR_CONFIG', `invalid ${origin}:\n  - ${problems.join('\n  - ')}`, { problems })
}

/** Throws configError when there is any problem. */
export function refuseProblems(problems: readonly string[], origin?: string): void {
  if (problems.length > 0) throw configError(problems, origin)
}
