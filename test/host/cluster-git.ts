/**
 * `blocking.git` on a fresh host: the folder does not exist yet, and the
 * service must clone before it loads. This used to work with one process and
 * exit at start with workers (the primary loaded first). Also: /v1/status
 * has one shape whatever the worker count.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { startCli } from '../fixtures/built-cli.js'

// Several real service starts (each a primary and its workers): well past the default per-file timeout on a busy runner.
t.setTimeout(240_000)

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Editor', '-c', 'user.email=e@example.test', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

/** A bare repository holding one reviewed list commit; returns its path and the commit. */
function listRemote(): { remote: string; commit: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-host-git-'))
  const remote = join(root, 'lists.git')
  const editor = join(root, 'editor')
  git(root, 'init', '-q', '--bare', remote)
  git(root, 'clone', '-q', remote, editor)
  writeFileSync(join(editor, 'tiktok.txt'), 'tiktok.com\n')
  writeFileSync(join(editor, 'telegram.txt'), 'telegram.org\n')
  git(editor, 'add', '.')
  git(editor, 'commit', '-q', '-m', 'lists')
  git(editor, 'push', '-q', 'origin', 'HEAD:main')
  return { remote, commit: git(editor, 'rev-parse', 'HEAD'), root }
}

const config = (workers: number, dir: string, remote: string, upstream: number) => `workers: ${workers}
listen:
  dns: ["127.0.0.1:0"]
  admin: "127.0.0.1:0"
upstream:
  servers: ["127.0.0.1:${upstream}"]
blocking:
  dir: "${dir}"
  watchInterval: 1h
  git: { url: "${remote}", branch: main, interval: 1h }
groups:
  default: { enforce: [tiktok, telegram] }
`

type Status = Record<string, unknown> & { lists: { version: string }; workers: Array<Record<string, unknown> & { listVersion: string }> }

t.test('workers: 2 with blocking.git on an empty folder clones, then serves', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const { remote, commit, root } = listRemote()
  const svc = await startCli(t, config(2, join(root, 'not-yet-cloned'), remote, up.port))
  t.equal(svc.started.workers, 2)
  t.same(svc.started.upstreams, [`127.0.0.1:${up.port}`], 'the start log names the upstreams in cluster mode')
  t.match(svc.started.dns, [{ address: '127.0.0.1', port: svc.dnsPort }], 'and the listeners')
  t.equal((await udpAsk(svc.dnsPort, { name: 'tiktok.com' })).rcode, 'NXDOMAIN')
  t.equal((await udpAsk(svc.dnsPort, { name: 'example.org' })).rcode, 'NOERROR')
  const status = (await (await fetch(`${svc.admin}/v1/status`)).json()) as Status
  t.equal(status.lists.version, commit, 'serves the cloned commit')
  t.equal(status.workers.length, 2)
  t.ok(status.workers.every((w) => w.listVersion === commit), 'every worker on it')
  t.equal((await fetch(`${svc.admin}/readyz`)).status, 200)
  svc.child.kill('SIGTERM')
  t.equal(await svc.exited, 0)
})

t.test('/v1/status has the same shape with one worker and with two', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const { remote, root } = listRemote()
  const shapes: Array<{ top: string[]; worker: string[]; upstreams: unknown; cache: unknown }> = []
  for (const workers of [1, 2]) {
    const svc = await startCli(t, config(workers, join(root, `served-${workers}`), remote, up.port))
    const s = (await (await fetch(`${svc.admin}/v1/status`)).json()) as Status
    t.equal(s.workers.length, workers)
    shapes.push({ top: Object.keys(s).sort(), worker: Object.keys(s.workers[0]!).sort(), upstreams: s.upstreams, cache: s.cache })
    svc.child.kill('SIGTERM')
    t.equal(await svc.exited, 0)
  }
  t.same(shapes[1]!.top, shapes[0]!.top, 'same top-level keys')
  t.same(shapes[0]!.top, ['cache', 'exemptions', 'listeners', 'lists', 'upstreams', 'version', 'workers'])
  t.same(shapes[1]!.worker, shapes[0]!.worker, 'same keys per worker')
  t.same(shapes[1]!.upstreams, shapes[0]!.upstreams, 'upstream health merged over workers')
  t.same(shapes[1]!.cache, { entries: 0, bytes: 0 })
})
