/**
 * The operator's explicit acceptance of one rewritten list history: git sync
 * refuses a fetched commit that does not descend from the served one (a
 * rollback or a force-push); `dnsvakt accept-lists REV` names the one commit
 * that may be served anyway. The acceptance is a file inside the clone's .git
 * holding the full commit id; git sync reads it, serves that commit (still
 * only if it is signed when signatures are required), and deletes it.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DnsvaktError } from '../errors.js'
import { GitError, gitReason, runGit } from './git.js'

/** Inside the clone's .git: the one commit an operator accepted. */
export const acceptFileFor = (dir: string): string => join(dir, '.git', 'dnsvakt-accept-rewrite')

export interface Acceptance {
  /** The full commit id accepted. */
  readonly commit: string
  /** False when the commit descends from the served one: then no acceptance is needed (none is written). */
  readonly needed: boolean
}

/** Resolves `rev` in the clone at `dir` and, when it is a rewrite, records the acceptance. Throws DNSVAKT_ERR_GIT. */
export async function acceptRewrite(dir: string, rev: string): Promise<Acceptance> {
  const git = (args: string[]) => runGit(args, { cwd: dir, timeoutMs: 30_000 })
  let commit: string
  try {
    commit = (await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).trim()
  } catch (e) {
    const detail = e instanceof GitError && e.stderr === '' ? 'no such commit here yet (it is fetched by the next sync; or give the full commit id)' : gitReason(e)
    throw new DnsvaktError('DNSVAKT_ERR_GIT', `accept-lists: cannot resolve ${JSON.stringify(rev)} in ${dir}: ${detail}`, { cause: e })
  }
  const head = (await git(['rev-parse', '--verify', 'HEAD'])).trim()
  try {
    await git(['merge-base', '--is-ancestor', head, commit])
    return { commit, needed: false }
  } catch (e) {
    if (!(e instanceof GitError && e.exitCode === 1)) throw new DnsvaktError('DNSVAKT_ERR_GIT', `accept-lists: ${gitReason(e)}`, { cause: e })
  }
  await writeFile(acceptFileFor(dir), `${commit}\n`)
  return { commit, needed: true }
}
