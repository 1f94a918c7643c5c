/**
 * The heart of `dnsvakt simulate`: every replayed name is decided under both
 * list versions exactly as the policy stage decides it (the allow list first,
 * then the categories in the snapshot's order), per category and per group,
 * and the differences are kept with the list line that decides each one.
 * Exemptions are per client and left out: a simulation is about the lists.
 */
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import { ALLOW, type EntryIndex } from './entry-index.js'

/** One version, loaded and indexed. */
export interface Version {
  readonly label: string
  readonly snapshot: PolicySnapshot
  readonly index: EntryIndex
}

/** A group as configured: null `enforce` means every category of the version (the built-in default). */
export interface GroupSpec {
  readonly name: string
  readonly enforce: readonly string[] | null
}

export interface Change {
  readonly name: string
  /** How often the name occurred in the replayed file. */
  readonly queries: number
  /** The category that blocks (newly blocked) or blocked (newly allowed) the name. */
  readonly category: string
  /**
   * listed: an entry of `to` blocks it (newly blocked); unlisted: the entry of
   * `from` that blocked it is gone; allow-listed: an allow.txt entry of `to` lets it through.
   */
  readonly because: 'listed' | 'unlisted' | 'allow-listed'
  /** The deciding entry and where it is written, in the version that decides. */
  readonly entry: string
  readonly file: string
  readonly line: number
  readonly version: 'from' | 'to'
}

export interface Difference {
  readonly newlyBlocked: Change[]
  readonly newlyAllowed: Change[]
}

export interface Comparison {
  readonly categories: ReadonlyArray<{ category: string } & Difference>
  readonly groups: ReadonlyArray<{ group: string; enforces: string[] } & Difference>
}

/** Per category of a version: the entry blocking `name`, or null (allow-listed names are null everywhere). */
function decide(v: PolicySnapshot, name: string): Map<string, string> {
  const out = new Map<string, string>()
  if (v.allowed(name)) return out
  for (const c of v.categories) {
    const start = c.domains.match(name)
    if (start >= 0) out.set(c.name, c.domains.entryAt(name, start))
  }
  return out
}

export function compareVersions(from: Version, to: Version, names: ReadonlyMap<string, number>, groups: readonly GroupSpec[]): Comparison {
  const categoryNames = [...new Set([...from.snapshot.categories, ...to.snapshot.categories].map((c) => c.name))].sort()
  const categories = categoryNames.map((category) => ({ category, newlyBlocked: [] as Change[], newlyAllowed: [] as Change[] }))
  const enforced = (g: GroupSpec, v: PolicySnapshot): string[] => v.categories.map((c) => c.name).filter((c) => g.enforce === null || g.enforce.includes(c))
  // The enforced categories per group and version, in the version's order, worked out once.
  const groupOut = groups.map((g) => ({
    group: g.name,
    enforces: [...new Set([...enforced(g, from.snapshot), ...enforced(g, to.snapshot)])].sort(),
    newlyBlocked: [] as Change[],
    newlyAllowed: [] as Change[],
    before: enforced(g, from.snapshot),
    after: enforced(g, to.snapshot),
  }))

  for (const [name, queries] of names) {
    const before = decide(from.snapshot, name)
    const after = decide(to.snapshot, name)
    if (before.size === 0 && after.size === 0) continue
    const change = (category: string, blocked: boolean): Change => blocked
      ? located(to, 'to', category, after.get(category)!, name, queries, 'listed')
      : allowedNow(from, to, category, before.get(category)!, name, queries)
    for (const c of categories) {
      const was = before.has(c.category)
      const is = after.has(c.category)
      if (is && !was) c.newlyBlocked.push(change(c.category, true))
      else if (was && !is) c.newlyAllowed.push(change(c.category, false))
    }
    for (const g of groupOut) {
      // As the policy stage: the first enforced category (in the version's order) decides.
      const was = g.before.find((c) => before.has(c))
      const is = g.after.find((c) => after.has(c))
      if (is !== undefined && was === undefined) g.newlyBlocked.push(change(is, true))
      else if (was !== undefined && is === undefined) g.newlyAllowed.push(change(was, false))
    }
  }
  return { categories, groups: groupOut.map(({ before: _b, after: _a, ...rest }) => rest) }
}

function located(v: Version, version: 'from' | 'to', category: string, entry: string, name: string, queries: number, because: Change['because']): Change {
  const { file, line } = v.index.locate(because === 'allow-listed' ? ALLOW : category, entry)
  return { name, queries, category, because, entry, file, line, version }
}

/** Why a name `from` blocked in `category` is no longer blocked there: the allow list of `to`, or its entry is gone. */
function allowedNow(from: Version, to: Version, category: string, entry: string, name: string, queries: number): Change {
  const allow = to.snapshot.allow
  const start = allow.size > 0 ? allow.match(name) : -1
  if (start >= 0) return located(to, 'to', category, allow.entryAt(name, start), name, queries, 'allow-listed')
  return located(from, 'from', category, entry, name, queries, 'unlisted')
}
