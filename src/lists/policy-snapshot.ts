/**
 * One immutable, complete view of the lists: per category a domain trie and
 * IP ranges, the allow list, the exemptions and the version they came from.
 * Queries capture the snapshot current on arrival; a reload builds a new one
 * and swaps a single reference, so no query ever sees half a reload.
 */
import type { DomainTrie } from './domain-trie.js'
import type { Exemption } from './exemptions.js'
import type { IpRangeSet } from './ip-ranges.js'
import type { ListProblem } from './parse-list-file.js'

/** Categories are bits in an int32 mask, so there can be at most this many. */
export const MAX_CATEGORIES = 30

/** Decoders for PolicySnapshot.matchName's result (the snapshot implements the pipeline's PolicyView). */
export { hitBit, hitStart } from '../pipeline/policy-view.js'

export interface Category {
  readonly name: string
  readonly bit: number
  readonly domains: DomainTrie
  readonly cidrs: IpRangeSet
  /** Files the category was read from, relative to the list folder. */
  readonly files: readonly string[]
}

export class PolicySnapshot {
  private readonly bits = new Map<string, number>()

  constructor(
    /** git commit (with "+modified" when the work tree differs) or "sha256:…" of the files. */
    readonly version: string,
    readonly categories: readonly Category[],
    readonly allow: DomainTrie,
    readonly exemptions: readonly Exemption[],
    /** ms, injected clock. */
    readonly loadedAt: number,
    /** Lines that were left out, with file and line (reported, never silently applied). */
    readonly problems: readonly ListProblem[],
    /** Absolute folder the lists came from (for explain's file lookups). */
    readonly dir: string,
    /** ms: time of the git commit the lists came from; null when they are not from a git checkout. */
    readonly committedAt: number | null = null,
  ) {
    for (const c of categories) this.bits.set(c.name, c.bit)
  }

  /** Bitmask of the named categories; unknown names are ignored (config checks report them). */
  maskOf(names: Iterable<string>): number {
    let mask = 0
    for (const n of names) {
      const bit = this.bits.get(n)
      if (bit !== undefined) mask |= 1 << bit
    }
    return mask
  }

  has(category: string): boolean {
    return this.bits.has(category)
  }

  /**
   * The first category in `mask` whose domain list covers `name`, encoded as
   * `start * 32 + bit` where `domains.entryAt(name, start)` is the matching entry (decode
   * with hitBit/hitStart); -1 for none. A number, so the hot path allocates
   * nothing. (start can pass 255: escaped names run to about 1,000 characters.)
   */
  matchName(name: string, mask: number): number {
    const cats = this.categories
    for (let i = 0; i < cats.length; i++) {
      const c = cats[i]
      if ((mask & (1 << c.bit)) === 0) continue
      const start = c.domains.match(name)
      if (start >= 0) return start * 32 + c.bit
    }
    return -1
  }

  /** True when the allow list covers `name`: the allow list overrides every category. */
  allowed(name: string): boolean {
    return this.allow.size > 0 && this.allow.match(name) >= 0
  }

  categoryAt(bit: number): Category {
    return this.categories[bit]
  }

  /** Total entries per category, for metrics and status. */
  counts(): Array<{ category: string; domains: number; cidrs: number }> {
    return this.categories.map((c) => ({ category: c.name, domains: c.domains.size, cidrs: c.cidrs.size }))
  }
}
