/**
 * IPv6 addresses that carry an IPv4 address a client ends up talking to:
 * NAT64 (RFC 6052: the well-known prefix 64:ff9b::/96, the local-use
 * 64:ff9b:1::/48 of RFC 8215, and an organisation's own prefixes) and 6to4
 * (2002::/16, RFC 3056). An AAAA record of one of these forms for a Telegram
 * address reaches Telegram through the NAT64 gateway or the 6to4 relay, so
 * answer inspection checks the embedded IPv4 address against the IPv4
 * ranges. (IPv4-mapped ::ffff:a.b.c.d is handled by IpRangeSet itself.)
 */
import { parseCidr } from './cidr.js'

/** RFC 6052 s2.2: where the 4 IPv4 bytes sit in the 16, per prefix length (byte 8 is the reserved "u" octet). */
const POSITIONS: Readonly<Record<number, readonly number[]>> = {
  32: [4, 5, 6, 7],
  40: [5, 6, 7, 9],
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
}

/** The prefix lengths RFC 6052 allows for a NAT64 prefix. */
export const NAT64_PREFIX_LENGTHS: readonly number[] = [32, 40, 48, 56, 64, 96]

interface Form {
  readonly bytes: Uint8Array
  readonly prefix: number
  /** Byte positions of the IPv4 address, one set per possible layout. */
  readonly layouts: ReadonlyArray<readonly number[]>
}

const SIX_TO_FOUR: Form = { bytes: Uint8Array.of(0x20, 0x02), prefix: 16, layouts: [[2, 3, 4, 5]] }
const WELL_KNOWN = '64:ff9b::/96'
/** RFC 8215 leaves the length inside the /48 to the operator: every RFC 6052 layout from /48 on is tried (fail closed). */
const LOCAL_USE: Form = { ...form('64:ff9b:1::/48'), layouts: [48, 56, 64, 96].map((l) => POSITIONS[l]) }

function form(cidr: string): Form {
  const parsed = parseCidr(cidr)
  if (parsed === null || parsed.family !== 6 || POSITIONS[parsed.prefix] === undefined) {
    throw new Error(`not a NAT64 prefix (IPv6, length ${NAT64_PREFIX_LENGTHS.join('/')}): ${cidr}`)
  }
  return { bytes: parsed.bytes, prefix: parsed.prefix, layouts: [POSITIONS[parsed.prefix]] }
}

/** Whether `cidr` may be given as a NAT64 prefix (config check). */
export function isNat64Prefix(cidr: string): boolean {
  const parsed = parseCidr(cidr.trim())
  return parsed !== null && parsed.family === 6 && POSITIONS[parsed.prefix] !== undefined
}

export class EmbeddedIpv4 {
  private readonly forms: readonly Form[]
  /** The addresses the last `extract` found, 4 bytes each from 0 (reused: read before the next call). */
  readonly found: Uint8Array

  /** `extraNat64` are the organisation's own NAT64 prefixes (blocking.nat64Prefixes, validated by the config schema). */
  constructor(extraNat64: readonly string[] = []) {
    this.forms = [form(WELL_KNOWN), LOCAL_USE, SIX_TO_FOUR, ...extraNat64.map((p) => form(p.trim()))]
    this.found = new Uint8Array(this.forms.reduce((sum, f) => sum + 4 * f.layouts.length, 0))
  }

  /** Finds every IPv4 address embedded in the IPv6 address at bytes[offset..offset+16), into `found`; returns how many. */
  extract(bytes: Uint8Array, offset: number): number {
    let n = 0
    for (const f of this.forms) {
      if (!inPrefix(bytes, offset, f)) continue
      for (const layout of f.layouts) {
        for (let i = 0; i < 4; i++) this.found[n * 4 + i] = bytes[offset + layout[i]]
        n++
      }
    }
    return n
  }
}

/** Every prefix length here is a whole number of bytes (RFC 6052 lengths, and /16). */
function inPrefix(bytes: Uint8Array, offset: number, f: Form): boolean {
  for (let i = 0; i < f.prefix >>> 3; i++) if (bytes[offset + i] !== f.bytes[i]) return false
  return true
}
