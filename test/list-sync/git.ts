/**
 * The one git runner: stdout on success, and a typed GitError that tells a
 * missing git, a timeout and a refusal apart (with git's own words).
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GitError, gitReason, runGit } from '../../src/list-sync/git.js'

t.test('stdout on success, with per-call -c settings', async (t) => {
  t.match(await runGit(['--version'], { cwd: null }), /^git version /)
  t.equal((await runGit(['config', 'dnsvakt.probe'], { cwd: null, config: { 'dnsvakt.probe': 'yes' } })).trim(), 'yes')
})

t.test('git says no: kind "failed", its exit code and stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-gitrun-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const e = await runGit(['rev-parse', '--verify', 'HEAD'], { cwd: dir }).catch((x: unknown) => x)
  t.ok(e instanceof GitError)
  t.match(e, { kind: 'failed', exitCode: 128, stderr: /not a git repository/i })
  t.match((e as GitError).firstLine, /not a git repository/i)
  t.match(gitReason(e), /not a git repository/i)
  await runGit(['init', '-q'], { cwd: dir })
  const quiet = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: dir }).catch((x: unknown) => x)
  t.match(quiet, { kind: 'failed', exitCode: 1, stderr: '' })
  t.ok((quiet as GitError).detail.length > 0, 'a silent failure still has a detail')
  t.equal(gitReason(new Error('plain')), 'plain')
})

t.test('a git that does not answer in time is killed: kind "timeout"', async (t) => {
  const started = process.hrtime.bigint()
  const e = await runGit(['-c', 'alias.wait=!sleep 30', 'wait'], { cwd: null, timeoutMs: 300 }).catch((x: unknown) => x)
  t.match(e, { kind: 'timeout' })
  t.ok(process.hrtime.bigint() - started < 25_000_000_000n, 'it did not wait for git to finish')
})

t.test('no git binary: kind "missing"', async (t) => {
  const path = process.env.PATH
  process.env.PATH = '/nonexistent'
  t.teardown(() => void (process.env.PATH = path))
  t.match(await runGit(['--version'], { cwd: null }).catch((x: unknown) => x), { kind: 'missing', message: /not installed/ })
})
