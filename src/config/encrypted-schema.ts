/**
 * Config for encrypted DNS: the `tls` section (certificate, key and name of
 * dnsvakt's own DoT/DoH listeners), and the encrypted upstream forms
 * `tls://IP[:853][#name][?pin=sha256/BASE64]` (DoT, RFC 7858) and
 * `https://host[:port]/path[#name][?pin=...]` (DoH, RFC 8484), and the
 * listen.dot / listen.doh addresses. Kept apart from schema.ts, which only
 * hooks these in. Readers as in fields.ts: a refusal says what was expected,
 * with an example.
 */
import { isIP } from 'node:net'
import { z } from 'zod'
import { duration, field, given, type HostPort, readHostPort, Refusal, textOrNull } from './fields.js'

/** A DoT or DoH upstream, ready for the pool. */
export interface EncryptedUpstream extends HostPort {
  readonly protocol: 'tls' | 'https'
  /** Name the certificate must carry (and the SNI / HTTP authority); null: the certificate must carry the IP. */
  readonly serverName: string | null
  /** base64 SHA-256 digests of acceptable SubjectPublicKeyInfo; empty: CA verification alone. */
  readonly pins: readonly string[]
  /** DoH only: the URI path, e.g. /dns-query. */
  readonly path: string
}

const SERVER_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/

/** The `tls` section: dnsvakt's own certificate for its DoT/DoH listeners. */
export const tlsSection = z
  .strictObject({
    /** PEM certificate chain and key of dnsvakt's DoT/DoH listeners; re-read when they change. */
    certFile: textOrNull('/etc/dnsvakt/tls/fullchain.pem').default(null),
    keyFile: textOrNull('/etc/dnsvakt/tls/privkey.pem').default(null),
    /** The name in the certificate; with it, DDR (RFC 9462) designates dnsvakt itself. */
    serverName: field((v) =>
      v === null || (typeof v === 'string' && SERVER_NAME.test(v)) ? v : new Refusal(`expected a lower-case DNS name such as "dns.kommune.no", or null, got ${given(v)}`),
    ).default(null),
    /** How often the certificate and key files are checked for a change. */
    reloadInterval: duration.refine((ms) => ms > 0, 'expected a duration above zero, such as "30s"').default(30_000),
  })
  .prefault({})

/** A listen.dot / listen.doh address: "IP:port", or "IP" for the protocol's own port (853, 443). */
export const encryptedListen = (port: 853 | 443) =>
  z
    .array(field((v) => (typeof v === 'string' ? readHostPort(v, port, port) : new Refusal(`expected "IP:port" such as "0.0.0.0:${port}", got ${given(v)}`))))
    .default([])

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i
const PIN = /^sha256\/([A-Za-z0-9+/]{43}=)$/

/** Splits `#name?pin=sha256/...&pin=...` off an upstream; problems are pushed. */
function fragment(text: string, problems: string[]): { rest: string; serverName: string | null; pins: string[] } {
  const hash = text.indexOf('#')
  if (hash < 0) return { rest: text, serverName: null, pins: [] }
  const [name, query = ''] = text.slice(hash + 1).split('?', 2)
  const pins: string[] = []
  for (const kv of query === '' ? [] : query.split('&')) {
    const m = kv.startsWith('pin=') ? PIN.exec(kv.slice(4)) : null
    if (m) pins.push(m[1])
    else problems.push(`"${kv}" is not pin=sha256/<base64 of the SPKI SHA-256>`)
  }
  if (name !== '' && !NAME.test(name)) problems.push(`"${name}" is not a DNS name`)
  return { rest: text.slice(0, hash), serverName: name === '' ? null : name.toLowerCase(), pins }
}

/** `[v6]:port`, `v4:port`, `name:port` or a bare host, with `defaultPort`. */
function splitAuthority(text: string, defaultPort: number): { address: string; port: number } | null {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(text)
  if (!m) return null
  const port = m[2] === undefined ? defaultPort : Number(m[2])
  return port >= 1 && port <= 65535 ? { address: m[1], port } : null
}

/** Parses `tls://…` or `https://…`; returns null (with problems) when it is not usable. */
export function parseEncryptedUpstream(text: string, problems: string[]): EncryptedUpstream | null {
  const tls = text.startsWith('tls://')
  const { rest, serverName, pins } = fragment(text.slice(tls ? 6 : 8), problems)
  const slash = tls ? rest.length : rest.indexOf('/')
  const path = tls ? '' : slash < 0 ? '/dns-query' : rest.slice(slash)
  const hostPort = splitAuthority(slash < 0 ? rest : rest.slice(0, slash), tls ? 853 : 443)
  if (hostPort === null) {
    problems.push(tls ? 'expected tls://IP[:port][#name]' : 'expected https://host[:port]/path[#name]')
    return null
  }
  const ip = isIP(hostPort.address.split('%')[0]) !== 0
  if (tls && !ip) problems.push('a DoT upstream is an IP address (name the certificate with #name)')
  if (!ip && !NAME.test(hostPort.address)) problems.push(`"${hostPort.address}" is neither an IP address nor a DNS name`)
  if (!tls && !/^\/[\x21-\x7e]*$/.test(path)) problems.push(`"${path}" is not a URI path`)
  if (problems.length > 0) return null
  return { ...hostPort, protocol: tls ? 'tls' : 'https', serverName: serverName ?? (ip ? null : hostPort.address.toLowerCase()), pins, path }
}

/** The upstreamServer hook: the parsed upstream, or a refusal naming every problem. */
export function encryptedUpstream(text: string): EncryptedUpstream | Refusal {
  const problems: string[] = []
  const parsed = parseEncryptedUpstream(text, problems)
  return parsed ?? new Refusal(`${given(text)}: ${problems.join('; ')}`)
}

/** The keys of Config these rules read (not Config itself: schema.ts imports this file). */
interface EncryptedKeys {
  readonly listen: { readonly dot: readonly HostPort[]; readonly doh: readonly HostPort[] }
  readonly tls: { readonly certFile: string | null; readonly keyFile: string | null; readonly serverName: string | null }
}

/**
 * DDR designation is on when dnsvakt serves DoT or DoH and tls.serverName
 * names its certificate (server/encrypted-listeners.ts designates then):
 * the `_dns.` name it also answers, else null. Explain asks this too.
 */
export function ddrServerName(c: EncryptedKeys): string | null {
  const serving = c.listen.dot.length + c.listen.doh.length > 0 && c.tls.certFile !== null && c.tls.keyFile !== null
  return serving ? c.tls.serverName : null
}

/** Cross-field rules of the encrypted keys (run by check-config.ts's crossFieldProblems). */
export function encryptedConfigProblems(c: EncryptedKeys): string[] {
  const listeners = c.listen.dot.length + c.listen.doh.length
  if (listeners > 0 && (c.tls.certFile === null || c.tls.keyFile === null)) {
    return ['tls: listen.dot and listen.doh need tls.certFile and tls.keyFile']
  }
  return []
}
