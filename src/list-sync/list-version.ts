/**
 * Names the lists a snapshot came from: the git commit when the folder is a
 * git checkout (so the help desk and dashboards can point at the reviewed
 * commit), with "+modified" when the files differ from that commit; otherwise
 * a hash of the file contents. For a checkout it also gives the commit time,
 * which drives dnsvakt_lists_commit_timestamp_seconds and the stale-lists
 * alert (a restart must not make old lists look fresh).
 */
import { runGit } from './git.js'

export interface ListVersion {
  /** git commit (maybe "+modified"), or the content hash. */
  readonly version: string
  /** Commit time in ms since the epoch; null when the folder is not a git checkout. */
  readonly committedAt: number | null
}

export async function listVersion(dir: string, contentHash: string): Promise<ListVersion> {
  const git = (args: string[]) => runGit(args, { cwd: dir, timeoutMs: 5000 })
  try {
    const head = (await git(['rev-parse', '--verify', '-q', 'HEAD'])).trim()
    if (!/^[0-9a-f]{40,64}$/.test(head)) return { version: contentHash, committedAt: null }
    const status = await git(['status', '--porcelain', '--', '.'])
    const seconds = Number((await git(['log', '-1', '--format=%ct', head])).trim())
    return {
      version: status.trim() === '' ? head : `${head}+modified`,
      committedAt: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null,
    }
  } catch {
    // Not a git checkout, or git is not installed: the content hash still identifies the lists.
    return { version: contentHash, committedAt: null }
  }
}
