/**
 * Every config key, its default and its check, in one place. Strings become
 * ready structures here (durations in ms, sizes in bytes, host:port pairs
 * split), so nothing downstream parses config again. Unknown keys are errors:
 * a typo must not silently fall back to a default. Each kind of value
 * (fields.ts) refuses a bad one with an example of the expected form.
 */
import { isIP } from 'node:net'
import { z } from 'zod'
import { isNetwork } from '../net/network-list.js'
import { isNat64Prefix } from '../net/embedded-ipv4.js'
import { parseAddress } from '../net/cidr.js'
import { byteSize, count, duration, field, flag, given, type HostPort, listenAddress, oneOf, readHostPort, Refusal, text, textOrNull } from './fields.js'
import { encryptedListen, encryptedUpstream, tlsSection } from './encrypted-schema.js'

export { byteSize, duration, type HostPort }

/** A list of `item`; `example` shows the form when something else is given. */
const list = <T extends z.ZodType>(item: T, example: string, min = 0) =>
  z
    .array(item, { error: (iss) => (iss.code === 'invalid_type' ? `expected a list such as ${example}, got ${given(iss.input)}` : undefined) })
    .min(min, `expected at least one entry, such as ${example}`)

const CIDR = field((v) =>
  typeof v === 'string' && isNetwork(v) ? v : new Refusal(`expected a network in CIDR form such as "10.0.0.0/8" or "fc00::/7" (or a single address), got ${given(v)}`),
)

const NAME = /^[a-z0-9][a-z0-9-]*$/
const CATEGORY = field((v) =>
  typeof v === 'string' && NAME.test(v) ? v : new Refusal(`category names are list file stems (lower-case letters, digits and "-") such as "tiktok", got ${given(v)}`),
)

const upstreamServer = field((v) => {
  const expected = `expected "resolv.conf", "IP:port", "[IPv6]:port", "tcp://IP:port", "tls://IP:853#name" or "https://name/dns-query" such as "192.0.2.53:53", got ${given(v)}`
  if (v === 'resolv.conf') return { fromResolvConf: true as const }
  if (typeof v !== 'string') return new Refusal(expected)
  if (/^(tls|https):\/\//.test(v)) return encryptedUpstream(v)
  const tcp = v.startsWith('tcp://')
  const parsed = readHostPort(tcp ? v.slice(6) : v.replace(/^udp:\/\//, ''), 53, 53)
  if (parsed instanceof Refusal) return new Refusal(`${expected} (${parsed.message.replace(/, got .*$/, '')})`)
  return { ...parsed, protocol: tcp ? ('tcp' as const) : ('udp' as const) }
})

const address = (family: 4 | 6, example: string) =>
  field((v) =>
    v === null || (typeof v === 'string' && isIP(v) === family && parseAddress(v) !== null)
      ? v
      : new Refusal(`expected an IPv${family} address such as "${example}" or null, got ${given(v)}`),
  )

/** The answer to a blocked name. `zero-ip` is another name for `null` (A 0.0.0.0, AAAA ::). */
const BLOCK_MODES = ['nxdomain', 'nodata', 'null', 'zero-ip', 'refused', 'sinkhole'] as const
const blockMode = field((v) => {
  if (v === null) return new Refusal(`expected one of ${BLOCK_MODES.join(', ')}, got an empty value: write "null" in quotes, or zero-ip`)
  const mode = oneOf(BLOCK_MODES).safeParse(v)
  if (!mode.success) return new Refusal(mode.error.issues[0].message)
  return mode.data === 'zero-ip' ? 'null' : mode.data
})

/** A duration that must be above zero: a 0 s idle timeout or try timeout would turn every connection or query into an instant failure. */
const positiveDuration = duration.refine((ms) => ms > 0, 'expected a duration above zero, such as "500ms" or "10s"')

/** Upstream-facing source address(es): one IP or a list, at most one per family. */
const sourceAddress = field((v) => {
  const all = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null
  const expected = `expected an IP address such as "192.0.2.10", or a list of one IPv4 and one IPv6 address, got ${given(v)}`
  if (all === null || all.some((a) => typeof a !== 'string' || isIP(a) === 0)) return new Refusal(expected)
  const v4 = all.filter((a) => isIP(a) === 4)
  const v6 = all.filter((a) => isIP(a) === 6)
  if (v4.length > 1 || v6.length > 1) return new Refusal(`expected at most one IPv4 and one IPv6 source address, got ${given(v)}`)
  return { ...(v4[0] !== undefined && { v4: v4[0] as string }), ...(v6[0] !== undefined && { v6: v6[0] as string }) }
})

/** "IP:port" or "IP" (port 53) of an upstream. */
const upstreamAddress = field((v) => (typeof v === 'string' ? readHostPort(v, 53, 53) : new Refusal(`expected "IP:port" such as "10.1.1.10:53", got ${given(v)}`)))

const rateLimitOf = z.strictObject({
  queriesPerSecond: count({ min: 0, example: 2000, fraction: true }),
  burst: count({ min: 1, example: 4000 }),
})

export const DEFAULT_ALLOW = ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7']

const group = z.strictObject({
  /** Client networks of this group; the longest matching prefix across all groups wins. */
  networks: list(CIDR, '["10.20.0.0/16"]').default([]),
  /** Categories enforced for this group (list file stems). */
  enforce: list(CATEGORY, '[tiktok, telegram]').default([]),
  /** Categories evaluated as if enforced but only counted and logged (would-block): the client gets the normal answer. Absent: none. */
  shadow: list(CATEGORY, '[gambling]').optional(),
})

const listen = z.strictObject({
  dns: list(listenAddress(53), '["127.0.0.1:53", "[::1]:53"]', 1).default([
    { address: '127.0.0.1', port: 5353 },
    { address: '::1', port: 5353 },
  ]),
  /** Admin HTTP (metrics, health, explain, reload). Empty string disables it. */
  admin: field((v) => (v === '' ? ('' as const) : typeof v === 'string' ? readHostPort(v, null, 9153) : new Refusal(`expected "IP:port" such as "127.0.0.1:9153", or "" (off), got ${given(v)}`))).default({
    address: '127.0.0.1',
    port: 9153,
  }),
  tcpIdleTimeout: positiveDuration.default(10_000),
  tcpMaxConnections: count({ min: 1, example: 1000 }).default(1000),
  /** Open TCP connections per client address. */
  tcpMaxConnectionsPerClient: count({ min: 1, example: 100 }).default(100),
  udpReceiveBuffer: byteSize.default(4 * 1024 * 1024),
  /** Largest UDP reply, whatever the client advertises (DNS Flag Day 2020: 1232); larger ones go out TC=1. */
  udpMaxPayload: count({ min: 512, max: 65535, example: 1232 }).default(1232),
  /** DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484) listeners; they need the tls section. */
  dot: encryptedListen(853),
  doh: encryptedListen(443),
})

/** Worker processes sharing the listeners (node:cluster): a number, or "auto" for one per core. 1 runs a single process. */
const workers = field((v) => {
  if (v === 'auto' || (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 64)) return v
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return new Refusal(`expected a number such as 4, or "auto", got the text ${given(v)}: write it without quotes`)
  return new Refusal(`expected a whole number from 1 to 64 such as 4, or "auto" (one per core), got ${given(v)}`)
})

const upstream = z.strictObject({
  servers: list(upstreamServer, '["192.0.2.53:53", "tcp://192.0.2.54:53"]', 1).default([{ fromResolvConf: true as const }]),
  resolvConf: text('/etc/resolv.conf').default('/etc/resolv.conf'),
  /** PEM CA bundle for tls:// and https:// upstreams; null: the system CAs. */
  caFile: textOrNull('/etc/ssl/certs/kommune-ca.pem').default(null),
  strategy: oneOf(['sequential', 'round-robin']).default('sequential'),
  tryTimeout: positiveDuration.default(1000),
  deadline: positiveDuration.default(3000),
  failuresBeforeDown: count({ min: 1, example: 3 }).default(3),
  probeInterval: positiveDuration.default(5000),
  /** Upstream exchanges in flight across all pools; past it a miss is answered SERVFAIL at once. */
  maxPending: count({ min: 1, example: 10_000 }).default(10_000),
  /** Upstream-facing source address(es), at most one per family; default: any. */
  sourceAddress: sourceAddress.default({}),
  /** 0x20: random letter case on upstream questions, replies must echo it. */
  randomizeCase: flag.default(true),
  /** Upstreams ("IP:port") that do not echo the case: sent as the client wrote it. */
  randomizeCaseExcept: list(upstreamAddress, '["10.1.1.10:53"]').default([]),
  /** Conditional forwarding: the most specific zone wins. */
  zones: list(z.strictObject({ zone: text('ad.example.kommune.no'), servers: list(upstreamServer, '["10.1.1.10:53"]', 1) }), '[{zone: ad.example, servers: ["10.1.1.10:53"]}]').default([]),
})

const cache = z.strictObject({
  enabled: flag.default(true),
  maxEntries: count({ min: 1, example: 100_000 }).default(100_000),
  maxBytes: byteSize.default(32 * 1024 * 1024),
  minTtl: duration.default(0),
  maxTtl: duration.default(86_400_000),
  negativeMaxTtl: duration.default(3_600_000),
  serveStale: z.strictObject({ enabled: flag.default(true), maxStale: duration.default(86_400_000), answerTtl: duration.default(30_000) }).prefault({}),
})

const git = z.strictObject({
  url: text('https://git.example.kommune.no/dns/blocklists.git'),
  branch: text('main').default('main'),
  interval: positiveDuration.default(60_000),
  requireSignedCommits: flag.default(false),
  /** SSH allowed_signers file for `git verify-commit`; null uses git's own config (GnuPG keyring). */
  allowedSigners: textOrNull('/etc/dnsvakt/allowed_signers').default(null),
  /** Serve a fetched commit that does not descend from the served one (a rollback or rewritten history). Absent or false: refused (see `dnsvakt accept-lists`). */
  allowRewrite: flag.optional(),
})

/** A candidate list version evaluated in shadow against live traffic (candidate/candidate-shadow.ts). */
const candidate = z.strictObject({
  /** A list folder (e.g. a checkout of the list repository's `next` branch); relative to the config file like blocking.dir. */
  dir: text('/var/lib/dnsvakt/blocklists-next'),
  /** Newly blocked and newly allowed names kept for GET /v1/candidate (each direction). */
  topNames: count({ min: 1, max: 10_000, example: 100 }).default(100),
})

const blocking = z.strictObject({
  dir: text('/var/lib/dnsvakt/blocklists').default('blocklists'),
  /** Last good lists kept on disk (lists/last-good-state.ts); null: `.dnsvakt-state/<dir name>` beside blocking.dir. */
  stateDir: textOrNull('/var/lib/dnsvakt/state').default(null),
  mode: blockMode.default('nxdomain'),
  sinkhole: z.strictObject({ ipv4: address(4, '10.20.0.80').default(null), ipv6: address(6, 'fd00:20::80').default(null) }).prefault({}),
  ttl: duration.default(300_000),
  edeText: text('Blocked by municipal ICT rules (NSM 2023)', 200).default('Blocked by municipal ICT rules (NSM 2023)'),
  /** The organisation's own NAT64 prefixes: AAAA answers in them are checked by their embedded IPv4 address (64:ff9b::/96, 64:ff9b:1::/48 and 2002::/16 always are). */
  nat64Prefixes: list(
    field((v) =>
      typeof v === 'string' && isNat64Prefix(v)
        ? v
        : new Refusal(`expected an IPv6 NAT64 prefix of length 32, 40, 48, 56, 64 or 96 (RFC 6052) such as "2001:db8:64::/96", got ${given(v)}`),
    ),
    '["2001:db8:64::/96"]',
  ).default([]),
  watchInterval: positiveDuration.default(2000),
  exemptions: z.strictObject({ file: text('exemptions.yaml').default('exemptions.yaml'), maxDuration: duration.default(365 * 86_400_000) }).prefault({}),
  /** Optional built-in sync of blocking.dir from a git remote (see git-sync.ts). */
  git: git.nullable().default(null),
  /** A second list version decided beside the served one, never enforced; null: none. */
  candidate: candidate.nullable().default(null),
})

export const configSchema = z.strictObject({
  listen: listen.prefault({}),
  workers: workers.default(1),
  upstream: upstream.prefault({}),
  cache: cache.prefault({}),
  access: z.strictObject({ allow: list(CIDR, '["10.0.0.0/8", "fc00::/7"]').default(DEFAULT_ALLOW) }).prefault({}),
  rateLimit: z
    .strictObject({
      /** Per client (address prefix); 0 turns rate limiting off (unless a group sets its own). */
      queriesPerSecond: count({ min: 0, example: 50, fraction: true }).default(0),
      burst: count({ min: 1, example: 200 }).default(200),
      /** Prefix lengths that count as one client. */
      ipv4Prefix: count({ min: 8, max: 32, example: 32 }).default(32),
      ipv6Prefix: count({ min: 16, max: 128, example: 56 }).default(56),
      /** Buckets kept; past it the least recently used is evicted. */
      maxClients: count({ min: 1, example: 100_000 }).default(100_000),
      /** At most one log line per limited client per this interval. */
      logInterval: positiveDuration.default(60_000),
      /** Limits per client group instead of the default (e.g. a VPN concentrator behind NAT). */
      groups: z.record(z.string(), rateLimitOf).default({}),
    })
    .prefault({}),
  blocking: blocking.prefault({}),
  groups: z
    .record(z.string().regex(NAME, 'group names: lower-case letters, digits and "-", such as "staff-vpn"'), group)
    .default({ default: { networks: [], enforce: ['tiktok', 'telegram', 'doh-bypass'] } }),
  tls: tlsSection,
  log: z
    .strictObject({
      level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      queries: flag.default(false),
      clientAddress: oneOf(['truncate', 'hash', 'full', 'omit']).default('truncate'),
      /** File holding the client-pseudonym secret shared by every worker and instance (else DNSVAKT_PSEUDONYM_SECRET, else generated at start); unset by default. */
      pseudonymSecretFile: text('/etc/dnsvakt/pseudonym.secret').optional(),
    })
    .prefault({}),
  admin: z
    .strictObject({
      /** Bearer token for POST endpoints; `tokenEnv` names an environment variable holding it instead. */
      token: textOrNull('a-long-random-token').default(null),
      tokenEnv: text('DNSVAKT_ADMIN_TOKEN').default('DNSVAKT_ADMIN_TOKEN'),
    })
    .prefault({}),
})

export type Config = z.infer<typeof configSchema>
export type UpstreamServer = Exclude<Config['upstream']['servers'][number], { fromResolvConf: true }>
