/**
 * Optional built-in sync of the list folder from a git remote (blocking.git).
 * Every interval: fetch the branch; if the tip moved, it must descend from
 * the served commit (a rollback or rewritten history is refused unless the
 * operator accepts it: blocking.git.allowRewrite, or `dnsvakt accept-lists
 * REV` for one commit), and with requireSignedCommits every new commit, and
 * the tip itself, must pass `git verify-commit`. Only then is it checked out
 * and reloaded. A commit whose lists are broken is checked out but refused by
 * the reload, so the last good lists keep serving until a good commit arrives.
 * At start an existing checkout is verified (signatures required) and a
 * changed blocking.git.url is applied to it (the forward-only rule still
 * holds for what the new remote serves).
 */
import { existsSync, readdirSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DnsvaktError } from '../errors.js'
import { acceptFileFor } from './accept-rewrite.js'
import { GitError, gitReason, runGit } from './git.js'

export { acceptFileFor } from './accept-rewrite.js'

export interface GitSyncOptions {
  readonly dir: string
  readonly url: string
  readonly branch: string
  readonly intervalMs: number
  readonly requireSignedCommits: boolean
  /** An SSH allowed_signers file (git's gpg.ssh.allowedSignersFile); null uses git's own configuration (e.g. a GnuPG keyring). */
  readonly allowedSigners: string | null
  /** Serve fetched commits that do not descend from the served one. Default false: refused. */
  readonly allowRewrite?: boolean
}

/** Why an update was refused: its commit is not signed by an allowed signer, or does not descend from the served one. */
export type RefusalCode = 'unsigned' | 'not-descendant'

export type SyncOutcome =
  | { readonly kind: 'unchanged'; readonly commit: string }
  | { readonly kind: 'updated'; readonly from: string; readonly to: string; readonly rewrite?: boolean }
  | { readonly kind: 'refused'; readonly commit: string; readonly code: RefusalCode; readonly reason: string }
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

  /**
   * Clones the remote into an empty or missing folder, or checks an existing
   * checkout. Returns the remote it replaced when blocking.git.url changed.
   */
  async prepare(): Promise<{ remoteChanged: { from: string; to: string } | null }> {
    const { dir, url, branch } = this.opts
    if (existsSync(join(dir, '.git'))) return this.prepareExisting()
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw new DnsvaktError('DNSVAKT_ERR_GIT', `blocking.git: ${dir} is neither a git checkout nor empty; point blocking.dir at an empty folder or a clone of ${url}`)
    }
    try {
      await runGit(['clone', '--quiet', '--branch', branch, '--', url, dir], { cwd: null })
    } catch (e) {
      throw new DnsvaktError('DNSVAKT_ERR_GIT', `blocking.git: cannot clone ${url} (branch ${branch}): ${gitReason(e)}`, { cause: e })
    }
    await this.verifyHead('cloned')
    return { remoteChanged: null }
  }

  private async prepareExisting(): Promise<{ remoteChanged: { from: string; to: string } | null }> {
    const from = (await this.git(['remote', 'get-url', 'origin']).catch(() => '')).trim()
    let remoteChanged = null
    if (from !== this.opts.url) {
      // Applied, never ignored: the next fetch comes from the new remote, and must still descend from the served commit.
      await this.git(from === '' ? ['remote', 'add', 'origin', this.opts.url] : ['remote', 'set-url', 'origin', this.opts.url])
      remoteChanged = { from, to: this.opts.url }
    }
    await this.verifyHead('checked-out')
    return { remoteChanged }
  }

  /** With signatures required, the commit being served must itself be signed (the folder may have been changed by hand). */
  private async verifyHead(what: string): Promise<void> {
    const head = await this.head()
    const problem = await this.verify(head, null)
    if (problem) throw new DnsvaktError('DNSVAKT_ERR_GIT', `blocking.git: the ${what} commit ${head} in ${this.opts.dir} is refused: ${problem}; check out a signed commit there, or empty the folder to clone again`)
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
        .catch((e: unknown): SyncOutcome => ({ kind: 'failed', reason: gitReason(e) }))
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
    await this.git(['fetch', '--quiet', '--force', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`])
    const from = await this.head()
    const to = (await this.git(['rev-parse', '--verify', `refs/remotes/origin/${branch}^{commit}`])).trim()
    if (to === from) return { kind: 'unchanged', commit: from }
    const rewrite = !(await this.descends(to, from))
    if (rewrite && !this.opts.allowRewrite && (await this.accepted()) !== to) {
      const reason = `commit ${to} does not descend from the served commit ${from} (a rollback or rewritten history); to serve it, run "dnsvakt accept-lists ${to.slice(0, 12)}" or set blocking.git.allowRewrite`
      return { kind: 'refused', commit: to, code: 'not-descendant', reason }
    }
    const problem = await this.verify(to, from)
    if (problem) return { kind: 'refused', commit: to, code: 'unsigned', reason: problem }
    // Detached, forced: the served folder mirrors the remote; local edits there are not kept.
    await this.git(['checkout', '--quiet', '--force', '--detach', to])
    if (rewrite) await rm(acceptFileFor(this.opts.dir), { force: true }) // an acceptance is good for one commit
    await this.onUpdated(to)
    return rewrite ? { kind: 'updated', from, to, rewrite } : { kind: 'updated', from, to }
  }

  /** True when `to` has `from` in its history. */
  private async descends(to: string, from: string): Promise<boolean> {
    try {
      await this.git(['merge-base', '--is-ancestor', from, to])
      return true
    } catch (e) {
      if (e instanceof GitError && e.exitCode === 1) return false
      throw e
    }
  }

  private async accepted(): Promise<string | null> {
    const text = await readFile(acceptFileFor(this.opts.dir), 'utf8').catch(() => null)
    return text === null ? null : text.trim()
  }

  /**
   * Why `to` must not be served, or null. With signing required, every commit
   * after `from` and `to` itself must verify (a rollback brings no new commit,
   * but the commit it goes back to is checked all the same).
   */
  private async verify(to: string, from: string | null): Promise<string | null> {
    if (!this.opts.requireSignedCommits) return null
    const commits = from ? (await this.git(['rev-list', `${from}..${to}`])).split('\n').filter(Boolean) : []
    if (!commits.includes(to)) commits.push(to)
    const config: Record<string, string> = this.opts.allowedSigners ? { 'gpg.ssh.allowedSignersFile': this.opts.allowedSigners } : {}
    for (const c of commits) {
      try {
        await runGit(['verify-commit', c], { cwd: this.opts.dir, timeoutMs: 30_000, config })
      } catch (e) {
        return `commit ${c} is not signed by an allowed signer (${gitReason(e).split('\n')[0]})`
      }
    }
    return null
  }

  private async head(): Promise<string> {
    return (await this.git(['rev-parse', '--verify', 'HEAD'])).trim()
  }

  private git(args: string[]): Promise<string> {
    return runGit(args, { cwd: this.opts.dir })
  }
}
