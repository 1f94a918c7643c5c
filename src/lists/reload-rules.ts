/**
 * When a freshly read snapshot must not replace the one being served (a
 * reload, or a start with a last good state on disk), and when a folder is
 * unfit to start on at all. One place, so a reload, a restart and
 * `check-config` judge a list folder the same way.
 */
import type { PolicySnapshot } from './policy-snapshot.js'

/** Categories some group enforces, or 'all' (no default group: unmatched clients get every category). */
export type Enforced = readonly string[] | 'all'

const problemLines = (next: PolicySnapshot): string[] =>
  next.problems.map((p) => `${p.file}:${p.line}: ${p.message}${p.text ? ` (${p.text})` : ''}`)

/**
 * Why `next` must not replace `old`: any problem line, and any category of
 * `old` that disappeared, lost all its names or all its IP ranges. With
 * `enforced` given (at start), only enforced categories count for the
 * latter: dropping a category no group enforces takes no enforcement away.
 */
export function refusals(old: PolicySnapshot, next: PolicySnapshot, enforced: Enforced = 'all'): string[] {
  const out = problemLines(next)
  for (const c of old.categories) {
    if (enforced !== 'all' && !enforced.includes(c.name)) continue
    const now = next.categories.find((n) => n.name === c.name)
    if (!now) out.push(`category "${c.name}" disappeared (its files ${c.files.join(', ')} are missing)`)
    else if (c.domains.size > 0 && now.domains.size === 0) out.push(`category "${c.name}" shrank to no names`)
    else if (c.cidrs.size > 0 && now.cidrs.size === 0) out.push(`category "${c.name}" lost all its IP ranges`)
  }
  return out
}

/**
 * Why a folder cannot be served with nothing to fall back on: no list at
 * all, or a category that a group enforces missing or empty (it would
 * silently enforce nothing).
 */
export function unservableProblems(snapshot: PolicySnapshot, enforced: Enforced): string[] {
  if (snapshot.categories.length === 0) return [`no list files (<category>.txt) in ${snapshot.dir}`]
  const names = enforced === 'all' ? [] : enforced.filter((name) => !snapshot.has(name))
  return [...names.map((name) => `category "${name}" is enforced by a group but has no list file in ${snapshot.dir}`), ...emptyEnforced(snapshot, enforced)]
}

/** Enforced categories whose files hold no entry at all (check-config reports these; missing ones it reports per group). */
export function emptyEnforced(snapshot: PolicySnapshot, enforced: Enforced): string[] {
  return snapshot.categories
    .filter((c) => (enforced === 'all' || enforced.includes(c.name)) && c.domains.size === 0 && c.cidrs.size === 0)
    .map((c) => `category "${c.name}" is enforced by a group but ${c.files.join(', ')} hold no entries`)
}
