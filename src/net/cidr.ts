/**
 * Textual IP addresses and CIDRs to bytes: the one strict parser that the
 * config (client networks, sinkhole addresses), the list files, the block
 * answers and the policy all use, so "10.0.0.1/" or "010.0.0.1" is refused
 * the same way everywhere. A leaf: it imports nothing of dnsvakt's.
 */

export interface ParsedCidr {
  family: 4 | 6
  /** Network address with the host bits cleared: 4 or 16 bytes. */
  bytes: Uint8Array
  prefix: number
}

/**
 * Parses "address/prefix" (a bare address means a single host). Host bits
 * are accepted and cleared, so 10.1.2.3/8 is 10.0.0.0/8. Returns null for a
 * prefix out of range, leading zeros, a zone id or anything else odd.
 */
export function parseCidr(text: string): ParsedCidr | null {
  const slash = text.indexOf('/')
  const bytes = parseAddress(slash < 0 ? text : text.slice(0, slash))
  if (bytes === null) return null
  const bits = bytes.length * 8
  let prefix = bits
  if (slash >= 0) {
    const p = text.slice(slash + 1)
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > bits) return null
    prefix = Number(p)
  }
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, prefix - i * 8))
    bytes[i] &= (0xff << (8 - keep)) & 0xff
  }
  return { family: bytes.length === 4 ? 4 : 6, bytes, prefix }
}

/** Textual IPv4 (dotted quad, no leading zeros) or IPv6 (RFC 4291 s2.2, no zone id) to 4 or 16 bytes. */
export function parseAddress(text: string): Uint8Array | null {
  if (text.includes(':')) return parseV6(text)
  const v4 = parseV4(text)
  return v4 === null ? null : Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff)
}

function parseV4(text: string): number | null {
  // No leading zeros: "010" is octal to some parsers and decimal to others.
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(text)
  if (m === null) return null
  let value = 0
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i])
    if (octet > 255) return null
    value = value * 256 + octet
  }
  return value
}

function parseV6(text: string): Uint8Array | null {
  const gap = text.indexOf('::')
  if (gap >= 0 && text.indexOf('::', gap + 1) >= 0) return null
  const head = gap < 0 ? text : text.slice(0, gap)
  const tail = gap < 0 ? '' : text.slice(gap + 2)
  const headWords = head === '' ? [] : parseGroups(head, gap < 0)
  const tailWords = tail === '' ? [] : parseGroups(tail, true)
  if (headWords === null || tailWords === null) return null
  const count = headWords.length + tailWords.length
  if (gap < 0 ? count !== 8 : count > 7) return null
  const words = [...headWords, ...new Array<number>(8 - count).fill(0), ...tailWords]
  const out = new Uint8Array(16)
  words.forEach((w, i) => { out[i * 2] = w >>> 8; out[i * 2 + 1] = w & 0xff })
  return out
}

/** Colon-separated 16-bit groups; the last may be a dotted quad (two groups) when it ends the address. */
function parseGroups(part: string, endsAddress: boolean): number[] | null {
  const groups = part.split(':')
  const words: number[] = []
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]
    if (endsAddress && i === groups.length - 1 && g.includes('.')) {
      const v4 = parseV4(g)
      if (v4 === null) return null
      words.push(v4 >>> 16, v4 & 0xffff)
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      words.push(parseInt(g, 16))
    } else {
      return null
    }
  }
  return words
}
