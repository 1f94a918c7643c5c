/**
 * GitSync against real git: a bare repository on disk as the remote, SSH
 * commit signatures made with ssh-keygen keys, `git verify-commit` deciding.
 * Signed history only moves forward: a force-pushed rollback is refused
 * unless the operator accepts that one commit.
 */
import t, { type Test } from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { runAcceptLists } from '../../src/commands/accept-lists-command.js'
import { acceptFileFor, GitSync, type GitSyncOptions, type SyncOutcome } from '../../src/list-sync/git-sync.js'
import { allowedSigners, createListRepo, git, sshKey } from '../fixtures/git-repo.js'

const repo = (t: Test) => {
  const r = createListRepo('dnsvakt-gitsync-')
  t.teardown(() => r.remove())
  return r
}
const options = (dir: string, url: string, extra: Partial<GitSyncOptions> = {}): GitSyncOptions =>
  ({ dir, url, branch: 'main', intervalMs: 60_000, requireSignedCommits: false, allowedSigners: null, ...extra })

t.test('unsigned mode: clone, then each new commit is checked out and reloaded', async (t) => {
  const { root, remote, commit } = repo(t)
  const c1 = commit({ 'tiktok.txt': 'tiktok.com\n' }, 'first')
  const dir = join(root, 'served')
  const updated: string[] = []
  const outcomes: SyncOutcome[] = []
  const sync = new GitSync(options(dir, remote), async (c) => void updated.push(c), (o) => outcomes.push(o))
  await sync.prepare()
  t.equal(git(dir, 'rev-parse', 'HEAD'), c1)
  t.same(await sync.sync(), { kind: 'unchanged', commit: c1 })
  const c2 = commit({ 'tiktok.txt': 'tiktok.com\nnew.example\n' }, 'second')
  t.same(await sync.sync(), { kind: 'updated', from: c1, to: c2 })
  t.same(updated, [c2])
  t.equal(readFileSync(join(dir, 'tiktok.txt'), 'utf8'), 'tiktok.com\nnew.example\n')
  t.equal(outcomes.length, 2)
})

t.test('signed mode: only commits signed by an allowed signer are served', async (t) => {
  const { root, remote, commit } = repo(t)
  const good = sshKey(root, 'officer')
  const other = sshKey(root, 'intruder')
  const signers = allowedSigners(root, good)
  const c1 = commit({ 'tiktok.txt': 'tiktok.com\n' }, 'first', good)
  const dir = join(root, 'served')
  const updated: string[] = []
  const sync = new GitSync(options(dir, remote, { requireSignedCommits: true, allowedSigners: signers }), async (c) => void updated.push(c))
  await sync.prepare()

  const c2 = commit({ 'tiktok.txt': 'tiktok.com\nsigned.example\n' }, 'signed', good)
  t.match(await sync.sync(), { kind: 'updated', to: c2 })

  const c3 = commit({ 'tiktok.txt': 'tiktok.com\n' }, 'unsigned')
  const refused = await sync.sync()
  t.match(refused, { kind: 'refused', commit: c3, code: 'unsigned' })
  t.equal(git(dir, 'rev-parse', 'HEAD'), c2, 'the unsigned commit was not checked out')

  const c4 = commit({ 'tiktok.txt': 'x.example\n' }, 'signed by someone else', other)
  t.match(await sync.sync(), { kind: 'refused', commit: c4 }, 'a range holding an unsigned commit is refused as a whole')
  t.same(updated, [c2])
  t.not(c1, c2)
})

t.test('a force-pushed rollback to an older signed commit is refused, until the operator accepts it', async (t) => {
  const { root, remote, commit, forcePush } = repo(t)
  const key = sshKey(root, 'officer')
  const signers = allowedSigners(root, key)
  const exempt = 'exemptions:\n  - {id: RA-1, client: 10.0.0.1, categories: [telegram], reason: r, approvedBy: a, expires: 2027-01-01}\n'
  const withExemption = commit({ 'telegram.txt': 'telegram.org\n', 'exemptions.yaml': exempt }, 'grant RA-1', key)
  const revoked = commit({ 'exemptions.yaml': 'exemptions: []\n' }, 'revoke RA-1', key)
  const dir = join(root, 'served')
  const updated: string[] = []
  const sync = new GitSync(options(dir, remote, { requireSignedCommits: true, allowedSigners: signers }), async (c) => void updated.push(c))
  await sync.prepare()
  t.equal(git(dir, 'rev-parse', 'HEAD'), revoked)

  forcePush(withExemption)
  const refused = await sync.sync()
  t.match(refused, { kind: 'refused', commit: withExemption, code: 'not-descendant' })
  t.match((refused as { reason: string }).reason, /does not descend from the served commit .*dnsvakt accept-lists/)
  t.equal(git(dir, 'rev-parse', 'HEAD'), revoked, 'the revoked exemption stays revoked')
  t.equal(readFileSync(join(dir, 'exemptions.yaml'), 'utf8'), 'exemptions: []\n')
  t.match(await sync.sync(), { kind: 'refused', code: 'not-descendant' }, 'and on every later sync')

  // An acceptance of another commit does not open the door.
  writeFileSync(acceptFileFor(dir), `${revoked}\n`)
  t.match(await sync.sync(), { kind: 'refused', code: 'not-descendant' })
  writeFileSync(acceptFileFor(dir), `${withExemption}\n`)
  t.same(await sync.sync(), { kind: 'updated', from: revoked, to: withExemption, rewrite: true }, 'the accepted commit is served')
  t.same(updated, [withExemption])
  t.throws(() => readFileSync(acceptFileFor(dir)), 'an acceptance is used once')
})

t.test('an accepted rewrite still needs signatures; allowRewrite accepts any descendant-less signed tip', async (t) => {
  const { root, remote, commit, forcePush } = repo(t)
  const key = sshKey(root, 'officer')
  const signers = allowedSigners(root, key)
  const base = commit({ 'tiktok.txt': 'tiktok.com\n' }, 'base', key)
  commit({ 'tiktok.txt': 'tiktok.com\nb.example\n' }, 'second', key)
  const dir = join(root, 'served')
  const sync = new GitSync(options(dir, remote, { requireSignedCommits: true, allowedSigners: signers, allowRewrite: true }), async () => {})
  await sync.prepare()
  // A rewritten history whose tip is unsigned: refused for the signature, even with rewrites allowed.
  git(root, 'clone', '-q', remote, join(root, 'rewriter'))
  const rewriter = join(root, 'rewriter')
  git(rewriter, 'reset', '-q', '--hard', base)
  writeFileSync(join(rewriter, 'tiktok.txt'), 'other.example\n')
  git(rewriter, 'commit', '-q', '-am', 'rewritten, unsigned')
  git(rewriter, 'push', '-q', '--force', 'origin', 'HEAD:main')
  t.match(await sync.sync(), { kind: 'refused', code: 'unsigned' })
  forcePush(base)
  t.match(await sync.sync(), { kind: 'updated', to: base, rewrite: true }, 'a signed rollback with allowRewrite')
})

t.test('at start: HEAD is verified when signatures are required, and a changed url is applied', async (t) => {
  const { root, remote, commit } = repo(t)
  const key = sshKey(root, 'officer')
  const signers = allowedSigners(root, key)
  commit({ 'tiktok.txt': 'tiktok.com\n' }, 'signed', key)
  const dir = join(root, 'served')
  const signed = options(dir, remote, { requireSignedCommits: true, allowedSigners: signers })
  t.same(await new GitSync(signed, async () => {}).prepare(), { remoteChanged: null })
  // Someone commits by hand in the served clone: the next start refuses to serve it.
  writeFileSync(join(dir, 'tiktok.txt'), 'nothing.example\n')
  git(dir, 'commit', '-q', '-am', 'edited on the server')
  await t.rejects(new GitSync(signed, async () => {}).prepare(), { code: 'DNSVAKT_ERR_GIT', message: /checked-out commit .* is refused: commit .* is not signed/ })
  await t.resolves(new GitSync({ ...signed, requireSignedCommits: false }, async () => {}).prepare(), 'without signatures required it is not checked')

  // A new remote (the list repository moved): applied to the existing clone.
  const moved = join(root, 'moved.git')
  git(root, 'clone', '-q', '--bare', remote, moved)
  const prepared = await new GitSync({ ...signed, url: moved, requireSignedCommits: false }, async () => {}).prepare()
  t.same(prepared, { remoteChanged: { from: remote, to: moved } })
  t.equal(git(dir, 'remote', 'get-url', 'origin'), moved, 'the clone now fetches from the new url')
})

t.test('prepare refuses a folder that is neither empty nor a checkout, and a bad remote', async (t) => {
  const { root, remote } = repo(t)
  const dir = join(root, 'busy')
  mkdirSync(dir)
  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\n')
  const opts = { url: remote, branch: 'main', intervalMs: 1000, requireSignedCommits: false, allowedSigners: null }
  await t.rejects(new GitSync({ ...opts, dir }, async () => {}).prepare(), { code: 'DNSVAKT_ERR_GIT' })
  await t.rejects(new GitSync({ ...opts, dir: join(root, 'empty'), url: join(root, 'nowhere.git') }, async () => {}).prepare(), { code: 'DNSVAKT_ERR_GIT' })
})

t.test('dnsvakt accept-lists REV: the operator accepts one refused rollback', async (t) => {
  const { root, remote, commit, forcePush } = repo(t)
  const first = commit({ 'tiktok.txt': 'tiktok.com\n' }, 'first')
  const second = commit({ 'tiktok.txt': 'tiktok.com\nb.example\n' }, 'second')
  const dir = join(root, 'served')
  const sync = new GitSync(options(dir, remote), async () => {})
  await sync.prepare()
  const config = join(root, 'dnsvakt.yaml')
  writeFileSync(config, `blocking:\n  dir: served\n  git:\n    url: ${remote}\n`)
  const run = async (...args: string[]) => {
    let text = ''
    const out = new Writable({ write(chunk, _e, cb) { text += String(chunk); cb() } })
    return { code: await runAcceptLists(args, out), text }
  }

  t.match(await run(second.slice(0, 12), '--config', config), { code: 0, text: /descends from the served commit: nothing to accept/ })
  forcePush(first)
  t.match(await sync.sync(), { kind: 'refused', code: 'not-descendant' })
  t.match(await run('nosuchref', '--config', config), { code: 1, text: /cannot resolve "nosuchref"/ })
  t.match(await run(first.slice(0, 12), '--config', config), { code: 0, text: new RegExp(`accepted ${first}`) })
  t.same(await sync.sync(), { kind: 'updated', from: second, to: first, rewrite: true })
  t.equal(git(dir, 'rev-parse', 'HEAD'), first)

  for (const args of [[], ['a', 'b'], ['--config'], ['--bogus']]) t.equal((await run(...args)).code, 2, `usage: ${JSON.stringify(args)}`)
  const noGit = join(root, 'plain.yaml')
  writeFileSync(noGit, 'blocking:\n  dir: served\n')
  t.match(await run(first, '--config', noGit), { code: 2, text: /blocking.git is not set/ })
})
