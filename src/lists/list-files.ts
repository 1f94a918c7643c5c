/**
 * The list folder's reader: which files are lists, in what order, and their
 * text. The gateway's loader and `lint-lists` both read through here, so
 * "lints clean" and "loads" see the same files. File names carry the meaning:
 *   <category>.txt          domain names (the name and all its subdomains)
 *   <category>.<part>.txt   more domain names for the same category (e.g. tiktok.cname.txt)
 *   <category>.cidrs.txt    IP ranges: answers pointing into them are blocked
 *   allow.txt               names never blocked, whatever the category
 * Anything else (README.md, .git, exemptions.yaml) is not a list file.
 *
 * A list file may be a symlink to a regular file: a Kubernetes ConfigMap
 * volume presents every key as `tiktok.txt -> ..data/tiktok.txt`, and
 * updates by swapping the `..data` link.
 */
import type { Dirent } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DnsvaktError } from '../errors.js'

export const CATEGORY_FILE = /^([a-z0-9][a-z0-9-]*)(?:\.([a-z0-9-]+))?\.txt$/

export const ALLOW_FILE = 'allow.txt'

export type ListFileKind = 'allow' | 'domains' | 'cidrs'

/** What the gateway makes of a file in the list folder; null when it ignores the file. category "allow" with kind "domains" is a misnamed allow list (refused). */
export function classifyListFile(file: string): { kind: ListFileKind; category: string | null } | null {
  const m = CATEGORY_FILE.exec(file)
  if (m === null) return null
  if (file === ALLOW_FILE) return { kind: 'allow', category: null }
  return { kind: m[2] === 'cidrs' ? 'cidrs' : 'domains', category: m[1] }
}

export interface ListFileText {
  readonly file: string
  readonly kind: ListFileKind
  readonly category: string | null
  /** The file's text; null when it could not be read (see error). */
  readonly text: string | null
  readonly error: string | null
}

/** Names of the list files in `dir`, sorted. Throws DNSVAKT_ERR_BLOCKLIST when the folder cannot be read. */
export async function listFileNames(dir: string): Promise<string[]> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (cause) {
    throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `cannot read list folder ${dir}: ${(cause as Error).message}`, { cause })
  }
  const names: string[] = []
  for (const e of entries) {
    if (classifyListFile(e.name) === null) continue
    // Regular files, and symlinks to regular files; a folder named like a list (archive.txt) is not a list.
    if (e.isFile() || (e.isSymbolicLink() && (await isFileBehindLink(join(dir, e.name))))) names.push(e.name)
  }
  return names.sort()
}

async function isFileBehindLink(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false // a dangling link: nothing to read
  }
}

/** Every list file of `dir` with its text, in name order. An unreadable file is yielded with its error. */
export async function* readListFiles(dir: string): AsyncGenerator<ListFileText> {
  for (const file of await listFileNames(dir)) {
    const { kind, category } = classifyListFile(file)!
    try {
      yield { file, kind, category, text: await readFile(join(dir, file), 'utf8'), error: null }
    } catch (e) {
      yield { file, kind, category, text: null, error: (e as Error).message }
    }
  }
}
