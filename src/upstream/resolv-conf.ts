/**
 * Upstreams from /etc/resolv.conf: its `nameserver` lines, port 53. Used when
 * upstream.servers says "resolv.conf" (the default), so a fresh install
 * forwards to whatever the host already uses.
 *
 * Parsed like glibc's resolv.conf(5): a keyword at the start of a line, `#`
 * or `;` starts a comment, every other keyword (`search`, `options`...) is
 * not ours. Unlike glibc we keep every nameserver, not only the first three
 * (MAXNS): the pool's health checks make extra ones cheap.
 *
 * A link-local IPv6 nameserver keeps its scope (`fe80::1%eth0`): dgram and
 * net need it to pick the interface. 127.0.0.53 (systemd-resolved's stub) is
 * an ordinary upstream here. Only a dnsvakt listening on port 53 of an
 * address listed here would forward to itself; the default listen port
 * (5353) rules that out, so nothing is filtered. Inside a container the stub
 * is usually unreachable, and the pool's health checks report it down.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { DnsvaktError } from '../errors.js'
import type { Upstream } from './upstream-pool.js'

/** The port resolv.conf implies: it has no syntax for another one. */
const DNS_PORT = 53

export interface ResolvConf {
  /** Nameservers in file order, duplicates dropped, each with port 53. */
  readonly upstreams: Array<{ address: string; port: number }>
  /** Nameserver lines that were skipped (not an IP address), for a warning. */
  readonly skipped: string[]
}

/** Parses resolv.conf text; never throws. `source` names the file in messages. */
export function parseResolvConf(text: string, source = 'resolv.conf'): ResolvConf {
  const upstreams: Array<{ address: string; port: number }> = []
  const skipped: string[] = []
  const seen = new Set<string>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/[#;].*$/, '').trim()
    const words = line.split(/\s+/)
    if (words[0] !== 'nameserver') continue
    const address = words[1] ?? ''
    // isIP accepts an IPv6 %scope, and nothing that is not an IP literal.
    if (isIP(address) === 0) {
      skipped.push(`${source}:${i + 1}: "${line}" does not name an IP address`)
      continue
    }
    if (seen.has(address)) continue
    seen.add(address)
    upstreams.push({ address, port: DNS_PORT })
  }
  return { upstreams, skipped }
}

/**
 * Reads `path` and returns its nameservers as upstreams (port 53). Throws
 * DnsvaktError DNSVAKT_ERR_CONFIG when the file cannot be read or names no
 * usable nameserver. Synchronous: it runs once, while the config is loaded.
 */
export function readResolvConf(path = '/etc/resolv.conf', onSkipped?: (problem: string) => void): Upstream[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `upstream.servers uses "resolv.conf" but ${path} cannot be read: ${(cause as Error).message}`, { cause })
  }
  const { upstreams, skipped } = parseResolvConf(text, path)
  if (upstreams.length === 0) {
    throw new DnsvaktError(
      'DNSVAKT_ERR_CONFIG',
      `upstream.servers uses "resolv.conf" but ${path} has no usable nameserver line; list upstream.servers explicitly`,
      { problems: skipped },
    )
  }
  for (const problem of skipped) onSkipped?.(problem)
  return upstreams
}
