/**
 * IP ranges as lint compares them: network bytes with host bits cleared, a
 * key equal for 10.0.0.0/8 and 10.1.2.3/8, and an index that answers "which
 * wider range of this set holds this one" by probing only the prefix lengths
 * present.
 */
import { parseCidr } from '../lists/ip-ranges.js'
import type { Entry } from './findings.js'

export interface CidrEntry extends Entry {
  readonly family: 4 | 6
  /** Network address, host bits cleared. */
  readonly bytes: Uint8Array
  readonly prefix: number
  /** Family, network and prefix: equal for 10.0.0.0/8 and 10.1.2.3/8. */
  readonly key: string
}

/** Distinct ranges by key, and the prefix lengths present (so a containment probe only tries those). */
export interface RangeIndex {
  readonly byKey: Map<string, CidrEntry>
  readonly prefixes: Set<string>
}

export function cidrEntry(e: Entry): CidrEntry {
  const { family, bytes, prefix } = parseCidr(e.value)!
  return { ...e, family, bytes, prefix, key: rangeKey(family, bytes, prefix) }
}

const rangeKey = (family: number, bytes: Uint8Array, prefix: number): string => `${family}:${Buffer.from(bytes).toString('hex')}/${prefix}`

/** `bytes` with every bit after the first `prefix` cleared. */
const masked = (bytes: Uint8Array, prefix: number): Uint8Array =>
  Uint8Array.from(bytes, (b, i) => b & ((0xff << (8 - Math.min(8, Math.max(0, prefix - i * 8)))) & 0xff))

/** True when `outer` is a strictly wider range holding `inner`. */
export function contains(outer: CidrEntry, inner: CidrEntry): boolean {
  return outer.family === inner.family && outer.prefix < inner.prefix && rangeKey(outer.family, masked(inner.bytes, outer.prefix), outer.prefix) === outer.key
}

/** The widest range of `index` strictly holding `e`, or null. */
export function widerIn(index: RangeIndex, e: CidrEntry): CidrEntry | null {
  for (let p = 0; p < e.prefix; p++) {
    if (!index.prefixes.has(`${e.family}/${p}`)) continue
    const hit = index.byKey.get(rangeKey(e.family, masked(e.bytes, p), p))
    if (hit !== undefined) return hit
  }
  return null
}
