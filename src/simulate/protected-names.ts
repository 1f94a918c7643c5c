/**
 * Names a list change must never block: the municipality's own services
 * (`simulate --protected FILE`: one name per line, "#" comments) and every
 * name of lint-lists' collateral-risk table. Each is checked against every
 * category of the new version, whether or not a group enforces it today: a
 * category is one config line away from being enforced.
 */
import { COLLATERAL_NAMES } from '../list-lint/collateral-risk.js'
import type { Version } from './compare-versions.js'
import { parseReplayNames } from './read-names.js'

export interface ProtectedName {
  readonly name: string
  /** Where the protection comes from: the --protected file, or the collateral-risk table (with its reason). */
  readonly source: string
}

export interface Violation extends ProtectedName {
  readonly category: string
  readonly entry: string
  readonly file: string
  readonly line: number
}

/** The protected names: the file's (when given) and the collateral-risk table's, each once. */
export function protectedNames(fileText: string | null, fileLabel = 'protected'): ProtectedName[] {
  const out = new Map<string, ProtectedName>()
  if (fileText !== null) for (const name of parseReplayNames(fileText).counts.keys()) out.set(name, { name, source: fileLabel })
  for (const c of COLLATERAL_NAMES) if (!out.has(c.name)) out.set(c.name, { name: c.name, source: `collateral-risk: ${c.reason}` })
  return [...out.values()]
}

/** Every protected name some category of `v` blocks (the allow list counts: an allow-listed name is not blocked). */
export function protectedViolations(v: Version, names: readonly ProtectedName[]): Violation[] {
  const out: Violation[] = []
  for (const p of names) {
    if (v.snapshot.allowed(p.name)) continue
    for (const c of v.snapshot.categories) {
      const start = c.domains.match(p.name)
      if (start < 0) continue
      const entry = c.domains.entryAt(p.name, start)
      out.push({ ...p, category: c.name, entry, ...v.index.locate(c.name, entry) })
    }
  }
  return out
}
