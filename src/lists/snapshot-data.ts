/**
 * A PolicySnapshot as plain data that crosses a worker-thread boundary: the
 * tries' typed arrays are transferred (moved, not copied), everything else is
 * small and structured-cloned. See load-lists-in-worker.ts for why.
 */
import { BlockList } from 'node:net'
import { addNetwork } from '../net/network-list.js'
import { DomainTrie, type TrieData } from './domain-trie.js'
import type { Exemption } from './exemptions.js'
import { IpRangeSet } from './ip-ranges.js'
import type { ListProblem } from './parse-list-file.js'
import { PolicySnapshot } from './policy-snapshot.js'

export interface SnapshotData {
  readonly version: string
  readonly categories: ReadonlyArray<{ name: string; bit: number; domains: TrieData; cidrs: string[]; files: readonly string[] }>
  readonly allow: TrieData
  readonly exemptions: ReadonlyArray<Omit<Exemption, 'network'>>
  readonly loadedAt: number
  readonly problems: readonly ListProblem[]
  readonly dir: string
  readonly committedAt: number | null
}

/** The snapshot as data, and the buffers to transfer with it. */
export function snapshotToData(s: PolicySnapshot): { data: SnapshotData; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>()
  const trie = (t: DomainTrie): TrieData => {
    const d = t.toData()
    for (const a of [d.nodes, d.chars, d.table]) transfer.add(a.buffer as ArrayBuffer)
    return d
  }
  const data: SnapshotData = {
    version: s.version,
    categories: s.categories.map((c) => ({ name: c.name, bit: c.bit, domains: trie(c.domains), cidrs: c.cidrs.toCidrs(), files: c.files })),
    allow: trie(s.allow),
    exemptions: s.exemptions.map(({ network: _network, ...rest }) => rest),
    loadedAt: s.loadedAt,
    problems: s.problems,
    dir: s.dir,
    committedAt: s.committedAt,
  }
  return { data, transfer: [...transfer] }
}

export function snapshotFromData(d: SnapshotData): PolicySnapshot {
  const exemptions: Exemption[] = d.exemptions.map((e) => {
    const network = new BlockList()
    addNetwork(network, e.client)
    return { ...e, network }
  })
  return new PolicySnapshot(
    d.version,
    d.categories.map((c) => ({ name: c.name, bit: c.bit, domains: DomainTrie.fromData(c.domains), cidrs: IpRangeSet.fromCidrs(c.cidrs), files: c.files })),
    DomainTrie.fromData(d.allow),
    exemptions,
    d.loadedAt,
    d.problems,
    d.dir,
    d.committedAt,
  )
}
