/**
 * Every config key, its default and its check, in one place. Strings become
 * ready structures here (durations in ms, sizes in bytes, host:port pairs
 * split), so nothing downstream parses config again. Unknown keys are errors:
 * a typo must not silently fall back to a default.
 */
import { isIP } from 'node:net'
import { z } from 'zod'
import { isNetwork } from '../policy/network-list.js'
import { parseAddress } from '../lists/ip-ranges.js'
import { encryptedUpstream, tlsSchema } from './encrypted-schema.js'

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "500ms", "3s", "5m", "1h", "365d" → milliseconds. Bare numbers are refused: their unit would be a guess. */
export const duration = z.string().transform((text, ctx) => {
  const m = DURATION.exec(text.trim())
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as "500ms", "3s", "5m", "1h" or "7d", got "${text}"` })
    return z.NEVER
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2]])
})

const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/
const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }

/** "64MiB", "512KiB", 1048576 → bytes. */
export const byteSize = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v
  const m = SIZE.exec(v.trim())
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as "64MiB", got "${v}"` })
    return z.NEVER
  }
  return Number(m[1]) * UNIT_BYTES[m[2] ?? 'B']
})

export interface HostPort {
  readonly address: string
  readonly port: number
}

/** "127.0.0.1:53", "[::1]:5353", "10.0.0.1" (port `defaultPort`). Addresses must be IP literals. */
export const hostPort = (defaultPort: number) =>
  z.string().transform((text, ctx): HostPort => {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text)
    const address = m?.[1] ?? (isIP(text) === 6 ? text : '')
    const port = m?.[2] === undefined ? defaultPort : Number(m[2])
    const bareV6 = isIP(text) === 6
    if ((!bareV6 && (!m || isIP(address.split('%')[0]) === 0)) || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `expected "IP:port" or "[IPv6]:port", got "${text}"` })
      return z.NEVER
    }
    return bareV6 ? { address: text, port: defaultPort } : { address, port }
  })

const CIDR = z.string().refine(isNetwork, 'expected a network in CIDR form such as "10.0.0.0/8" or "fc00::/7" (or a single address)')

const CATEGORY = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'category names are list file stems: lower-case letters, digits and "-"')

const upstreamServer = z.string().transform((text, ctx) => {
  if (text === 'resolv.conf') return { fromResolvConf: true as const }
  if (/^(tls|https):\/\//.test(text)) return encryptedUpstream(text, ctx)
  const tcp = text.startsWith('tcp://')
  const parsed = hostPort(53).safeParse(tcp ? text.slice(6) : text.replace(/^udp:\/\//, ''))
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: `expected "resolv.conf", "IP:port", "tcp://IP:port", "tls://IP:853#name" or "https://name/dns-query", got "${text}"` })
    return z.NEVER
  }
  return { ...parsed.data, protocol: tcp ? ('tcp' as const) : ('udp' as const) }
})

export const DEFAULT_ALLOW = ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7']

const group = z.strictObject({
  /** Client networks of this group; the longest matching prefix across all groups wins. */
  networks: z.array(CIDR).default([]),
  /** Categories enforced for this group (list file stems). */
  enforce: z.array(CATEGORY).default([]),
})

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      dns: z.array(hostPort(53)).min(1).default(['127.0.0.1:5353', '[::1]:5353'].map((t) => hostPort(53).parse(t))),
      /** Admin HTTP (metrics, health, explain, reload). Empty string disables it. */
      admin: z.union([z.literal(''), hostPort(9153)]).default(hostPort(9153).parse('127.0.0.1:9153')),
      tcpIdleTimeout: duration.default(10_000),
      tcpMaxConnections: z.number().int().positive().default(1000),
      udpReceiveBuffer: byteSize.default(4 * 1024 * 1024),
      /** DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484) listeners; they need the tls section. */
      dot: z.array(hostPort(853)).default([]),
      doh: z.array(hostPort(443)).default([]),
    })
    .prefault({}),
  /** Worker processes sharing the listeners (node:cluster): a number, or "auto" for one per core. 1 runs a single process. */
  workers: z.union([z.number().int().min(1).max(64), z.literal('auto')]).default('auto'),
  upstream: z
    .strictObject({
      servers: z.array(upstreamServer).min(1).default([{ fromResolvConf: true as const }]),
      resolvConf: z.string().default('/etc/resolv.conf'),
      /** PEM CA bundle for tls:// and https:// upstreams; null: the system CAs. */
      caFile: z.string().min(1).nullable().default(null),
      strategy: z.enum(['sequential', 'round-robin']).default('sequential'),
      tryTimeout: duration.default(1000),
      deadline: duration.default(3000),
      failuresBeforeDown: z.number().int().min(1).default(3),
      probeInterval: duration.default(5000),
      /** Conditional forwarding: the most specific zone wins. */
      zones: z
        .array(z.strictObject({ zone: z.string().min(1), servers: z.array(upstreamServer).min(1) }))
        .default([]),
    })
    .prefault({}),
  cache: z
    .strictObject({
      enabled: z.boolean().default(true),
      maxEntries: z.number().int().positive().default(100_000),
      maxBytes: byteSize.default(64 * 1024 * 1024),
      minTtl: duration.default(0),
      maxTtl: duration.default(86_400_000),
      negativeMaxTtl: duration.default(3_600_000),
      serveStale: z
        .strictObject({
          enabled: z.boolean().default(true),
          maxStale: duration.default(86_400_000),
          answerTtl: duration.default(30_000),
        })
        .prefault({}),
    })
    .prefault({}),
  access: z.strictObject({ allow: z.array(CIDR).default(DEFAULT_ALLOW) }).prefault({}),
  rateLimit: z
    .strictObject({
      /** Per client address; 0 turns rate limiting off. */
      queriesPerSecond: z.number().nonnegative().default(0),
      burst: z.number().int().positive().default(200),
    })
    .prefault({}),
  blocking: z
    .strictObject({
      dir: z.string().default('blocklists'),
      mode: z.enum(['nxdomain', 'nodata', 'null', 'refused', 'sinkhole']).default('nxdomain'),
      sinkhole: z
        .strictObject({
          ipv4: z.string().refine((t) => isIP(t) === 4 && parseAddress(t) !== null, 'expected an IPv4 address').nullable().default(null),
          ipv6: z.string().refine((t) => isIP(t) === 6 && parseAddress(t) !== null, 'expected an IPv6 address').nullable().default(null),
        })
        .prefault({}),
      ttl: duration.default(300_000),
      edeText: z.string().max(200).default('Blocked by municipal ICT rules (NSM 2023)'),
      watchInterval: duration.default(2000),
      exemptions: z
        .strictObject({
          file: z.string().default('exemptions.yaml'),
          maxDuration: duration.default(365 * 86_400_000),
        })
        .prefault({}),
      /** Optional built-in sync of blocking.dir from a git remote (see git-sync.ts). */
      git: z
        .strictObject({
          url: z.string().min(1),
          branch: z.string().min(1).default('main'),
          interval: duration.default(60_000),
          requireSignedCommits: z.boolean().default(false),
          /** SSH allowed_signers file for `git verify-commit`; null uses git's own config (GnuPG keyring). */
          allowedSigners: z.string().nullable().default(null),
        })
        .nullable()
        .default(null),
    })
    .prefault({}),
  groups: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'group names: lower-case letters, digits and "-"'), group)
    .default({ default: { networks: [], enforce: ['tiktok', 'telegram', 'doh-bypass'] } }),
  tls: tlsSchema(duration),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      queries: z.boolean().default(false),
      clientAddress: z.enum(['truncate', 'hash', 'full', 'omit']).default('truncate'),
    })
    .prefault({}),
  admin: z
    .strictObject({
      /** Bearer token for POST endpoints; `tokenEnv` names an environment variable holding it instead. */
      token: z.string().nullable().default(null),
      tokenEnv: z.string().default('DNSVAKT_ADMIN_TOKEN'),
    })
    .prefault({}),
})

export type Config = z.infer<typeof configSchema>
export type UpstreamServer = Exclude<Config['upstream']['servers'][number], { fromResolvConf: true }>
