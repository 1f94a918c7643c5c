/**
 * `lint-lists --against REV`: compares each category's entry count with git
 * revision REV (read with `git show`, through the one git runner), so a
 * commit that empties or guts a category fails CI before a gateway refuses it.
 */
import { DnsvaktError } from '../errors.js'
import { GitError, runGit } from '../list-sync/git.js'
import { classifyListFile } from '../lists/list-files.js'
import { parseCidrList, parseDomainList } from '../lists/parse-list-file.js'
import { byName, type Findings, mainFile } from './findings.js'

export interface CategoryCount {
  readonly names: number
  readonly cidrs: number
  readonly files: string[]
}

/** Errors for categories that disappeared, emptied or shrank by more than maxShrink percent; a warning per new category. */
export async function lintAgainst(dir: string, rev: string, now: ReadonlyMap<string, CategoryCount>, maxShrink: number, f: Findings): Promise<void> {
  const old = await countsAt(dir, rev)
  for (const [category, before] of [...old].sort(byName)) {
    const cur = now.get(category)
    const file = mainFile(category, cur?.files ?? before.files)
    const nowNames = cur?.names ?? 0
    const nowCidrs = cur?.cidrs ?? 0
    const gone = cur === undefined
      ? `disappeared (${before.files.join(', ')} at ${rev})`
      : before.names > 0 && nowNames === 0
        ? `lost all its names (${before.names} at ${rev})`
        : before.cidrs > 0 && nowCidrs === 0
          ? `lost all its IP ranges (${before.cidrs} at ${rev})`
          : null
    if (gone !== null) {
      f.error(file, 0, 'emptied', `category "${category}" ${gone}: the gateway refuses such a reload`)
      continue
    }
    const was = before.names + before.cidrs
    const is = nowNames + nowCidrs
    const lost = was === 0 ? 0 : ((was - is) * 100) / was
    if (lost > maxShrink) {
      f.error(file, 0, 'shrink', `category "${category}" shrank by ${lost.toFixed(1)}% (${was} -> ${is} entries since ${rev}); at most ${maxShrink}% is allowed: raise --max-shrink on purpose if this is intended`)
    }
  }
  for (const [category, c] of now) {
    if (!old.has(category)) f.warn(mainFile(category, c.files), 0, 'new-category', `category "${category}" is new since ${rev}: make sure the gateway config enforces it on purpose (blocklists/README.md)`)
  }
}

/** Entry counts per category at git revision `rev`, read with `git -C dir show`. */
async function countsAt(dir: string, rev: string): Promise<Map<string, CategoryCount>> {
  const git = async (args: string[]): Promise<string> => {
    try {
      return await runGit(args, { cwd: dir, timeoutMs: 30_000, maxBuffer: 512 * 1024 * 1024 })
    } catch (cause) {
      const said = cause instanceof GitError ? cause.stderr : ''
      const detail = said !== '' ? said : args[0] === 'rev-parse' ? 'not a commit in this repository' : (cause as Error).message
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
