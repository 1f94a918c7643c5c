/**
 * The memory layout shared by DomainTrie (reading) and TrieBuilder (writing):
 * flag bits, the label hash and the probe, so both find a child identically.
 * See domain-trie.ts for the layout itself.
 */

export const DOT = 0x2e
export const FNV_OFFSET = 0x811c9dc5 | 0
export const FNV_PRIME = 0x01000193
/** The node is an entry: it and every name below it match. */
export const TERMINAL = 0x80
/** Inner-label wildcard patterns hang off this node (see label-wildcards.ts). */
export const WILDCARDS = 0x40
/** The low bits of a node's flags byte: its label's length (1-63). */
export const LENGTH = 0x3f
/** Child numbers share an int32 slot with an 8-bit hash tag, which caps a trie at 16.7M nodes. */
export const CHILD = 0xffffff

/** murmur3's fmix32 over (parent, label hash). Signed on purpose: after `>>> 0`, values over 2^31 are heap numbers. */
export const slotHash = (parent: number, h: number): number => {
  let x = h ^ Math.imul(parent, 0x9e3779b1)
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  return x ^ (x >>> 13)
}

/** Shared by the builder and the finished trie so both probe identically. Returns 0 when absent. */
export function lookup(table: Int32Array, nodes: Int32Array, chars: Uint8Array, parent: number, h: number, name: string, start: number, end: number): number {
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

