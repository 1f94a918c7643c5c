/**
 * What the candidate list version would have changed since it was compared
 * with the served lists: queries per (change, category, group), and the top
 * newly blocked and newly allowed names with the entry that decides each
 * (TopNames, bounded). The body of GET /v1/candidate. Names and list entries
 * only: no client address or pseudonym is ever kept here.
 */
import type { CandidateChange } from '../observability/shadow-metrics.js'
import { TopNames } from './top-names.js'

export interface CandidateFacts {
  readonly dir: string
  readonly version: string | null
  readonly servedVersion: string | null
  readonly loadedAt: string | null
  /** Why no candidate is evaluated (it failed to load), else null. */
  readonly problem: string | null
  /** Entries the candidate adds and removes (domains, CIDRs, allow list). */
  readonly entries: { readonly added: number; readonly removed: number } | null
}

export interface ChangeSummary {
  readonly queries: number
  readonly byCategoryGroup: ReadonlyArray<{ readonly category: string; readonly group: string; readonly queries: number }>
  /** Most affected names first; `overcount` > 0 only once more distinct names were seen than are kept. */
  readonly top: ReadonlyArray<{ readonly name: string; readonly queries: number; readonly overcount: number; readonly category: string; readonly entry: string }>
}

export interface CandidateSummary extends CandidateFacts {
  /** When these counts started (the last time the served or the candidate version changed). */
  readonly since: string | null
  readonly newlyBlocked: ChangeSummary
  readonly newlyAllowed: ChangeSummary
}

export class CandidateTally {
  private readonly counts = new Map<string, { change: CandidateChange; category: string; group: string; queries: number }>()
  private readonly top: Record<CandidateChange, TopNames>
  private since: number | null = null

  constructor(topNames: number) {
    this.top = { block: new TopNames(topNames), allow: new TopNames(topNames) }
  }

  reset(now: number): void {
    this.counts.clear()
    this.top.block.clear()
    this.top.allow.clear()
    this.since = now
  }

  add(change: CandidateChange, category: string, group: string, name: string, entry: string): void {
    // Bounded: categories (at most 32 per version) x config groups x 2.
    const key = `${change}\n${category}\n${group}`
    const c = this.counts.get(key)
    if (c === undefined) this.counts.set(key, { change, category, group, queries: 1 })
    else c.queries++
    this.top[change].add(name, { category, entry })
  }

  summary(facts: CandidateFacts): CandidateSummary {
    return {
      ...facts,
      since: this.since === null ? null : new Date(this.since).toISOString(),
      newlyBlocked: this.changeSummary('block'),
      newlyAllowed: this.changeSummary('allow'),
    }
  }

  private changeSummary(change: CandidateChange): ChangeSummary {
    const rows = [...this.counts.values()].filter((c) => c.change === change)
    return {
      queries: rows.reduce((n, c) => n + c.queries, 0),
      byCategoryGroup: rows.map(({ category, group, queries }) => ({ category, group, queries })).sort((a, b) => b.queries - a.queries),
      top: this.top[change].top().map((t) => ({ name: t.name, queries: t.count, overcount: t.error, category: t.detail.category!, entry: t.detail.entry! })),
    }
  }
}
