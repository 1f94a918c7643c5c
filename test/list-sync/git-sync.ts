/**
 * GitSync against real git: a bare repository on disk as the remote, SSH
 * commit signatures made with ssh-keygen keys, `git verify-commit` deciding.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GitSync, type SyncOutcome } from '../../src/list-sync/git-sync.js'

const base = ['-c', 'user.name=List Editor', '-c', 'user.email=editor@example.test', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false']
const git = (cwd: string, ...args: string[]) => execFileSync('git', [...base, ...args], { cwd, encoding: 'utf8' }).trim()

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-gitsync-'))
  const remote = join(root, 'lists.git')
  const editor = join(root, 'editor')
  git(root, 'init', '-q', '--bare', remote)
  git(root, 'clone', '-q', remote, editor)
  return { root, remote, editor }
}

function key(root: string, name: string): { path: string; pub: string } {
  const path = join(root, name)
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path])
  return { path, pub: readFileSync(`${path}.pub`, 'utf8').trim() }
}

function commit(editor: string, file: string, text: string, message: string, signingKey?: string) {
  writeFileSync(join(editor, file), text)
  git(editor, 'add', '.')
  const sign = signingKey ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${signingKey}`, 'commit', '-S'] : ['commit']
  git(editor, ...sign, '-q', '-m', message)
  git(editor, 'push', '-q', 'origin', 'HEAD:main')
  return git(editor, 'rev-parse', 'HEAD')
}

t.test('unsigned mode: clone, then each new commit is checked out and reloaded', async (t) => {
  const { root, remote, editor } = setup()
  const c1 = commit(editor, 'tiktok.txt', 'tiktok.com\n', 'first')
  const dir = join(root, 'served')
  const updated: string[] = []
  const outcomes: SyncOutcome[] = []
  const sync = new GitSync({ dir, url: remote, branch: 'main', intervalMs: 60_000, requireSignedCommits: false, allowedSigners: null }, async (c) => void updated.push(c), (o) => outcomes.push(o))
  await sync.prepare()
  t.equal(git(dir, 'rev-parse', 'HEAD'), c1)
  t.same(await sync.sync(), { kind: 'unchanged', commit: c1 })
  const c2 = commit(editor, 'tiktok.txt', 'tiktok.com\nnew.example\n', 'second')
  t.same(await sync.sync(), { kind: 'updated', from: c1, to: c2 })
  t.same(updated, [c2])
  t.equal(readFileSync(join(dir, 'tiktok.txt'), 'utf8'), 'tiktok.com\nnew.example\n')
  t.equal(outcomes.length, 2)
})

t.test('signed mode: only commits signed by an allowed signer are served', async (t) => {
  const { root, remote, editor } = setup()
  const good = key(root, 'officer')
  const other = key(root, 'intruder')
  const signers = join(root, 'allowed_signers')
  writeFileSync(signers, `editor@example.test ${good.pub}\n`)
  const c1 = commit(editor, 'tiktok.txt', 'tiktok.com\n', 'first', good.path)
  const dir = join(root, 'served')
  const updated: string[] = []
  const sync = new GitSync({ dir, url: remote, branch: 'main', intervalMs: 60_000, requireSignedCommits: true, allowedSigners: signers }, async (c) => void updated.push(c))
  await sync.prepare()

  const c2 = commit(editor, 'tiktok.txt', 'tiktok.com\nsigned.example\n', 'signed', good.path)
  t.match(await sync.sync(), { kind: 'updated', to: c2 })

  const c3 = commit(editor, 'tiktok.txt', 'tiktok.com\n', 'unsigned')
  const refused = await sync.sync()
  t.match(refused, { kind: 'refused', commit: c3 })
  t.equal(git(dir, 'rev-parse', 'HEAD'), c2, 'the unsigned commit was not checked out')

  const c4 = commit(editor, 'tiktok.txt', 'x.example\n', 'signed by someone else', other.path)
  t.match(await sync.sync(), { kind: 'refused', commit: c4 }, 'a range holding an unsigned commit is refused as a whole')
  t.same(updated, [c2])
  t.not(c1, c2)
})

t.test('prepare refuses a folder that is neither empty nor a checkout, and a bad remote', async (t) => {
  const { root, remote } = setup()
  const dir = join(root, 'busy')
  mkdirSync(dir)
  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\n')
  const opts = { url: remote, branch: 'main', intervalMs: 1000, requireSignedCommits: false, allowedSigners: null }
  await t.rejects(new GitSync({ ...opts, dir }, async () => {}).prepare(), { code: 'DNSVAKT_ERR_GIT' })
  await t.rejects(new GitSync({ ...opts, dir: join(root, 'empty'), url: join(root, 'nowhere.git') }, async () => {}).prepare(), { code: 'DNSVAKT_ERR_GIT' })
})
