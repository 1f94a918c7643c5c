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
 * Inner-label wildcard entries (`p16-tiktok-*.ibyteimg.com`) hang off the node of their fixed suffix
 * (label-wildcards.ts), tested in one mask with TERMINAL: lists without them walk as before. The walk,
 * probe and builder share this module on purpose: imported constants and probe cost the walk 6-30 %
 * more instructions (callgrind, docs/benchmarks.md).
 * bench/trie-bench.mjs, 1M names (1.44M nodes): five parallel arrays at load 1/2 took 47.5 MB;
 * this layout 37 MB, with 3.4-4.1M hits and 5-5.9M misses per CPU-second.
 */
import { DnsvaktError } from '../errors.js'
import { fixedSuffixStart, matchAt, WildcardBuilder, type WildcardData } from './label-wildcards.js'
import { measureEntries, normaliseEntry } from './trie-entry.js'

const DOT = 0x2e
const FNV_OFFSET = 0x811c9dc5 | 0
const FNV_PRIME = 0x01000193
/** The node is an entry: it and every name below it match. */
const TERMINAL = 0x80
/** Inner-label wildcard patterns hang off this node (see label-wildcards.ts). */
const WILDCARDS = 0x40
/** The low bits of a node's flags byte: its label's length (1-63). */
const LENGTH = 0x3f
/** Child numbers share an int32 slot with an 8-bit hash tag, which caps a trie at 16.7M nodes. */
const CHILD = 0xffffff
const STOP = TERMINAL | WILDCARDS
/**
 * match() returns this plus the pattern's index for a wildcard hit (see
 * entryAt). Above any index into a name (escaped names run to about 1,000
 * characters); small enough that policy/decide.ts's `(start * 32 + bit) * 8 +
 * kind` stays a small integer (V8 Smi, below 2^30) for up to a million
 * patterns: at 1 << 24 it passed 2^32 and `>>> 3` lost the pattern.
 */
const WILDCARD_HIT = 1 << 16

/** murmur3's fmix32 over (parent, label hash). Signed on purpose: after `>>> 0`, values over 2^31 are heap numbers. */
const slotHash = (parent: number, h: number): number => {
  let x = h ^ Math.imul(parent, 0x9e3779b1)
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  return x ^ (x >>> 13)
}

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
   * Builds a trie from entries in any order, consumed one at a time (a generator need not hold
   * them all), normalised and checked by normaliseEntry (trie-entry.ts).
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

  /** The trie as plain data, built in a worker thread and moved to the main thread (postMessage; the arrays transferred). */
  toData(): TrieData {
    const { nodes, chars, table, wildcards, size, nodeCount } = this
    return { nodes, chars, table, size, nodeCount, wildcards }
  }

  /** The inverse of toData(); the arrays are used as they are (never copied, never changed). */
  static fromData(d: TrieData): DomainTrie {
    return new DomainTrie(d.nodes, d.chars, d.table, d.wildcards, d.size, d.nodeCount)
  }

  /**
   * If `name` (lower-case, no trailing dot) is an entry or lies below one, the index where that
   * entry starts in `name`, or for a wildcard entry a number past the name's end: read either with
   * entryAt(). The entry closest to the root wins (a wildcard entry at its fixed suffix). Else -1.
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

/** Shared by the builder and the finished trie so both probe identically. Returns 0 when absent. */
function lookup(table: Int32Array, nodes: Int32Array, chars: Uint8Array, parent: number, h: number, name: string, start: number, end: number): number {
  const mask = table.length - 1
  const len = end - start
  const x = slotHash(parent, h)
  const tag = x >>> 24
  let slot = x & mask
  for (;;) {
    const v = table[slot]
    if (v === 0) return 0
    if (v >>> 24 === tag) {
      const child = v & CHILD
      let p = nodes[child * 2 + 1]
      if (nodes[child * 2] === parent && (chars[p] & LENGTH) === len) {
        let i = start
        while (i < end && chars[++p] === name.charCodeAt(i)) i++
        if (i === end) return child
      }
    }
    slot = (slot + 1) & mask
  }
}

/** Arrays used only while building; the trie keeps them as they end up. */
class TrieBuilder {
  nodes: Int32Array
  chars: Uint8Array
  table: Int32Array
  count = 1 // node 0 is the root
  charsUsed = 1 // chars[0] holds the root's flags
  size = 0
  readonly patterns = new WildcardBuilder()
  private orphans = false // an entry landed on a node that already existed (with children or patterns)

  constructor(entries: number, nodeCapacity: number, charCapacity: number) {
    this.nodes = new Int32Array(nodeCapacity * 2 + 2)
    this.chars = new Uint8Array(charCapacity + 1)
    // Sized for one node per entry (the least there can be); grown when names share few labels.
    this.table = new Int32Array(tableSizeFor(entries + 16))
  }

  /** Sized for the worst case (every label new), never grown: unwritten pages never become resident. */
  static sizedFor(names: readonly string[]): TrieBuilder {
    const { labels, chars } = measureEntries(names)
    return new TrieBuilder(names.length, labels, chars)
  }

  insert(name: string): void {
    const node = this.path(name, 0)
    if (node <= 0) return
    this.chars[this.nodes[node * 2 + 1]] |= TERMINAL
    this.size++
  }

  /** A wildcard entry: the path of its fixed suffix, flagged, with the pattern hung off its last node. */
  insertPattern(pattern: string): void {
    const from = fixedSuffixStart(pattern) // -1 for a "*" in the last label, which the parser never lets through
    if (from <= 0) throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `domain trie entry ${JSON.stringify(pattern)} has a "*" in its last label`)
    const node = this.path(pattern, from)
    if (node <= 0) return
    this.chars[this.nodes[node * 2 + 1]] |= WILDCARDS
    this.patterns.add(node, pattern)
  }

  /**
   * Finds or adds the nodes of `name.slice(from)`, returning the last; -1 when a
   * shorter entry covers it. Notes orphans when that last node already existed.
   */
  private path(name: string, from: number): number {
    let node = 0
    let added = false
    for (let end = name.length; end > from; ) {
      const dot = name.lastIndexOf('.', end - 1) // simpler than match()'s loop; build time is not the hot path
      let h = FNV_OFFSET
      for (let i = end - 1; i > dot; i--) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME)
      let child = lookup(this.table, this.nodes, this.chars, node, h, name, dot + 1, end)
      added = child === 0
      if (added) child = this.addNode(node, name, dot + 1, end)
      else if ((this.chars[this.nodes[child * 2 + 1]] & TERMINAL) !== 0) return -1 // covered by a shorter entry
      node = child
      end = dot
    }
    if (!added) this.orphans = true
    return node
  }

  /**
   * Drops every node below a terminal one, compacting in place: a parent is numbered before its
   * children, so one forward pass knows if a node's parent survived, and survivors only move forward.
   * Returns the renumbering (old node -> new, negative when terminal, 0 when dropped), or null.
   */
  dropOrphans(): Int32Array | null {
    if (!this.orphans) return null
    const renumber = new Int32Array(this.count) // new number; negative when terminal; 0 when dropped
    let kept = 1
    let cursor = 1
    this.size = 0
    for (let n = 1; n < this.count; n++) {
      const parent = this.nodes[n * 2]
      const newParent = parent === 0 ? 0 : renumber[parent]
      if (parent !== 0 && newParent <= 0) continue // parent dropped, or terminal: nothing below it counts
      const at = this.nodes[n * 2 + 1]
      const flags = this.chars[at]
      this.chars.copyWithin(cursor, at, at + 1 + (flags & LENGTH))
      this.nodes[kept * 2] = newParent
      this.nodes[kept * 2 + 1] = cursor
      cursor += 1 + (flags & LENGTH)
      if ((flags & TERMINAL) !== 0) this.size++
      renumber[n] = (flags & TERMINAL) !== 0 ? -kept : kept
      kept++
    }
    this.count = kept
    this.charsUsed = cursor
    this.table.fill(0)
    this.reindex(this.table)
    return renumber
  }

  private addNode(parent: number, name: string, start: number, end: number): number {
    if (this.count === CHILD) throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `the lists need more than ${CHILD} trie nodes`)
    const len = end - start
    // Grown by 1.5x (not 2x) to keep the peak during a build low; untouched tails are never resident.
    if (this.count * 2 >= this.nodes.length) this.nodes = copyInto(this.nodes, new Int32Array(Math.ceil(this.count * 1.5) * 2))
    if (this.charsUsed + len + 1 > this.chars.length) this.chars = copyInto(this.chars, new Uint8Array(Math.ceil(this.chars.length * 1.5) + len + 1))
    // Load at most 3/4: the hash tag keeps long probe runs cheap, and the table is the largest array.
    if ((this.count + 1) * 4 > this.table.length * 3) {
      this.table = new Int32Array(this.table.length * 2)
      this.reindex(this.table)
    }
    const n = this.count++
    this.nodes[n * 2] = parent
    this.nodes[n * 2 + 1] = this.charsUsed
    this.chars[this.charsUsed++] = len
    for (let i = start; i < end; i++) this.chars[this.charsUsed++] = name.charCodeAt(i)
    this.place(this.table, n, this.slotOf(n))
    return n
  }

  /** Linear probing to the first free slot; the top 8 bits of the slot hash ride along as the tag. */
  private place(table: Int32Array, n: number, x: number): void {
    let slot = x & (table.length - 1)
    while (table[slot] !== 0) slot = (slot + 1) & (table.length - 1)
    table[slot] = ((x >>> 24) << 24) | n
  }

  private reindex(table: Int32Array): void {
    for (let n = 1; n < this.count; n++) this.place(table, n, this.slotOf(n))
  }

  /** The label hash is not stored: recomputed from the stored label, in lookup()'s order (last character first). */
  private slotOf(n: number): number {
    const at = this.nodes[n * 2 + 1]
    let h = FNV_OFFSET
    for (let p = at + (this.chars[at] & LENGTH); p > at; p--) h = Math.imul(h ^ this.chars[p], FNV_PRIME)
    return slotHash(this.nodes[n * 2], h)
  }
}

/** Power of two holding `nodes` at a load of at most 3/4. */
const tableSizeFor = (nodes: number): number => 2 ** Math.ceil(Math.log2(Math.max(16, (nodes * 4) / 3 + 1)))

const copyInto = <T extends Int32Array | Uint8Array>(from: T, to: T): T => (to.set(from), to)
