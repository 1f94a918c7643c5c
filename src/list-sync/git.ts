/**
 * The one way dnsvakt runs the system `git`: git sync, the list version and
 * `lint-lists --against` all go through here. Every call has a timeout, never
 * prompts for credentials (a sync must not hang on a password prompt), and
 * fails with a typed GitError carrying git's own first words of stderr, so
 * callers can tell "git is missing" from "git said no" without parsing.
 */
import { execFile } from 'node:child_process'

export interface GitOptions {
  /** Folder git runs in (`git -C`); null for commands that need none (clone). */
  readonly cwd: string | null
  /** Default 60 s: a fetch over a slow link, never forever. */
  readonly timeoutMs?: number
  /** `-c key=value` settings for this call only. */
  readonly config?: Readonly<Record<string, string>>
  /** Largest stdout accepted; default 64 MiB (`git show` of a big list). */
  readonly maxBuffer?: number
}

export type GitFailure = 'missing' | 'timeout' | 'failed'

export class GitError extends Error {
  constructor(
    /** missing: no git binary; timeout: killed after timeoutMs; failed: git exited non-zero. */
    readonly kind: GitFailure,
    readonly args: readonly string[],
    /** git's stderr, trimmed (at most 500 characters); may be empty (`--quiet`). */
    readonly stderr: string,
    readonly exitCode: number | null,
    /** Node's description, for when git said nothing. */
    fallback: string,
  ) {
    super(`git ${args[0] ?? ''} ${kind === 'timeout' ? 'timed out' : kind === 'missing' ? 'is not installed' : 'failed'}: ${stderr || fallback}`)
    this.name = 'GitError'
    this.detail = (stderr || fallback).slice(0, 500)
  }

  /** git's stderr, or what went wrong when it said nothing. */
  readonly detail: string

  /** The first line of git's complaint, for log lines and refusal reasons. */
  get firstLine(): string {
    return this.detail.split('\n')[0]
  }
}

/** Runs `git [-c k=v]... [-C cwd] args...` and resolves with stdout. Rejects with GitError. */
export function runGit(args: readonly string[], opts: GitOptions): Promise<string> {
  const config = Object.entries(opts.config ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`])
  const argv = [...config, ...(opts.cwd === null ? [] : ['-C', opts.cwd]), ...args]
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      argv,
      {
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024,
        encoding: 'utf8',
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C' },
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout)
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string }
        const said = stderr.trim().slice(0, 500)
        if (e.code === 'ENOENT') reject(new GitError('missing', args, '', null, e.message))
        else if (e.killed || e.signal === 'SIGTERM') reject(new GitError('timeout', args, said, null, `no answer within ${opts.timeoutMs ?? 60_000} ms`))
        else reject(new GitError('failed', args, said, typeof e.code === 'number' ? e.code : null, e.message))
      },
    )
  })
}

/** A short reason from anything a git step threw. */
export function gitReason(e: unknown): string {
  if (e instanceof GitError) return e.detail
  return ((e as Error)?.message ?? String(e)).slice(0, 500)
}
