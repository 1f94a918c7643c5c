/**
 * The per-entry checks of lint-lists, on a folder already read: duplicates,
 * lines a wider entry makes useless, names the allow list shadows,
 * collateral-risk names and ranges, wildcards broad enough to be collateral
 * risk, and entries that two categories share.
 */
import { DomainTrie } from '../lists/domain-trie.js'
import { type ListProblem, parseCidrList, parseDomainList } from '../lists/parse-list-file.js'
import { type CidrEntry, cidrEntry, contains, type RangeIndex, widerIn } from './cidr-index.js'
import { COLLATERAL_RANGES, collateralFor } from './collateral-risk.js'
import { wildcardRisks } from './wildcard-risk.js'
import { at, type Entry, type Findings, mainFile, type Report } from './findings.js'

export interface CategoryLists {
  readonly files: string[]
  readonly names: Entry[]
  readonly cidrs: CidrEntry[]
}

/** A category's distinct names (first line of each), their trie, and its distinct ranges. */
export interface DistinctCategory {
  readonly names: Map<string, Entry>
  readonly trie: DomainTrie
  readonly cidrs: RangeIndex
}

/** Parses one file a line at a time with the gateway's own parser, so every entry keeps its line number. */
export function parseWithLines(text: string, file: string, cidrs: boolean): { entries: Entry[]; problems: ListProblem[] } {
  const entries: Entry[] = []
  const problems: ListProblem[] = []
  // The parser reads every line on its own (no state carries over), so parsing line by line yields exactly its result.
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1
    const parsed = cidrs ? parseCidrList(lines[i], file) : parseDomainList(lines[i], file)
    const values = 'cidrs' in parsed ? parsed.cidrs : parsed.names
    for (const value of values) entries.push({ value, file, line })
    for (const p of parsed.problems) problems.push({ ...p, line })
  }
  return { entries, problems }
}

/** The first line of each distinct name, and their trie; warns about repeated names and names a shorter entry covers. */
export function distinctNames(entries: readonly Entry[], where: string, warn: Report): { names: Map<string, Entry>; trie: DomainTrie } {
  const names = new Map<string, Entry>()
  for (const e of entries) {
    const first = names.get(e.value)
    if (first === undefined) names.set(e.value, e)
    else warn(e.file, e.line, 'duplicate', `${e.value} is listed twice in ${where}: ${at(first)} and ${at(e)}`)
  }
  const trie = DomainTrie.build([...names.keys()])
  for (const e of names.values()) {
    const start = trie.match(e.value)
    const cover = start > 0 ? names.get(trie.entryAt(e.value, start))! : e // a wildcard entry matches itself
    if (cover !== e) {
      warn(e.file, e.line, 'redundant', `${e.value} is already covered by ${cover.value} (${at(cover)}) in ${where}: this line adds nothing`)
    }
  }
  return { names, trie }
}

const COLLATERAL = COLLATERAL_RANGES.map((r) => cidrEntry({ value: r.cidr, file: '', line: 0 }))

/** Checks one category's entries; returns its distinct names and ranges for the overlap check. */
export function lintCategory(category: string, c: CategoryLists, allow: { names: Map<string, Entry>; trie: DomainTrie }, f: Findings): DistinctCategory {
  if (c.names.length + c.cidrs.length === 0) f.warn(mainFile(category, c.files), 0, 'empty', `category "${category}" has no entries: it blocks nothing`)
  const { names, trie } = distinctNames(c.names, `category "${category}"`, f.warn)
  for (const e of names.values()) {
    const allowed = allow.trie.match(e.value)
    if (allowed >= 0) {
      const a = allow.names.get(allow.trie.entryAt(e.value, allowed))!
      f.warn(e.file, e.line, 'shadowed', `${e.value} never blocks: the allow list entry ${a.value} (${at(a)}) covers it`)
    }
    const risk = collateralFor(e.value)
    if (risk !== null) f.error(e.file, e.line, 'collateral', risk)
    for (const r of wildcardRisks(e.value)) (r.severity === 'error' ? f.error : f.warn)(e.file, e.line, 'wildcard-risk', r.message)
  }
  const cidrs: RangeIndex = { byKey: new Map(), prefixes: new Set() }
  for (const e of c.cidrs) {
    const first = cidrs.byKey.get(e.key)
    if (first === undefined) {
      cidrs.byKey.set(e.key, e)
      cidrs.prefixes.add(`${e.family}/${e.prefix}`)
    } else f.warn(e.file, e.line, 'duplicate', `${e.value} is listed twice in category "${category}": ${at(first)}${first.value === e.value ? '' : ` (as ${first.value})`} and ${at(e)}`)
  }
  for (const e of cidrs.byKey.values()) {
    const cover = widerIn(cidrs, e)
    if (cover !== null) f.warn(e.file, e.line, 'redundant', `${e.value} lies inside ${cover.value} (${at(cover)}) in category "${category}": this line adds nothing`)
    for (let i = 0; i < COLLATERAL.length; i++) {
      const r = COLLATERAL[i]
      if (r.key === e.key || contains(e, r)) {
        f.error(e.file, e.line, 'collateral', `${e.value} ${r.key === e.key ? 'is' : `covers ${r.value}, which is`} collateral risk: ${COLLATERAL_RANGES[i].reason}`)
      }
    }
  }
  return { names, trie, cidrs }
}

/** Overlaps: reported once per pair, at the narrower entry (at the later category's entry when both are equal). */
export function lintOverlaps(unique: ReadonlyMap<string, DistinctCategory>, warn: Report): void {
  for (const [a, ua] of unique) {
    for (const [b, ub] of unique) {
      if (a === b) continue
      for (const e of ua.names.values()) {
        const start = ub.trie.match(e.value)
        const other = start < 0 ? undefined : ub.names.get(ub.trie.entryAt(e.value, start))!
        if (other === undefined || (other.value === e.value && a < b)) continue
        warn(e.file, e.line, 'overlap', other.value === e.value
          ? `${e.value} is in categories "${b}" (${at(other)}) and "${a}"`
          : `${e.value} (category "${a}") is also blocked by category "${b}": ${other.value} (${at(other)}) covers it`)
      }
      for (const e of ua.cidrs.byKey.values()) {
        const same = ub.cidrs.byKey.get(e.key)
        const wider = same === undefined ? widerIn(ub.cidrs, e) : null
        if (same !== undefined && a > b) warn(e.file, e.line, 'overlap', `${e.value} is in categories "${b}" (${at(same)}) and "${a}"`)
        else if (wider !== null) warn(e.file, e.line, 'overlap', `${e.value} (category "${a}") lies inside ${wider.value} of category "${b}" (${at(wider)})`)
      }
    }
  }
}
