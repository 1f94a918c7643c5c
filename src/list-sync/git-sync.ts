/**
 * Optional built-in sync of the list folder from a git remote (blocking.git).
 * Every interval: fetch the branch with the system `git`; if the tip moved,
 * check that every new commit is signed by an allowed signer (when
 * requireSignedCommits is on, via `git verify-commit`), check the new commit
 * out, and reload. An unsigned or wrongly signed commit is never checked out;
 * a commit whose lists are broken is checked out but refused by the reload,
 * so the last good lists keep serving until a good commit arrives.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DnsvaktError } from '../errors.js'

const run = promisify(execFile)

export interface GitSyncOptions {
  readonly dir: string
  readonly url: string
  readonly branch: string
  readonly intervalMs: number
  readonly requireSignedCommits: boolean
  /** An SSH allowed_signers file (git's gpg.ssh.allowedSignersFile); null uses git's own configuration (e.g. a GnuPG keyring). */
  readonly allowedSigners: string | null
}

export type SyncOutcome =
  | { readonly kind: 'unchanged'; readonly commit: string }
  | { readonly kind: 'updated'; readonly from: string; readonly to: string }
  | { readonly kind: 'refused'; readonly commit: string; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string }

export class GitSync {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<SyncOutcome> | null = null

  constructor(
    private readonly opts: GitSyncOptions,
    /** Called after a new commit is checked out (reload the lists). */
    private readonly onUpdated: (commit: string) => Promise<unknown>,
    private readonly onOutcome: (o: SyncOutcome) => void = () => {},
  ) {}

  /** Clones the remote into an empty or missing folder; an existing checkout is used as it is. */
  async prepare(): Promise<void> {
    const { dir, url, branch } = this.opts
    if (existsSync(join(dir, '.git'))) return
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw new DnsvaktError('DNSVAKT_ERR_GIT', `blocking.git: ${dir} is neither a git checkout nor empty; point blocking.dir at an empty folder or a clone of ${url}`)
    }
    try {
      await this.git(['clone', '--quiet', '--branch', branch, '--', url, dir], null)
    } catch (e) {
      throw new DnsvaktError('DNSVAKT_ERR_GIT', `blocking.git: cannot clone ${url} (branch ${branch}): ${gitMessage(e)}`, { cause: e })
    }
    const head = await this.head()
    const problem = await this.verify(head, null)
    if (problem) throw new DnsvaktError('DNSVAKT_ERR_GIT', `blocking.git: the cloned commit ${head} is refused: ${problem}`)
  }

  start(): void {
    this.timer = setInterval(() => void this.sync(), this.opts.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** One sync; concurrent calls share the running one. */
  sync(): Promise<SyncOutcome> {
    if (!this.running) {
      this.running = this.syncOnce()
        .catch((e: unknown): SyncOutcome => ({ kind: 'failed', reason: gitMessage(e) }))
        .then((o) => {
          this.onOutcome(o)
          return o
        })
        .finally(() => (this.running = null))
    }
    return this.running
  }

  private async syncOnce(): Promise<SyncOutcome> {
    const { branch } = this.opts
    await this.git(['fetch', '--quiet', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`])
    const from = await this.head()
    const to = (await this.git(['rev-parse', '--verify', `refs/remotes/origin/${branch}^{commit}`])).trim()
    if (to === from) return { kind: 'unchanged', commit: from }
    const problem = await this.verify(to, from)
    if (problem) return { kind: 'refused', commit: to, reason: problem }
    // Detached, forced: the served folder mirrors the remote; local edits there are not kept.
    await this.git(['checkout', '--quiet', '--force', '--detach', to])
    await this.onUpdated(to)
    return { kind: 'updated', from, to }
  }

  /** Why `to` must not be served, or null. With signing required, every commit after `from` must verify. */
  private async verify(to: string, from: string | null): Promise<string | null> {
    if (!this.opts.requireSignedCommits) return null
    const range = from ? [`${from}..${to}`] : ['-1', to]
    const commits = (await this.git(['rev-list', ...range])).split('\n').filter(Boolean)
    const config = this.opts.allowedSigners ? ['-c', `gpg.ssh.allowedSignersFile=${this.opts.allowedSigners}`] : []
    for (const c of commits) {
      try {
        await run('git', [...config, '-C', this.opts.dir, 'verify-commit', c], { timeout: 30_000 })
      } catch (e) {
        return `commit ${c} is not signed by an allowed signer (${gitMessage(e).split('\n')[0]})`
      }
    }
    return null
  }

  private async head(): Promise<string> {
    return (await this.git(['rev-parse', '--verify', 'HEAD'])).trim()
  }

  private async git(args: string[], cwd: string | null = this.opts.dir): Promise<string> {
    const { stdout } = await run('git', cwd ? ['-C', cwd, ...args] : args, { timeout: 60_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })
    return stdout
  }
}

function gitMessage(e: unknown): string {
  const err = e as { stderr?: string; message?: string }
  return (err.stderr?.trim() || err.message || String(e)).slice(0, 500)
}
