/**
 * A reversed-label suffix trie over domain names: an entry blocks itself and
 * every name below it. Built once, then immutable; a reload builds a new one.
 * Typed arrays only, no per-node objects (the root is node 0):
 * - `nodes`: two int32 per node, [parent, offset of its label in `chars`];
 * - `chars`: per node a flags byte (label length, TERMINAL, WILDCARDS) and
 *   the label's characters, so the flag and the label share a cache line;
 * - `table`: linear probing on (parent, label hash); a slot holds the child's
 *   number (low 24 bits) and 8 more hash bits, so most wrong slots are
 *   skipped without touching the node they point at.
 * `match` walks labels right to left by index and allocates nothing.
 * Inner-label wildcard entries (`p16-tiktok-*.ibyteimg.com`) hang off the node
 * of their fixed suffix (label-wildcards.ts); the walk tests TERMINAL and
 * WILDCARDS in one mask, so lists without them pay nothing more (measured in
 * docs/benchmarks.md).
 * bench/trie-bench.mjs, 1M names (1.44M nodes): five parallel arrays at load 1/2 took 47.5 MB;
 * this layout 37 MB, with 3.4-4.1M hits and 5-5.9M misses per CPU-second.
 */
import { DnsvaktError } from '../errors.js'
import { matchAt, type WildcardData } from './label-wildcards.js'
import { TrieBuilder } from './trie-builder.js'
import { lookup } from './trie-layout.js'
import * as layout from './trie-layout.js'

// Module-local copies of trie-layout's constants for match()'s loops: an imported binding is read
// through its module cell with a hole check on every use, which cost ~30 % more instructions per
// lookup (callgrind, docs/benchmarks.md). Checked against the layout when this module loads.
const DOT = 0x2e
const FNV_OFFSET = 0x811c9dc5 | 0
const FNV_PRIME = 0x01000193
const TERMINAL = 0x80
const WILDCARDS = 0x40
if (DOT !== layout.DOT || FNV_OFFSET !== layout.FNV_OFFSET || FNV_PRIME !== layout.FNV_PRIME || TERMINAL !== layout.TERMINAL || WILDCARDS !== layout.WILDCARDS) {
  throw new Error('domain-trie.ts and trie-layout.ts disagree on the layout constants')
}

/** Longest name in presentation form without the trailing dot (RFC 1035 s2.3.4 gives 255 octets on the wire). */
const MAX_NAME = 253
const MAX_LABEL = 63
const STOP = TERMINAL | WILDCARDS
/**
 * match() returns this plus the pattern's index for a wildcard hit (see
 * entryAt). Above any index into a name; small enough that PolicySnapshot's
 * `start * 32 + bit` stays a positive int32.
 */
const WILDCARD_HIT = 1 << 24

/** A DomainTrie's data (see toData). */
export interface TrieData {
  readonly nodes: Int32Array
  readonly chars: Uint8Array
  readonly table: Int32Array
  readonly size: number
  readonly nodeCount: number
  readonly wildcards: WildcardData
}

export class DomainTrie {
  private constructor(
    private readonly nodes: Int32Array,
    private readonly chars: Uint8Array,
    private readonly table: Int32Array,
    private readonly wildcards: WildcardData,
    /** Entries that remain after dropping duplicates and names already covered by a shorter entry. */
    readonly size: number,
    /** Label nodes stored (the root not counted): what the memory use follows. */
    readonly nodeCount: number,
  ) {}

  /**
   * Builds a trie from entries in any order, consumed one at a time (a generator
   * need not hold them all). Entries are lower-cased and lose one trailing dot;
   * anything else odd throws DNSVAKT_ERR_BLOCKLIST: list files are validated
   * before this, so that is a programming error, not an operator one.
   */
  static build(names: Iterable<string>): DomainTrie {
    const b = Array.isArray(names) ? TrieBuilder.sizedFor(names) : new TrieBuilder(64, 64, 640)
    for (const raw of names) {
      const name = normaliseEntry(raw)
      if (name.includes('*')) b.insertPattern(name)
      else b.insert(name)
    }
    const renumber = b.dropOrphans()
    const wildcards = b.patterns.finish((n) => {
      const node = renumber === null ? n : Math.abs(renumber[n])
      return node === 0 || (b.chars[b.nodes[node * 2 + 1]] & TERMINAL) !== 0 ? 0 : node
    })
    return new DomainTrie(b.nodes, b.chars, b.table, wildcards, b.size + wildcards.patterns.length, b.count - 1)
  }

  /**
   * The trie as plain typed arrays, so it can be built in a worker thread and
   * moved to the main thread without a copy (postMessage with a transfer list).
   */
  toData(): TrieData {
    const { nodes, chars, table, wildcards, size, nodeCount } = this
    return { nodes, chars, table, size, nodeCount, wildcards }
  }

  /** The inverse of toData(); the arrays are used as they are (never copied, never changed). */
  static fromData(d: TrieData): DomainTrie {
    return new DomainTrie(d.nodes, d.chars, d.table, d.wildcards, d.size, d.nodeCount)
  }

  /**
   * If `name` (lower-case, no trailing dot) is an entry or lies below one,
   * returns the index where that entry starts in `name` (`name.slice(i)` is
   * the entry); for a wildcard entry a number past the name's end: read any
   * result with entryAt(). The entry closest to the root wins (a wildcard
   * entry counts at its fixed suffix, before a longer plain entry). Otherwise -1.
   */
  match(name: string): number {
    let node = 0
    for (let end = name.length; end > 0; ) {
      // One backward pass finds the label and hashes it: lastIndexOf + a hash loop measured 1.6-1.8x slower.
      let h = FNV_OFFSET
      let dot = end - 1
      for (let c; dot >= 0 && (c = name.charCodeAt(dot)) !== DOT; dot--) h = Math.imul(h ^ c, FNV_PRIME)
      node = lookup(this.table, this.nodes, this.chars, node, h, name, dot + 1, end)
      if (node === 0) return -1
      const flags = this.chars[this.nodes[node * 2 + 1]]
      if ((flags & STOP) !== 0) {
        if ((flags & TERMINAL) !== 0) return dot + 1
        const w = matchAt(this.wildcards, node, name, dot)
        if (w >= 0) return WILDCARD_HIT + w
      }
      end = dot
    }
    return -1
  }

  /** The entry a match() result `start` (>= 0) stands for: `name.slice(start)`, or the wildcard pattern as listed. */
  entryAt(name: string, start: number): string {
    return start >= WILDCARD_HIT ? this.wildcards.patterns[start - WILDCARD_HIT] : name.slice(start)
  }

  /** True when `name` is itself an entry (not merely below one); a wildcard pattern counts as written. */
  has(name: string): boolean {
    const start = this.match(name)
    return start === 0 || (start >= WILDCARD_HIT && this.entryAt(name, start) === name)
  }
}

/** Lower-cases, drops one trailing dot, and checks for labels of 1-63 printable ASCII characters (a loop: 3x a regex). */
function normaliseEntry(raw: string): string {
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw
  let labelLength = 0
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === DOT ? labelLength === 0 : c <= 0x20 || c >= 0x7f || labelLength === MAX_LABEL) return invalid(raw)
    labelLength = c === DOT ? 0 : labelLength + 1
  }
  if (labelLength === 0 || name.length > MAX_NAME) return invalid(raw)
  // V8 hands back the same string when nothing changes, so lower-case entries are not copied.
  return name.toLowerCase()
}

function invalid(raw: string): never {
  const rule = 'labels of 1-63 printable ASCII characters, at most 253 in all'
  throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `domain trie entry ${JSON.stringify(raw)} is not a name: ${rule}`)
}
