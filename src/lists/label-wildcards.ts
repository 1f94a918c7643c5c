/**
 * Inner-label wildcard entries (`p16-tiktok-*.ibyteimg.com`, as AdGuard's
 * TikTok rules write them): a `*` matches zero or more characters within one
 * label, never a dot. Like a plain entry, a pattern also covers every name
 * below what it matches.
 *
 * A pattern is split at its rightmost wildcard label: the labels right of it
 * (`ibyteimg.com`, the fixed suffix) are an ordinary path in the DomainTrie,
 * whose last node is flagged; the whole pattern text is kept here, hung off
 * that node. The trie walk looks here only when it passes a flagged node, so
 * lists without wildcards walk exactly as before. Data is a sorted Int32Array
 * of node numbers (one per pattern) and the pattern strings: transferable and
 * structured-clonable, like the rest of the trie.
 */

const DOT = 0x2e
const STAR = 0x2a

/** The wildcard part of a DomainTrie's data (see DomainTrie.toData). */
export interface WildcardData {
  /** Trie node of each pattern's fixed suffix, ascending; patterns[i] hangs off nodes[i]. */
  readonly nodes: Int32Array
  /** Full pattern text, lower-case, e.g. `p16-tiktok-*.ibyteimg.com`. */
  readonly patterns: readonly string[]
}

export const NO_WILDCARDS: WildcardData = { nodes: new Int32Array(0), patterns: [] }

/**
 * Where the fixed suffix of `pattern` starts (after the dot that ends the
 * rightmost label holding a `*`), or -1 when the last label holds one.
 */
export function fixedSuffixStart(pattern: string): number {
  const dot = pattern.indexOf('.', pattern.lastIndexOf('*'))
  return dot < 0 ? -1 : dot + 1
}

/**
 * The index of the first pattern of `w` hung off `node` that covers `name`,
 * where `name.slice(dot + 1)` is that node's path (the fixed suffix); -1 for
 * none. Allocates nothing.
 */
export function matchAt(w: WildcardData, node: number, name: string, dot: number): number {
  if (dot <= 0) return -1 // the name is the fixed suffix itself: a pattern needs one more label
  const nodes = w.nodes
  let lo = 0
  let hi = nodes.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (nodes[mid] < node) lo = mid + 1
    else hi = mid
  }
  // The pattern's part left of its fixed suffix ends where the name's does, counted from the right.
  const offset = name.length - dot
  for (let i = lo; i < nodes.length && nodes[i] === node; i++) {
    const p = w.patterns[i]
    if (labelsMatch(p, p.length - offset, name, dot)) return i
  }
  return -1
}

/**
 * True when the labels of `p[0, pEnd)` match the rightmost labels of
 * `name[0, nEnd)` one for one; the name may have more labels on the left.
 */
function labelsMatch(p: string, pEnd: number, name: string, nEnd: number): boolean {
  for (;;) {
    // Loops, not lastIndexOf: V8 runs lastIndexOf in C++, ~1,000 instructions a call (callgrind).
    let ps = pEnd
    while (ps > 0 && p.charCodeAt(ps - 1) !== DOT) ps--
    let ns = nEnd
    while (ns > 0 && name.charCodeAt(ns - 1) !== DOT) ns--
    if (!globLabel(p, ps, pEnd, name, ns, nEnd)) return false
    if (ps === 0) return true
    if (ns === 0) return false
    pEnd = ps - 1
    nEnd = ns - 1
  }
}

/** `*` in p[ps, pe) matches any run of characters of s[ss, se) (which holds no dot); the rest literally. */
function globLabel(p: string, ps: number, pe: number, s: string, ss: number, se: number): boolean {
  let pi = ps
  let si = ss
  let star = -1
  let mark = 0
  while (si < se) {
    const c = pi < pe ? p.charCodeAt(pi) : -1
    if (c === STAR) {
      star = pi++
      mark = si
    } else if (c === s.charCodeAt(si)) {
      pi++
      si++
    } else if (star >= 0) {
      // Let the last star take one more character, and retry from just after it.
      pi = star + 1
      si = ++mark
    } else return false
  }
  while (pi < pe && p.charCodeAt(pi) === STAR) pi++
  return pi === pe
}

/** Collects patterns while a trie is built; `finish` renumbers them after the trie drops nodes. */
export class WildcardBuilder {
  private readonly seen = new Set<string>()
  private readonly nodeOf: number[] = []
  private readonly texts: string[] = []

  add(node: number, pattern: string): void {
    if (this.seen.has(pattern)) return
    this.seen.add(pattern)
    this.nodeOf.push(node)
    this.texts.push(pattern)
  }

  /**
   * The final data. `keep(node)` gives a pattern's node number in the finished
   * trie, or a value <= 0 when the node is gone or is itself an entry (which
   * then covers every pattern hung off it).
   */
  finish(keep: (node: number) => number): WildcardData {
    if (this.texts.length === 0) return NO_WILDCARDS
    const kept: Array<{ node: number; text: string }> = []
    for (let i = 0; i < this.texts.length; i++) {
      const node = keep(this.nodeOf[i])
      if (node > 0) kept.push({ node, text: this.texts[i] })
    }
    kept.sort((a, b) => a.node - b.node) // stable: patterns of one node stay in list order
    return { nodes: Int32Array.from(kept, (k) => k.node), patterns: kept.map((k) => k.text) }
  }
}
