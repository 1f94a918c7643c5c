/**
 * Upstreams from /etc/resolv.conf: its `nameserver` lines, port 53. Used when
 * upstream.servers says "resolv.conf" (the default), so a fresh install
 * forwards to whatever the host already uses.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { DnsvaktError } from '../errors.js'

export function readResolvConf(path = '/etc/resolv.conf'): Array<{ address: string; port: number }> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `upstream.servers uses "resolv.conf" but ${path} cannot be read: ${(cause as Error).message}`, { cause })
  }
  const out: Array<{ address: string; port: number }> = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim()
    const m = /^nameserver\s+(\S+)$/.exec(line)
    if (!m) continue
    // A link-local IPv6 nameserver keeps its %scope: dgram needs it to send.
    if (isIP(m[1].split('%')[0]) !== 0) out.push({ address: m[1], port: 53 })
  }
  if (out.length === 0) {
    throw new DnsvaktError('DNSVAKT_ERR_CONFIG', `upstream.servers uses "resolv.conf" but ${path} has no usable nameserver line; list upstream.servers explicitly`)
  }
  return out
}
