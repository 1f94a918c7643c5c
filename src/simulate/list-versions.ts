/**
 * The two list versions `dnsvakt simulate` compares, as folders the gateway's
 * own loader can read: a folder as it is, or the list folder at a git
 * revision, exported with `git archive` into a temporary folder (the working
 * tree is never touched, so this runs in CI on any checkout).
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DnsvaktError } from '../errors.js'

const run = promisify(execFile)

export interface ListSource {
  /** How the user named it: the folder, or "REV (commit)". */
  readonly label: string
  /** A folder holding the list files. */
  readonly dir: string
  /** The git commit for a revision; null for a folder (the loader works out its version). */
  readonly commit: string | null
  /** Removes what was exported (nothing for a folder). */
  dispose(): Promise<void>
}

export const folderSource = (dir: string): ListSource => ({ label: dir, dir, commit: null, dispose: async () => {} })

/**
 * The list folder `listDir` (inside a git work tree) as it was at `rev`.
 * Throws DNSVAKT_ERR_GIT when the revision or the folder at it cannot be read.
 */
export async function revisionSource(listDir: string, rev: string): Promise<ListSource> {
  const git = async (args: string[], cwd = listDir): Promise<string> => {
    try {
      return (await run('git', ['-C', cwd, ...args], { timeout: 30_000 })).stdout.trim()
    } catch (cause) {
      const stderr = ((cause as { stderr?: string }).stderr ?? '').trim()
      throw new DnsvaktError('DNSVAKT_ERR_GIT', `cannot read the lists at ${JSON.stringify(rev)}: git ${args[0]} failed: ${stderr || 'not a commit in this repository'}`, { cause })
    }
  }
  const top = await git(['rev-parse', '--show-toplevel'])
  const prefix = await git(['rev-parse', '--show-prefix'])
  // Resolved first, so a revision can never be taken for an option.
  const commit = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])
  const dir = await mkdtemp(join(tmpdir(), 'dnsvakt-simulate-'))
  try {
    await exportTree(top, `${commit}:${prefix.replace(/\/$/, '')}`, dir)
  } catch (cause) {
    await rm(dir, { recursive: true, force: true })
    throw new DnsvaktError('DNSVAKT_ERR_GIT', `cannot export ${prefix || 'the repository root'} at ${rev} (${commit.slice(0, 12)}): ${(cause as Error).message}`, { cause })
  }
  return { label: `${rev} (${commit.slice(0, 12)})`, dir, commit, dispose: () => rm(dir, { recursive: true, force: true }) }
}

/** `git archive TREE | tar -x -C dir`, failing when either side does. */
function exportTree(repo: string, tree: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = spawn('git', ['-C', repo, 'archive', '--format=tar', tree], { stdio: ['ignore', 'pipe', 'pipe'] })
    const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] })
    let errors = ''
    archive.stderr.on('data', (d: Buffer) => { errors += d.toString() })
    tar.stderr.on('data', (d: Buffer) => { errors += d.toString() })
    archive.stdout.pipe(tar.stdin)
    tar.stdin.on('error', () => {}) // tar gone early: its exit code tells why
    const codes: number[] = []
    const done = (code: number | null): void => {
      codes.push(code ?? 1)
      if (codes.length < 2) return
      if (codes.every((c) => c === 0)) resolve()
      else reject(new Error(errors.trim().split('\n')[0] || `git archive or tar exited with ${codes.join('/')}`))
    }
    archive.on('error', reject).on('close', done)
    tar.on('error', reject).on('close', done)
  })
}
