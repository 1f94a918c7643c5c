/**
 * Lints a list folder before a gateway ever reads it: the blocklist
 * repository's CI and pre-commit hook run it (`dnsvakt lint-lists`, see
 * docs/lint-lists.md). It reads the folder through the gateway's own reader
 * (lists/list-files.ts) and parsers, and checks exemptions.yaml with the
 * loader's own check, so "lints clean" means "the gateway loads it without a
 * problem". It adds the checks a reviewer would otherwise do by eye
 * (lint-categories.ts, lint-against.ts): collateral-risk names, duplicates,
 * dead entries, overlapping categories and a category that suddenly lost
 * many entries.
 *
 * Errors would break a reload or block far more than intended; warnings are
 * lines that do nothing or may surprise the reviewer.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DnsvaktError } from '../errors.js'
import { readExemptionsFile } from '../lists/exemptions.js'
import { ALLOW_FILE, classifyListFile, listFileNames, readListFiles } from '../lists/list-files.js'
import { MAX_CATEGORIES } from '../lists/policy-snapshot.js'
import { cidrEntry } from './cidr-index.js'
import { byName, type Entry, type Finding, type Findings, newFindings, sortFindings } from './findings.js'
import { lintAgainst } from './lint-against.js'
import { type CategoryLists, type DistinctCategory, distinctNames, lintCategory, lintOverlaps, parseWithLines } from './lint-categories.js'

export { classifyListFile, type ListFileKind } from '../lists/list-files.js'
export type { Finding } from './findings.js'

export interface LintListsOptions {
  dir: string
  /** A git revision to compare entry counts against (e.g. "origin/main", "HEAD"); null or absent: no shrink check. */
  against?: string | null
  /** Largest allowed loss of entries per category against `against`, in percent. */
  maxShrinkPercent?: number
  /** The exemptions file, as blocking.exemptions.file; default DIR/exemptions.yaml. */
  exemptionsFile?: string
  /** As blocking.exemptions.maxDuration; default 365 days (the gateway's default). */
  exemptionMaxDurationMs?: number
  /** ms; the clock exemptions are judged by (default now). */
  now?: number
}

export interface LintListsResult {
  errors: Finding[]
  warnings: Finding[]
  /** Parsed entries (names + IP ranges, duplicates included) per category, as the folder is now. */
  counts: Record<string, number>
}

export const DEFAULT_MAX_SHRINK_PERCENT = 20

/** Lints the list folder `opts.dir`. Throws DNSVAKT_ERR_BLOCKLIST for an unreadable folder, DNSVAKT_ERR_GIT for an unusable `against`. */
export async function lintLists(opts: LintListsOptions): Promise<LintListsResult> {
  const maxShrink = opts.maxShrinkPercent ?? DEFAULT_MAX_SHRINK_PERCENT
  if (!Number.isFinite(maxShrink) || maxShrink < 0 || maxShrink > 100) {
    throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `maxShrinkPercent must be a number from 0 to 100, not ${maxShrink}`)
  }
  const f = newFindings()
  const { categories, allow } = await readFolder(opts.dir, f)
  if (categories.size === 0) f.error('.', 0, 'no-lists', 'no list files (<category>.txt): the gateway refuses to start without any')
  if (categories.size > MAX_CATEGORIES) {
    f.error('.', 0, 'too-many-categories', `${categories.size} categories; the gateway supports at most ${MAX_CATEGORIES} and refuses the folder`)
  }
  await lintExemptions(opts, new Set(categories.keys()), f)

  const counts: Record<string, number> = {}
  const allowNames = distinctNames(allow, 'the allow list', f.warn)
  const unique = new Map<string, DistinctCategory>()
  for (const [category, c] of [...categories].sort(byName)) {
    counts[category] = c.names.length + c.cidrs.length
    unique.set(category, lintCategory(category, c, allowNames, f))
  }
  lintOverlaps(unique, f.warn)

  if (opts.against !== undefined && opts.against !== null) {
    const now = new Map([...categories].map(([name, c]) => [name, { names: c.names.length, cidrs: c.cidrs.length, files: c.files }]))
    await lintAgainst(opts.dir, opts.against, now, maxShrink, f)
  }
  return { errors: sortFindings(f.errors), warnings: sortFindings(f.warnings), counts }
}

/** Reads the list files through the gateway's reader, keeping each entry's line. */
async function readFolder(dir: string, f: Findings): Promise<{ categories: Map<string, CategoryLists>; allow: Entry[] }> {
  await lintFileNames(dir, f)
  const categories = new Map<string, CategoryLists>()
  const allow: Entry[] = []
  for await (const { file, kind, category, text, error } of readListFiles(dir)) {
    if (text === null) {
      f.error(file, 0, 'unreadable', `cannot read: ${error} (the gateway refuses the whole folder)`)
      continue
    }
    const parsed = parseWithLines(text, file, kind === 'cidrs')
    for (const p of parsed.problems) f.error(file, p.line, 'invalid', `${p.message}${p.text.trim() ? ` (${p.text.trim()})` : ''}`)
    if (category === null) {
      for (const e of parsed.entries) allow.push(e)
      continue
    }
    if (category === 'allow') f.error(file, 0, 'allow-category', `the gateway refuses it (a reload with it fails): only ${ALLOW_FILE} is the allow list`)
    let c = categories.get(category)
    if (c === undefined) categories.set(category, (c = { files: [], names: [], cidrs: [] }))
    c.files.push(file)
    // A loop, not push(...): a list may hold more entries than a call has room for arguments.
    for (const e of parsed.entries) {
      if (kind === 'cidrs') c.cidrs.push(cidrEntry(e))
      else c.names.push(e)
    }
  }
  return { categories, allow }
}

/** Files the reader passes over that look like lists: misnamed ones, and list names that are not readable files. */
async function lintFileNames(dir: string, f: Findings): Promise<void> {
  const lists = new Set(await listFileNames(dir)) // throws DNSVAKT_ERR_BLOCKLIST for an unreadable folder
  const all = await readdir(dir, { withFileTypes: true })
  for (const e of all) {
    if (lists.has(e.name) || !/\.txt$/i.test(e.name)) continue
    if (classifyListFile(e.name) !== null) {
      f.error(e.name, 0, 'unreadable', 'named like a list but not a readable file (a folder, or a link to nothing): the gateway ignores it, so its category would be missing')
    } else {
      f.warn(e.name, 0, 'ignored-file', 'the gateway ignores this file: list files are named <category>.txt, <category>.<part>.txt, <category>.cidrs.txt or allow.txt (lower-case letters, digits and "-")')
    }
  }
}

/** The exemptions file, checked by the loader's own reader and rules: what a reload would refuse is an error here. */
async function lintExemptions(opts: LintListsOptions, knownCategories: ReadonlySet<string>, f: Findings): Promise<void> {
  const path = opts.exemptionsFile ?? join(opts.dir, 'exemptions.yaml')
  const { problems } = await readExemptionsFile(path, {
    knownCategories,
    maxDurationMs: opts.exemptionMaxDurationMs ?? 365 * 86_400_000,
    now: opts.now ?? Date.now(),
  })
  for (const p of problems) f.error(p.file, p.line, 'exemption', `${p.text ? `${p.text}: ` : ''}${p.message} (the gateway refuses such a reload)`)
}
