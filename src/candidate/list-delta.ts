/**
 * What differs between the served lists and a candidate version: every
 * domain entry added to or removed from any category or the allow list, in
 * one small DomainTrie, and every CIDR added or removed, in one IpRangeSet.
 * The candidate evaluator (candidate-shadow.ts) uses it as an exact filter:
 * a name that no changed entry covers is listed by the same entries of the
 * same categories in both versions, so both decide it alike and only names
 * the delta covers need the two decisions worked out. Its size follows the
 * change, not the lists (a 100-line change is a 100-entry trie).
 */
import { DomainTrie } from '../lists/domain-trie.js'
import { IpRangeSet } from '../lists/ip-ranges.js'
import { readListFolder } from '../lists/load-lists.js'

export interface ListDelta {
  /** Added or removed domain entries of any category or the allow list. */
  readonly names: DomainTrie
  /** Added or removed CIDRs of any category. */
  readonly ranges: IpRangeSet
  /** Entries the candidate adds and removes, over categories and the allow list (for /v1/candidate). */
  readonly added: number
  readonly removed: number
}

type EntrySets = Map<string, Set<string>>

/** The changed entries as text: built into a ListDelta where they are used (list-delta-in-worker.ts builds the trie off the main thread). */
export interface DeltaEntries {
  readonly names: string[]
  readonly ranges: string[]
  readonly added: number
  readonly removed: number
}

/** Reads both folders (the served snapshot's folder and the candidate's) and returns what differs, on this thread. */
export async function listDelta(servedDir: string, candidateDir: string): Promise<ListDelta> {
  const d = await deltaEntries(servedDir, candidateDir)
  return { names: DomainTrie.build(d.names), ranges: IpRangeSet.fromCidrs(d.ranges), added: d.added, removed: d.removed }
}

/** The entries that differ between the two folders. Reads and parses both: a second of CPU for a million names (run it in a worker). */
export async function deltaEntries(servedDir: string, candidateDir: string): Promise<DeltaEntries> {
  const [served, candidate] = await Promise.all([entrySets(servedDir), entrySets(candidateDir)])
  const names: string[] = []
  const ranges: string[] = []
  let added = 0
  let removed = 0
  for (const key of new Set([...served.keys(), ...candidate.keys()])) {
    const before = served.get(key) ?? new Set<string>()
    const after = candidate.get(key) ?? new Set<string>()
    const into = key.startsWith('cidr:') ? ranges : names
    for (const e of after) if (!before.has(e)) { into.push(e); added++ }
    for (const e of before) if (!after.has(e)) { into.push(e); removed++ }
  }
  return { names, ranges, added, removed }
}

/** Entries per list: `name:<category>`, `cidr:<category>` and `allow`. */
async function entrySets(dir: string): Promise<EntrySets> {
  const folder = await readListFolder(dir)
  const sets: EntrySets = new Map()
  for (const [category, list] of folder.domains) sets.set(`name:${category}`, new Set(list))
  for (const [category, list] of folder.cidrs) sets.set(`cidr:${category}`, new Set(list))
  sets.set('allow', new Set(folder.allow))
  return sets
}
