/**
 * Reads the list folder into a PolicySnapshot. File names carry the meaning:
 *   <category>.txt          domain names (the name and all its subdomains)
 *   <category>.<part>.txt   more domain names for the same category (e.g. tiktok.cname.txt)
 *   <category>.cidrs.txt    IP ranges: answers pointing into them are blocked
 *   allow.txt               names never blocked, whatever the category
 *   exemptions.yaml         per-client exemptions (see exemptions.ts)
 * Anything else (README.md, .git) is ignored.
 */
import { createHash, type Hash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { LoadedConfig } from '../config/load-config.js'
import { DnsvaktError } from '../errors.js'
import { DomainTrie } from './domain-trie.js'
import { parseExemptions } from './exemptions.js'
import { IpRangeSet } from './ip-ranges.js'
import { listVersion } from '../list-sync/list-version.js'
import { type ListProblem, parseCidrList, parseDomainList } from './parse-list-file.js'
import { type Category, MAX_CATEGORIES, PolicySnapshot } from './policy-snapshot.js'

export interface LoadListsOptions {
  readonly dir: string
  readonly exemptionsFile: string
  readonly exemptionMaxDurationMs: number
  readonly now: number
}

/** The loader's options for a loaded config, at time `now`. */
export const listOptionsFor = (loaded: LoadedConfig, now: number): LoadListsOptions => ({
  dir: loaded.blocklistDir,
  exemptionsFile: loaded.exemptionsFile,
  exemptionMaxDurationMs: loaded.config.blocking.exemptions.maxDuration,
  now,
})

export const CATEGORY_FILE = /^([a-z0-9][a-z0-9-]*)(?:\.([a-z0-9-]+))?\.txt$/

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

/** Reads and parses the list files. Throws DNSVAKT_ERR_BLOCKLIST only when the folder itself is unusable. */
export async function readListFolder(dir: string): Promise<ListFolder> {
  let names: string[]
  try {
    // Only regular files: a folder named like a list (archive.txt) is not a list.
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort()
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `cannot read list folder ${dir}: ${(cause as Error).message}`, { cause })
  }
  const folder: ListFolder = { domains: new Map(), cidrs: new Map(), files: new Map(), allow: [], problems: [], hash: createHash('sha256') }
  const { domains, cidrs, files, problems, hash } = folder
  for (const file of names) {
    const m = CATEGORY_FILE.exec(file)
    if (!m) continue
    const text = await readFile(join(dir, file), 'utf8')
    hash.update(file).update('\0').update(text).update('\0')
    const [, category, part] = m
    if (category === 'allow' && file !== 'allow.txt') {
      problems.push({ file, line: 0, text: '', message: 'the allow list is allow.txt alone; this file would be neither allowed nor blocked' })
      continue
    }
    if (file === 'allow.txt') {
      const parsed = parseDomainList(text, file)
      problems.push(...parsed.problems)
      for (const n of parsed.names) folder.allow.push(n) // not push(...names): a huge list would overflow the argument limit
      continue
    }
    if (!files.has(category)) files.set(category, [])
    files.get(category)!.push(file)
    if (part === 'cidrs') {
      const parsed = parseCidrList(text, file)
      problems.push(...parsed.problems)
      cidrs.set(category, [...(cidrs.get(category) ?? []), ...parsed.cidrs])
    } else {
      const parsed = parseDomainList(text, file)
      problems.push(...parsed.problems)
      domains.set(category, [...(domains.get(category) ?? []), ...parsed.names])
    }
  }
  return folder
}

/** Reads and parses every list into a snapshot. Throws DNSVAKT_ERR_BLOCKLIST only when the folder itself is unusable. */
export async function loadLists(opts: LoadListsOptions): Promise<PolicySnapshot> {
  const { domains, cidrs, files, allow: allowNames, problems, hash } = await readListFolder(opts.dir)
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

  let exemptionsText = ''
  try {
    exemptionsText = await readFile(opts.exemptionsFile, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      problems.push({ file: basename(opts.exemptionsFile), line: 0, text: '', message: `cannot read: ${(e as Error).message}` })
    }
  }
  hash.update('exemptions\0').update(exemptionsText)
  const ex = parseExemptions(exemptionsText, basename(opts.exemptionsFile), {
    knownCategories: new Set(categoryNames),
    maxDurationMs: opts.exemptionMaxDurationMs,
    now: opts.now,
  })
  problems.push(...ex.problems)

  const version = await listVersion(opts.dir, `sha256:${hash.digest('hex').slice(0, 16)}`)
  return new PolicySnapshot(version, categories, DomainTrie.build(allowNames), ex.exemptions, opts.now, problems, opts.dir)
}
