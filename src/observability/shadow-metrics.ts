/**
 * Metrics of policy changes evaluated without being enforced: what a shadow
 * category would block (policy/shadow.ts) and what a candidate list version
 * would newly block or newly allow (lists/candidate-*.ts). Per category and
 * group, never per client. Label values come from the config and the lists;
 * anything else folds into `other`, so input never grows a label. Children
 * are made on first use and kept (a closed set: categories x groups x 3).
 */
import type { CaughtBy } from '../pipeline/types.js'
import { type Inc, type MetricFactory, OTHER, zeroed } from './metric-factory.js'

export type CandidateChange = 'block' | 'allow'

export interface ShadowMetrics {
  /** A name a shadow category would have blocked; the client got the normal answer. */
  countWouldBlock(category: string, group: string, caughtBy: CaughtBy): void
  /** A query the candidate list version decides differently: it would newly block it, or newly allow it. */
  countCandidate(change: CandidateChange, category: string, group: string): void
}

export interface ShadowLabels {
  readonly groups: readonly string[]
  /** (category, group) pairs the config puts in shadow: exposed at 0 from the start, so rate() sees the first would-block. */
  readonly shadowPairs?: ReadonlyArray<{ readonly category: string; readonly group: string }>
}

export function shadowMetrics(f: MetricFactory, labels: ShadowLabels, knowsCategory: (c: string) => boolean): ShadowMetrics {
  const wouldBlock = f.counter('dnsvakt_policy_would_block_total', 'Answers a shadow category would have blocked (the client got the normal answer), by category, client group and what caught them.', ['category', 'group', 'caught_by'])
  const newlyBlocked = f.counter('dnsvakt_candidate_would_block_total', 'Queries the candidate list version would block and the served lists do not, by category and client group.', ['category', 'group'])
  const newlyAllowed = f.counter('dnsvakt_candidate_would_allow_total', 'Queries the served lists block by name and the candidate list version would not, by the category that blocks them now and client group.', ['category', 'group'])
  const groups = new Set(labels.groups)
  const children = new Map<string, Inc>()
  /** The child of `counter` (one of three, told apart by `kind`) for `l`, made once. */
  const child = (kind: string, counter: typeof wouldBlock, l: Record<string, string>, zero = false): Inc => {
    const key = `${kind}\n${Object.values(l).join('\n')}`
    let c = children.get(key)
    if (c === undefined) {
      c = zero ? zeroed(counter, l) : counter.labels(l)
      children.set(key, c)
    }
    return c
  }
  const category = (c: string): string => (knowsCategory(c) ? c : OTHER)
  const group = (g: string): string => (groups.has(g) ? g : OTHER)
  for (const p of labels.shadowPairs ?? []) {
    for (const caught_by of ['name', 'cname', 'ip']) child('w', wouldBlock, { category: category(p.category), group: group(p.group), caught_by }, true)
  }
  return {
    countWouldBlock(c, g, caughtBy) {
      child('w', wouldBlock, { category: category(c), group: group(g), caught_by: caughtBy }).inc()
    },
    countCandidate(change, c, g) {
      child(change, change === 'block' ? newlyBlocked : newlyAllowed, { category: category(c), group: group(g) }).inc()
    },
  }
}
