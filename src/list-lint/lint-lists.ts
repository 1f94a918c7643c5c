/**
 * Lints a list folder before a gateway ever reads it: the blocklist
 * repository's CI and pre-commit hook run it (`dnsvakt lint-lists`, see
 * docs/lint-lists.md). It reads the folder with the gateway's own file-name
 * rules and parsers, so "lints clean" means "the gateway loads it without a
 * problem", and adds the checks a reviewer would otherwise have to do by eye:
 * collateral-risk names, duplicates, dead entries, overlapping categories and
 * a category that suddenly lost many entries.
 *
 * Errors would break a reload or block far more than intended; warnings are
 * lines that do nothing or may surprise the reviewer.
 */
import { CATEGORY_FILE } from '../lists/load-lists.js'
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DnsvaktError } from '../errors.js'
import { DomainTrie } from '../lists/domain-trie.js'
import { parseCidr } from '../lists/ip-ranges.js'
import { COLLATERAL_RANGES, collateralFor } from './collateral-risk.js'
import { wildcardRisks } from './wildcard-risk.js'
import { type ListProblem, parseCidrList, parseDomainList } from '../lists/parse-list-file.js'
import { MAX_CATEGORIES } from '../lists/policy-snapshot.js'

const run = promisify(execFile)

export interface Finding {
  /** Relative to the linted folder ("." for the folder itself). */
  file: string
  /** 1-based line of the offending entry; 0 when the finding is about a whole file or category. */
  line: number
  /** Stable code, see docs/lint-lists.md. */
  code: string
  message: string
}

export interface LintListsOptions {
  dir: string
  /** A git revision to compare entry counts against (e.g. "origin/main", "HEAD"); null or absent: no shrink check. */
  against?: string | null
  /** Largest allowed loss of entries per category against `against`, in percent. */
  maxShrinkPercent?: number
}

export interface LintListsResult {
  errors: Finding[]
  warnings: Finding[]
  /** Parsed entries (names + IP ranges, duplicates included) per category, as the folder is now. */
  counts: Record<string, number>
}

export const DEFAULT_MAX_SHRINK_PERCENT = 20

const ALLOW_FILE = 'allow.txt'

export type ListFileKind = 'allow' | 'domains' | 'cidrs'

/** What the gateway makes of a file in the list folder; null when it ignores the file. */
export function classifyListFile(file: string): { kind: ListFileKind; category: string | null } | null {
  const m = CATEGORY_FILE.exec(file)
  if (m === null) return null
  if (file === ALLOW_FILE) return { kind: 'allow', category: null }
  return { kind: m[2] === 'cidrs' ? 'cidrs' : 'domains', category: m[1] }
}

interface Entry {
  /** A normalised name, or a CIDR as written. */
  readonly value: string
  readonly file: string
  readonly line: number
}

interface CidrEntry extends Entry {
  readonly family: 4 | 6
  /** Network address, host bits cleared. */
  readonly bytes: Uint8Array
  readonly prefix: number
  /** Family, network and prefix: equal for 10.0.0.0/8 and 10.1.2.3/8. */
  readonly key: string
}

/** Distinct ranges by key, and the prefix lengths present (so a containment probe only tries those). */
interface RangeIndex {
  readonly byKey: Map<string, CidrEntry>
  readonly prefixes: Set<string>
}

interface CategoryLists {
  readonly files: string[]
  readonly names: Entry[]
  readonly cidrs: CidrEntry[]
}

/** Lints the list folder `opts.dir`. Throws DNSVAKT_ERR_BLOCKLIST for an unreadable folder, DNSVAKT_ERR_GIT for an unusable `against`. */
export async function lintLists(opts: LintListsOptions): Promise<LintListsResult> {
  const maxShrink = opts.maxShrinkPercent ?? DEFAULT_MAX_SHRINK_PERCENT
  if (!Number.isFinite(maxShrink) || maxShrink < 0 || maxShrink > 100) {
    throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `maxShrinkPercent must be a number from 0 to 100, not ${maxShrink}`)
  }
  let files: string[]
  try {
    files = (await readdir(opts.dir)).sort()
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `cannot read list folder ${opts.dir}: ${(cause as Error).message}`, { cause })
  }
  const errors: Finding[] = []
  const warnings: Finding[] = []
  const error = (file: string, line: number, code: string, message: string): void => { errors.push({ file, line, code, message }) }
  const warn = (file: string, line: number, code: string, message: string): void => { warnings.push({ file, line, code, message }) }

  const categories = new Map<string, CategoryLists>()
  const allow: Entry[] = []
  for (const file of files) {
    const kind = classifyListFile(file)
    if (kind === null) {
      if (/\.txt$/i.test(file)) {
        warn(file, 0, 'ignored-file', 'the gateway ignores this file: list files are named <category>.txt, <category>.<part>.txt, <category>.cidrs.txt or allow.txt (lower-case letters, digits and "-")')
      }
      continue
    }
    let text: string
    try {
      text = await readFile(join(opts.dir, file), 'utf8')
    } catch (e) {
      error(file, 0, 'unreadable', `cannot read: ${(e as Error).message} (the gateway refuses the whole folder)`)
      continue
    }
    const parsed = parseWithLines(text, file, kind.kind === 'cidrs')
    for (const p of parsed.problems) error(file, p.line, 'invalid', `${p.message}${p.text.trim() ? ` (${p.text.trim()})` : ''}`)
    if (kind.category === null) {
      for (const e of parsed.entries) allow.push(e)
      continue
    }
    if (kind.category === 'allow') {
      error(file, 0, 'allow-category', `the gateway refuses it (a reload with it fails): only ${ALLOW_FILE} is the allow list`)
    }
    let c = categories.get(kind.category)
    if (c === undefined) categories.set(kind.category, (c = { files: [], names: [], cidrs: [] }))
    c.files.push(file)
    // A loop, not push(...): a list may hold more entries than a call has room for arguments.
    for (const e of parsed.entries) {
      if (kind.kind === 'cidrs') c.cidrs.push(cidrEntry(e))
      else c.names.push(e)
    }
  }

  if (categories.size === 0) error('.', 0, 'no-lists', 'no list files (<category>.txt): the gateway refuses to start without any')
  if (categories.size > MAX_CATEGORIES) {
    error('.', 0, 'too-many-categories', `${categories.size} categories; the gateway supports at most ${MAX_CATEGORIES} and refuses the folder`)
  }

  const counts: Record<string, number> = {}
  const allowNames = distinctNames(allow, 'the allow list', warn)
  // Per category: the first line of each distinct name / range, and a trie of its names.
  const unique = new Map<string, { names: Map<string, Entry>; trie: DomainTrie; cidrs: RangeIndex }>()
  const collateralRanges = COLLATERAL_RANGES.map((r) => cidrEntry({ value: r.cidr, file: '', line: 0 }))

  for (const [category, c] of [...categories].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    counts[category] = c.names.length + c.cidrs.length
    if (counts[category] === 0) warn(mainFile(category, c.files), 0, 'empty', `category "${category}" has no entries: it blocks nothing`)

    const { names, trie } = distinctNames(c.names, `category "${category}"`, warn)
    for (const e of names.values()) {
      const allowed = allowNames.trie.match(e.value)
      if (allowed >= 0) {
        const a = allowNames.names.get(allowNames.trie.entryAt(e.value, allowed))!
        warn(e.file, e.line, 'shadowed', `${e.value} never blocks: the allow list entry ${a.value} (${at(a)}) covers it`)
      }
      const risk = collateralFor(e.value)
      if (risk !== null) error(e.file, e.line, 'collateral', risk)
      for (const r of wildcardRisks(e.value)) (r.severity === 'error' ? error : warn)(e.file, e.line, 'wildcard-risk', r.message)
    }

    const cidrs: RangeIndex = { byKey: new Map(), prefixes: new Set() }
    for (const e of c.cidrs) {
      const first = cidrs.byKey.get(e.key)
      if (first === undefined) {
        cidrs.byKey.set(e.key, e)
        cidrs.prefixes.add(`${e.family}/${e.prefix}`)
      } else warn(e.file, e.line, 'duplicate', `${e.value} is listed twice in category "${category}": ${at(first)}${first.value === e.value ? '' : ` (as ${first.value})`} and ${at(e)}`)
    }
    for (const e of cidrs.byKey.values()) {
      const cover = widerIn(cidrs, e)
      if (cover !== null) {
        warn(e.file, e.line, 'redundant', `${e.value} lies inside ${cover.value} (${at(cover)}) in category "${category}": this line adds nothing`)
      }
      for (let i = 0; i < collateralRanges.length; i++) {
        const r = collateralRanges[i]
        if (r.key === e.key || contains(e, r)) {
          error(e.file, e.line, 'collateral', `${e.value} ${r.key === e.key ? 'is' : `covers ${r.value}, which is`} collateral risk: ${COLLATERAL_RANGES[i].reason}`)
        }
      }
    }
    unique.set(category, { names, trie, cidrs })
  }

  // Overlaps: reported once per pair, at the narrower entry (at the later category's entry when both are equal).
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
        if (same !== undefined && a > b) {
          warn(e.file, e.line, 'overlap', `${e.value} is in categories "${b}" (${at(same)}) and "${a}"`)
        } else if (wider !== null) {
          warn(e.file, e.line, 'overlap', `${e.value} (category "${a}") lies inside ${wider.value} of category "${b}" (${at(wider)})`)
        }
      }
    }
  }

  if (opts.against !== undefined && opts.against !== null) {
    const old = await countsAt(opts.dir, opts.against)
    for (const [category, before] of [...old].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      const now = categories.get(category)
      const file = mainFile(category, now?.files ?? before.files)
      const nowNames = now?.names.length ?? 0
      const nowCidrs = now?.cidrs.length ?? 0
      const gone = now === undefined
        ? `disappeared (${before.files.join(', ')} at ${opts.against})`
        : before.names > 0 && nowNames === 0
          ? `lost all its names (${before.names} at ${opts.against})`
          : before.cidrs > 0 && nowCidrs === 0
            ? `lost all its IP ranges (${before.cidrs} at ${opts.against})`
            : null
      if (gone !== null) {
        error(file, 0, 'emptied', `category "${category}" ${gone}: the gateway refuses such a reload`)
        continue
      }
      const was = before.names + before.cidrs
      const is = nowNames + nowCidrs
      const lost = was === 0 ? 0 : ((was - is) * 100) / was
      if (lost > maxShrink) {
        error(file, 0, 'shrink', `category "${category}" shrank by ${lost.toFixed(1)}% (${was} -> ${is} entries since ${opts.against}); at most ${maxShrink}% is allowed: raise --max-shrink on purpose if this is intended`)
      }
    }
    for (const [category, c] of categories) {
      if (!old.has(category)) warn(mainFile(category, c.files), 0, 'new-category', `category "${category}" is new since ${opts.against}: make sure the gateway config enforces it on purpose (blocklists/README.md)`)
    }
  }

  return { errors: sortFindings(errors), warnings: sortFindings(warnings), counts }
}

/** Parses one file a line at a time with the gateway's own parser, so every entry keeps its line number. */
function parseWithLines(text: string, file: string, cidrs: boolean): { entries: Entry[]; problems: ListProblem[] } {
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

function cidrEntry(e: Entry): CidrEntry {
  const { family, bytes, prefix } = parseCidr(e.value)!
  return { ...e, family, bytes, prefix, key: rangeKey(family, bytes, prefix) }
}

const rangeKey = (family: number, bytes: Uint8Array, prefix: number): string => `${family}:${Buffer.from(bytes).toString('hex')}/${prefix}`

/** `bytes` with every bit after the first `prefix` cleared. */
const masked = (bytes: Uint8Array, prefix: number): Uint8Array =>
  Uint8Array.from(bytes, (b, i) => b & ((0xff << (8 - Math.min(8, Math.max(0, prefix - i * 8)))) & 0xff))

/** True when `outer` is a strictly wider range holding `inner`. */
function contains(outer: CidrEntry, inner: CidrEntry): boolean {
  return outer.family === inner.family && outer.prefix < inner.prefix && rangeKey(outer.family, masked(inner.bytes, outer.prefix), outer.prefix) === outer.key
}

/** The widest range of `index` strictly holding `e`, or null. */
function widerIn(index: RangeIndex, e: CidrEntry): CidrEntry | null {
  for (let p = 0; p < e.prefix; p++) {
    if (!index.prefixes.has(`${e.family}/${p}`)) continue
    const hit = index.byKey.get(rangeKey(e.family, masked(e.bytes, p), p))
    if (hit !== undefined) return hit
  }
  return null
}

/** For each collateral name and each of its parents (two labels or more): the collateral names at or below it. */

/** Entry counts per category at git revision `rev`, read with `git -C dir show`. */
async function countsAt(dir: string, rev: string): Promise<Map<string, { names: number; cidrs: number; files: string[] }>> {
  const git = async (args: string[]): Promise<string> => {
    try {
      return (await run('git', ['-C', dir, ...args], { timeout: 30_000, maxBuffer: 512 * 1024 * 1024 })).stdout
    } catch (cause) {
      const stderr = ((cause as { stderr?: string }).stderr ?? '').trim()
      const detail = stderr !== '' ? stderr : args[0] === 'rev-parse' ? 'not a commit in this repository' : (cause as Error).message
      throw new DnsvaktError('DNSVAKT_ERR_GIT', `cannot read the lists at ${JSON.stringify(rev)}: git ${args[0]} failed: ${detail}`, { cause })
    }
  }
  // Resolved first, so a revision can never be taken for an option, and every read sees the same commit.
  const commit = (await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).trim()
  // Relative to dir (git's working directory): only the folder's own files, as the gateway reads them.
  const listing = await git(['ls-tree', '-z', commit])
  const out = new Map<string, { names: number; cidrs: number; files: string[] }>()
  for (const item of listing.split('\0')) {
    const m = /^\d+ blob [0-9a-f]+\t(.+)$/s.exec(item)
    if (m === null) continue
    const file = m[1]
    const kind = classifyListFile(file)
    if (kind === null || kind.category === null) continue
    const text = await git(['show', '--no-textconv', `${commit}:./${file}`])
    const c = out.get(kind.category) ?? { names: 0, cidrs: 0, files: [] }
    if (kind.kind === 'cidrs') c.cidrs += parseCidrList(text, file).cidrs.length
    else c.names += parseDomainList(text, file).names.length
    c.files.push(file)
    out.set(kind.category, c)
  }
  return out
}

/** The first line of each distinct name, and their trie; warns about repeated names and names a shorter entry covers. */
function distinctNames(
  entries: readonly Entry[], where: string, warn: (file: string, line: number, code: string, message: string) => void,
): { names: Map<string, Entry>; trie: DomainTrie } {
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

const at = (e: Entry): string => `${e.file}:${e.line}`

/** Where a finding about a whole category goes: <category>.txt when there is one. */
const mainFile = (category: string, files: readonly string[]): string => files.find((f) => f === `${category}.txt`) ?? files[0]

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : x.line - y.line))
}
