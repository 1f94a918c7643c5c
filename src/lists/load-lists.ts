/**
 * Reads the list folder (through list-files.ts, the one reader) into a
 * PolicySnapshot: per category a trie of names and a set of IP ranges, the
 * allow list, the exemptions, and the version (git commit or content hash).
 * Optionally copies every file it read into a staging folder of the last good
 * state, so the state on disk is exactly what the snapshot was built from.
 */
import { createHash, type Hash } from 'node:crypto'
import { basename, dirname, join, resolve } from 'node:path'
import type { LoadedConfig } from '../config/load-config.js'
import { DnsvaktError } from '../errors.js'
import { type ListVersion, listVersion } from '../list-sync/list-version.js'
import { DomainTrie } from './domain-trie.js'
import { readExemptionsFile } from './exemptions.js'
import { IpRangeSet } from './ip-ranges.js'
import { StagingFolder } from './last-good-state.js'
import { readListFiles } from './list-files.js'
import { type ListProblem, parseCidrList, parseDomainList } from './parse-list-file.js'
import { type Category, MAX_CATEGORIES, PolicySnapshot } from './policy-snapshot.js'
import type { Enforced } from './reload-rules.js'

export { CATEGORY_FILE } from './list-files.js'

export interface LoadListsOptions {
  readonly dir: string
  readonly exemptionsFile: string
  readonly exemptionMaxDurationMs: number
  readonly now: number
  /** Folder of the last good state (last-good-state.ts); null or absent: none is kept. */
  readonly stateDir?: string | null
  /** Categories some group enforces: at start they must not be missing, empty or fewer than in the last good state. */
  readonly enforced?: Enforced
  /** Copy every file read into this (staging) folder. Set by the PolicyStore, not by callers. */
  readonly copyTo?: string | null
  /** Report this version instead of asking git (lists read back from the state folder). */
  readonly fixedVersion?: ListVersion | null
}

/** The loader's options for a loaded config, at time `now`. */
export const listOptionsFor = (loaded: LoadedConfig, now: number): LoadListsOptions => ({
  dir: loaded.blocklistDir,
  exemptionsFile: loaded.exemptionsFile,
  exemptionMaxDurationMs: loaded.config.blocking.exemptions.maxDuration,
  now,
  stateDir: stateDirFor(loaded),
  enforced: enforcedBy(loaded.config.groups),
})

/** Categories the groups enforce; 'all' without a default group (unmatched clients then get every category). */
export const enforcedBy = (groups: Readonly<Record<string, { readonly enforce: readonly string[] }>>): Enforced =>
  'default' in groups ? [...new Set(Object.values(groups).flatMap((g) => g.enforce))].sort() : 'all'

/**
 * blocking.stateDir, absolute: as configured (relative to the config file), or
 * by default `.dnsvakt-state/<list folder name>` beside the list folder, which
 * is writable wherever a git clone of the lists is.
 */
export function stateDirFor(loaded: LoadedConfig): string {
  const configured = loaded.config.blocking.stateDir
  if (configured) return resolve(loaded.file ? dirname(loaded.file) : process.cwd(), configured)
  return join(dirname(loaded.blocklistDir), '.dnsvakt-state', basename(loaded.blocklistDir))
}

/** Every list file of a folder, parsed and grouped by category (before any trie is built). */
export interface ListFolder {
  /** Category -> its names, from <category>.txt and <category>.<part>.txt. */
  readonly domains: Map<string, string[]>
  /** Category -> its CIDRs, from <category>.cidrs.txt. */
  readonly cidrs: Map<string, string[]>
  /** Category -> the files it came from. */
  readonly files: Map<string, string[]>
  readonly allow: string[]
  readonly problems: ListProblem[]
  /** Hash over the file names and contents, for the content version. */
  readonly hash: Hash
}

/** Reads and parses the list files (copying each into `copyTo` when given). Throws DNSVAKT_ERR_BLOCKLIST when a file or the folder cannot be read. */
export async function readListFolder(dir: string, copyTo: StagingFolder | null = null): Promise<ListFolder> {
  const folder: ListFolder = { domains: new Map(), cidrs: new Map(), files: new Map(), allow: [], problems: [], hash: createHash('sha256') }
  const { domains, cidrs, files, problems, hash } = folder
  for await (const { file, kind, category, text, error } of readListFiles(dir)) {
    if (text === null) throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `cannot read ${join(dir, file)}: ${error}`)
    hash.update(file).update('\0').update(text).update('\0')
    if (copyTo !== null) await copyTo.add(file, text)
    if (category === 'allow') {
      problems.push({ file, line: 0, text: '', message: 'the allow list is allow.txt alone; this file would be neither allowed nor blocked' })
      continue
    }
    if (kind === 'allow') {
      const parsed = parseDomainList(text, file)
      problems.push(...parsed.problems)
      for (const n of parsed.names) folder.allow.push(n) // not push(...names): a huge list would overflow the argument limit
      continue
    }
    if (!files.has(category!)) files.set(category!, [])
    files.get(category!)!.push(file)
    if (kind === 'cidrs') {
      const parsed = parseCidrList(text, file)
      problems.push(...parsed.problems)
      cidrs.set(category!, [...(cidrs.get(category!) ?? []), ...parsed.cidrs])
    } else {
      const parsed = parseDomainList(text, file)
      problems.push(...parsed.problems)
      domains.set(category!, [...(domains.get(category!) ?? []), ...parsed.names])
    }
  }
  return folder
}

/** Reads and parses every list into a snapshot. Throws DNSVAKT_ERR_BLOCKLIST only when the folder itself is unusable. */
export async function loadLists(opts: LoadListsOptions): Promise<PolicySnapshot> {
  const copyTo = opts.copyTo ? new StagingFolder(opts.copyTo) : null
  const { domains, cidrs, files, allow: allowNames, problems, hash } = await readListFolder(opts.dir, copyTo)
  const categoryNames = [...files.keys()].sort()
  if (categoryNames.length > MAX_CATEGORIES) {
    throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `${categoryNames.length} categories in ${opts.dir}; at most ${MAX_CATEGORIES} are supported`)
  }
  const categories: Category[] = categoryNames.map((name, bit) => ({
    name,
    bit,
    domains: DomainTrie.build(domains.get(name) ?? []),
    cidrs: IpRangeSet.fromCidrs(cidrs.get(name) ?? []),
    files: files.get(name)!,
  }))

  const ex = await readExemptionsFile(opts.exemptionsFile, {
    knownCategories: new Set(categoryNames),
    maxDurationMs: opts.exemptionMaxDurationMs,
    now: opts.now,
  })
  hash.update('exemptions\0').update(ex.text)
  problems.push(...ex.problems)

  const contentHash = `sha256:${hash.digest('hex').slice(0, 16)}`
  const { version, committedAt } = opts.fixedVersion ?? (await listVersion(opts.dir, contentHash))
  // Only a snapshot with no problem may become the last good state; the store decides whether it is accepted.
  if (copyTo !== null && problems.length === 0) await copyTo.finish({ version, committedAt, source: opts.dir }, ex.text)
  return new PolicySnapshot(version, categories, DomainTrie.build(allowNames), ex.exemptions, opts.now, problems, opts.dir, committedAt)
}
