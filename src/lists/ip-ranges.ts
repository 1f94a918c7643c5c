/**
 * A set of IPv4 and IPv6 CIDR ranges, asked "which range holds this address?"
 * for A/AAAA records in upstream answers (straight from the wire bytes) and
 * for textual addresses (exemptions, explain).
 *
 * Ranges are kept sorted and disjoint: two CIDRs are either nested or
 * disjoint, so a range inside a wider one is dropped at build (like the
 * trie, the entry closest to the root wins). A lookup is then one binary
 * search over typed arrays; the wire-bytes checks allocate nothing.
 */
import { DnsvaktError } from '../errors.js'
import { parseAddress, parseCidr, type ParsedCidr } from '../net/cidr.js'

/** Parsing lives in src/net/cidr.ts (shared with config, dns and policy); re-exported for the list readers. */
export { parseAddress, parseCidr, type ParsedCidr }

/**
 * Addresses are handled as 32-bit words with the top bit flipped: signed comparison then orders
 * them as unsigned, and every value stays a small integer. A plain uint32 above 2^31 is a heap
 * number, which measured one allocation per IPv4-mapped lookup (test/lists/ip-ranges.ts).
 */
const SIGN = -0x80000000

interface Range { words: number[]; end: number[]; text: string }

export class IpRangeSet {
  /** Ranges kept (after dropping those inside a wider one), both families. */
  readonly size: number

  private constructor(
    private readonly v4Start: Int32Array,
    private readonly v4End: Int32Array,
    private readonly v4Text: readonly string[],
    /** 8 words per range: start (4 words, most significant first), then end. */
    private readonly v6Bounds: Int32Array,
    private readonly v6Text: readonly string[],
  ) {
    this.size = v4Text.length + v6Text.length
  }

  /**
   * Builds the set. Each CIDR is returned by lookups as written (trimmed) so
   * an operator can grep for it. An invalid CIDR throws DNSVAKT_ERR_BLOCKLIST
   * listing every bad one (list files are validated by the parser first).
   */
  static fromCidrs(cidrs: Iterable<{ cidr: string }> | Iterable<string>): IpRangeSet {
    const v4: Range[] = []
    const v6: Range[] = []
    const problems: string[] = []
    for (const item of cidrs) {
      const text = (typeof item === 'string' ? item : item.cidr).trim()
      const parsed = parseCidr(text)
      if (parsed === null) {
        problems.push(`not a CIDR: ${JSON.stringify(text)}`)
        continue
      }
      const start = toWords(parsed.bytes)
      const end = toWords(lastAddress(parsed))
      ;(parsed.family === 4 ? v4 : v6).push({ words: start, end, text })
    }
    if (problems.length > 0) {
      throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `${problems.length} invalid CIDR(s)`, { problems })
    }
    const keep4 = disjoint(v4)
    const keep6 = disjoint(v6)
    const bounds = new Int32Array(keep6.length * 8)
    keep6.forEach((r, i) => { bounds.set(r.words, i * 8); bounds.set(r.end, i * 8 + 4) })
    return new IpRangeSet(
      Int32Array.from(keep4, (r) => r.words[0]), Int32Array.from(keep4, (r) => r.end[0]),
      keep4.map((r) => r.text), bounds, keep6.map((r) => r.text),
    )
  }

  /** The CIDR holding the IPv4 address in bytes[offset..offset+4), or null. */
  /** The ranges kept, as written (a set rebuilt from them is the same set). */
  toCidrs(): string[] {
    return [...this.v4Text, ...this.v6Text]
  }

  containsV4(bytes: Uint8Array, offset: number): string | null {
    if (offset < 0 || offset + 4 > bytes.length) throw outOfBounds(offset, 4, bytes.length)
    return this.findV4(readWord(bytes, offset))
  }

  /**
   * The CIDR holding the IPv6 address in bytes[offset..offset+16), or null.
   * An IPv4-mapped address (::ffff:a.b.c.d, RFC 4291 s2.5.5.2) is checked
   * against the IPv4 ranges: a dual-stack socket connects to it over IPv4,
   * so an AAAA record of that form would otherwise be a way around the block.
   */
  containsV6(bytes: Uint8Array, offset: number): string | null {
    if (offset < 0 || offset + 16 > bytes.length) throw outOfBounds(offset, 16, bytes.length)
    const w0 = readWord(bytes, offset)
    const w1 = readWord(bytes, offset + 4)
    const w2 = readWord(bytes, offset + 8)
    const w3 = readWord(bytes, offset + 12)
    if (w0 === SIGN && w1 === SIGN && w2 === (0xffff ^ SIGN)) return this.findV4(w3)
    const b = this.v6Bounds
    let lo = 0
    let hi = this.v6Text.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (compareAt(b, mid * 8, w0, w1, w2, w3) <= 0) { found = mid; lo = mid + 1 } else hi = mid - 1
    }
    return found >= 0 && compareAt(b, found * 8 + 4, w0, w1, w2, w3) >= 0 ? this.v6Text[found] : null
  }

  /** The CIDR holding a textual IPv4 or IPv6 address, or null (also for text that is not an address). */
  containsAddress(text: string): string | null {
    const bytes = parseAddress(text.trim())
    if (bytes === null) return null
    return bytes.length === 4 ? this.containsV4(bytes, 0) : this.containsV6(bytes, 0)
  }

  private findV4(a: number): string | null {
    const starts = this.v4Start
    let lo = 0
    let hi = starts.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid] <= a) { found = mid; lo = mid + 1 } else hi = mid - 1
    }
    return found >= 0 && a <= this.v4End[found] ? this.v4Text[found] : null
  }
}

function lastAddress(c: ParsedCidr): Uint8Array {
  const out = Uint8Array.from(c.bytes)
  for (let i = 0; i < out.length; i++) {
    const hostBits = Math.min(8, Math.max(0, (i + 1) * 8 - c.prefix))
    out[i] |= (1 << hostBits) - 1
  }
  return out
}

const readWord = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) ^ SIGN

function toWords(bytes: Uint8Array): number[] {
  const words: number[] = []
  for (let o = 0; o < bytes.length; o += 4) words.push(readWord(bytes, o))
  return words
}

/** Sign of (4 words at b[base]) minus (w0..w3), most significant word first. */
function compareAt(b: Int32Array, base: number, w0: number, w1: number, w2: number, w3: number): number {
  if (b[base] !== w0) return b[base] < w0 ? -1 : 1
  if (b[base + 1] !== w1) return b[base + 1] < w1 ? -1 : 1
  if (b[base + 2] !== w2) return b[base + 2] < w2 ? -1 : 1
  return b[base + 3] === w3 ? 0 : b[base + 3] < w3 ? -1 : 1
}

const compareWords = (a: number[], b: number[]): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  return 0
}

/** Sorts by start (wider first on ties) and drops every range inside an earlier one. */
function disjoint(ranges: Range[]): Range[] {
  ranges.sort((x, y) => compareWords(x.words, y.words) || compareWords(y.end, x.end))
  const kept: Range[] = []
  for (const r of ranges) {
    const last = kept[kept.length - 1]
    if (last === undefined || compareWords(r.end, last.end) > 0) kept.push(r)
  }
  return kept
}

function outOfBounds(offset: number, length: number, size: number): DnsvaktError {
  return new DnsvaktError('DNSVAKT_ERR_MALFORMED', `address at offset ${offset} (+${length}) lies outside a ${size}-byte buffer`)
}
