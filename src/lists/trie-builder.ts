/**
 * Builds a DomainTrie's arrays (see domain-trie.ts for the layout): plain
 * entries as node paths, wildcard entries as the path of their fixed suffix
 * plus the pattern (label-wildcards.ts). Used once per build, then dropped.
 */
import { DnsvaktError } from '../errors.js'
import { fixedSuffixStart, WildcardBuilder } from './label-wildcards.js'
import { CHILD, DOT, FNV_OFFSET, FNV_PRIME, LENGTH, lookup, slotHash, TERMINAL, WILDCARDS } from './trie-layout.js'

/** Arrays used only while building; the trie keeps them as they end up. */
export class TrieBuilder {
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
    let labels = 0
    let chars = 0
    for (const name of names) {
      chars += name.length + 1
      for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === DOT) labels++
    }
    return new TrieBuilder(names.length, labels + names.length, chars)
  }

  insert(name: string): void {
    const node = this.path(name, 0)
    if (node <= 0) return
    const at = this.nodes[node * 2 + 1]
    this.chars[at] |= TERMINAL
    this.size++
  }

  /** A wildcard entry: the path of its fixed suffix, flagged, with the pattern hung off its last node. */
  insertPattern(pattern: string): void {
    const from = fixedSuffixStart(pattern)
    // A "*" in the last label: the parser never lets one through.
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
