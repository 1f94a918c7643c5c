/**
 * The kinds of value a config key holds (durations, sizes, counts, addresses,
 * choices), each read from the raw YAML value with an error that guides: it
 * says what was expected, shows an example of the right form and quotes what
 * was given ("expected a duration such as \"300s\" ..., got the number 300").
 * The key itself is put in front by load-config.ts from the issue's path.
 */
import { isIP } from 'node:net'
import { z } from 'zod'

/** A value as an error message quotes it: strings in quotes, numbers named as numbers. */
export function given(v: unknown): string {
  if (typeof v === 'string') return v.length > 60 ? `${JSON.stringify(v.slice(0, 40))}... (${v.length} characters)` : JSON.stringify(v)
  if (typeof v === 'number') return `the number ${v}`
  if (v === null) return 'an empty value (null)'
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 60)})`
  if (typeof v === 'object') return 'a mapping'
  return String(v)
}

/** A reason a value was refused; returned (not thrown) by the readers below. */
export class Refusal {
  constructor(readonly message: string) {}
}
const refuse = (message: string) => new Refusal(message)

/** A schema that reads any raw value with `read`, turning a Refusal into an issue on the key. */
export function field<T>(read: (v: unknown) => T | Refusal) {
  return z.unknown().transform((v, ctx): T => {
    const r = read(v)
    if (r instanceof Refusal) {
      ctx.addIssue({ code: 'custom', message: r.message })
      return z.NEVER
    }
    return r
  })
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "500ms", "3s", "5m", "1h", "365d" → milliseconds. Bare numbers are refused: their unit would be a guess. */
export const duration = field((v) => {
  const m = typeof v === 'string' ? DURATION.exec(v.trim()) : null
  if (m) return Math.round(Number(m[1]) * UNIT_MS[m[2]])
  if (typeof v === 'number') return refuse(`expected a duration with a unit, such as "${v}s" or "${v}ms", got the number ${v} (a bare number's unit would be a guess)`)
  return refuse(`expected a duration such as "500ms", "3s", "5m", "1h" or "7d", got ${given(v)}`)
})

const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/
const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }

/** "64MiB", "512KiB", 1048576 → bytes. */
export const byteSize = field((v) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v
  const m = typeof v === 'string' ? SIZE.exec(v.trim()) : null
  if (m) return Number(m[1]) * UNIT_BYTES[m[2] ?? 'B']
  return refuse(`expected a size such as "64MiB", "512KiB" or a number of bytes, got ${given(v)}`)
})

/** A number from `min` to `max` (whole unless `fraction`); a quoted number gets told to drop the quotes. */
export function count(opts: { min: number; max?: number; example: number; fraction?: boolean }) {
  const { min, max = Infinity, example, fraction = false } = opts
  const range = max === Infinity ? `${min} or more` : `from ${min} to ${max}`
  return field((v) => {
    if (typeof v === 'number' && v >= min && v <= max && (fraction || Number.isInteger(v))) return v
    if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v)) return refuse(`expected a number such as ${example}, got the text ${given(v)}: write it without quotes`)
    return refuse(`expected a ${fraction ? '' : 'whole '}number ${range} such as ${example}, got ${given(v)}`)
  })
}

export const flag = field((v) => (typeof v === 'boolean' ? v : refuse(`expected true or false, got ${given(v)}`)))

/** One of `values` (as written in YAML). */
export function oneOf<const T extends string>(values: readonly T[]) {
  return field((v) => ((values as readonly unknown[]).includes(v) ? (v as T) : refuse(`expected one of ${values.join(', ')}, got ${given(v)}`)))
}

/** A non-empty string of at most `max` characters. */
export const text = (example: string, max = Infinity) =>
  field((v) => {
    if (typeof v === 'string' && v.length > 0 && v.length <= max) return v
    return refuse(`expected a text${max === Infinity ? '' : ` of at most ${max} characters`} such as ${JSON.stringify(example)}, got ${given(v)}`)
  })

/** A path or text that may be null (YAML `null` or left out: use the default behaviour). */
export const textOrNull = (example: string) =>
  field((v) => (v === null ? null : typeof v === 'string' && v.length > 0 ? v : refuse(`expected a text such as ${JSON.stringify(example)} or null, got ${given(v)}`)))

export interface HostPort {
  readonly address: string
  readonly port: number
}

/** `address:port`, IPv6 as `[address]:port`. */
export const formatHostPort = (h: HostPort): string => (isIP(h.address.split('%')[0]) === 6 ? `[${h.address}]:${h.port}` : `${h.address}:${h.port}`)

/**
 * "127.0.0.1:53", "[::1]:5353" → HostPort. Addresses are IP literals (names
 * are never resolved at start). `defaultPort` null: the port is required
 * (listeners: "127.0.0.1" meaning port 53 would be a silent guess).
 */
export function readHostPort(text: string, defaultPort: number | null, examplePort: number): HostPort | Refusal {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text)
  const bareV6 = !bracketed && isIP(text.split('%')[0]) === 6
  const plain = bracketed || bareV6 ? null : /^([^:]*)(?::(.*))?$/.exec(text)
  const address = bracketed ? bracketed[1] : bareV6 ? text : (plain?.[1] ?? '')
  const portText = bracketed ? bracketed[2] : bareV6 ? undefined : plain?.[2]
  const family = isIP(address.split('%')[0])
  const example = (port: number | string) => (family === 6 ? `"[${address}]:${port}"` : family === 4 ? `"${address}:${port}"` : `"127.0.0.1:${port}" or "[::1]:${port}"`)
  if (family === 0) {
    if (/^\d+$/.test(text)) return refuse(`expected "IP:port", got ${given(text)}, a port without an address: write "127.0.0.1:${text}" (or "0.0.0.0:${text}" for every IPv4 address)`)
    return refuse(`expected "IP:port" with an IP address (names are not resolved) such as ${example(examplePort)}, got ${given(text)}`)
  }
  if (portText === undefined) {
    if (defaultPort === null) return refuse(`expected "IP:port" (the port is required) such as ${example(examplePort)}, got ${given(text)}`)
    return { address, port: defaultPort }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN
  if (!(port <= 65535)) return refuse(`expected a port from 0 to 65535 (0 picks a free one) such as ${example(examplePort)}, got ${given(text)}`)
  return { address, port }
}

/** A listener address: "IP:port", port required. */
export const listenAddress = (examplePort: number) =>
  field((v) => (typeof v === 'string' ? readHostPort(v, null, examplePort) : refuse(`expected "IP:port" such as "127.0.0.1:${examplePort}", got ${given(v)}`)))
