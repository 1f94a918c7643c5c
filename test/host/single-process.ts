/**
 * The service as an operator runs it: admin endpoints over real HTTP, and the
 * built-in git sync picking up a pushed commit with no restart.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { validate } from '../../src/config/load-config.js'
import { startService } from '../../src/host/single-process.js'
import { loadLists } from '../../src/lists/load-lists.js'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { SHIPPED_LISTS } from '../fixtures/gateway-harness.js'

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Editor', '-c', 'user.email=e@example.test', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim()

const silent = () => pino({ level: 'silent' })

t.test('admin API', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const config = validate({ listen: { dns: ['127.0.0.1:0'], admin: '127.0.0.1:0' }, upstream: { servers: [`127.0.0.1:${up.port}`] }, admin: { token: 's3cret-token' } }, 'test')
  const svc = await startService({ config, file: null, blocklistDir: SHIPPED_LISTS, exemptionsFile: join(SHIPPED_LISTS, 'exemptions.yaml') }, { logger: silent(), listLoader: loadLists })
  t.teardown(() => svc.stop(100))
  const base = `http://127.0.0.1:${svc.admin!.port}`
  t.equal((await fetch(`${base}/healthz`)).status, 200)
  t.equal((await fetch(`${base}/readyz`)).status, 200)
  await udpAsk(svc.gateway.dns[0].port, { name: 'www.tiktok.com' })
  const metrics = await (await fetch(`${base}/metrics`)).text()
  t.match(metrics, /dnsvakt_dns_queries_total\{transport="udp",qtype="A",result="blocked"\} 1/)
  const status = (await (await fetch(`${base}/v1/status`)).json()) as { lists: { categories: Array<{ category: string; domains: number }> }; upstreams: Array<{ upstream: string; up: boolean }> }
  t.ok(status.lists.categories.find((c) => c.category === 'tiktok' && c.domains > 50))
  t.same(status.upstreams, [{ upstream: `127.0.0.1:${up.port}`, up: true, consecutiveFailures: 0 }])
  const explained = (await (await fetch(`${base}/v1/explain?name=WWW.TikTok.com&client=10.1.2.3&type=AAAA`)).json()) as { decision: string; matches: Array<{ category: string; file: string; line: number }>; summary: string }
  t.equal(explained.decision, 'blocked')
  t.match(explained.matches[0], { category: 'tiktok', file: 'tiktok.txt' })
  t.ok(explained.matches[0].line > 0, 'names the line')
  t.equal((await fetch(`${base}/v1/explain?name=x.test&client=not-an-ip`)).status, 400)
  t.equal((await fetch(`${base}/v1/explain`)).status, 400)
  t.equal((await fetch(`${base}/v1/reload`, { method: 'POST' })).status, 401, 'no token')
  t.equal((await fetch(`${base}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer wrong-token!' } })).status, 401)
  const ok = await fetch(`${base}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer s3cret-token' } })
  t.equal(ok.status, 200)
  t.match(await ok.json(), { ok: true })
  t.equal((await fetch(`${base}/nope`)).status, 404)
})

t.test('an empty admin token disables reload instead of accepting a missing header', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const config = validate({ listen: { dns: ['127.0.0.1:0'], admin: '127.0.0.1:0' }, upstream: { servers: [`127.0.0.1:${up.port}`] } }, 'test')
  const svc = await startService({ config, file: null, blocklistDir: SHIPPED_LISTS, exemptionsFile: join(SHIPPED_LISTS, 'exemptions.yaml') }, { logger: silent(), listLoader: loadLists, env: { DNSVAKT_ADMIN_TOKEN: '' } })
  t.teardown(() => svc.stop(100))
  const r = await fetch(`http://127.0.0.1:${svc.admin!.port}/v1/reload`, { method: 'POST' })
  t.equal(r.status, 403)
  const r2 = await fetch(`http://127.0.0.1:${svc.admin!.port}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer ' } })
  t.equal(r2.status, 403)
})

t.test('built-in git sync: a pushed commit is blocked within the interval, a broken one is refused', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-serve-git-'))
  const remote = join(root, 'lists.git')
  const editor = join(root, 'editor')
  git(root, 'init', '-q', '--bare', remote)
  git(root, 'clone', '-q', remote, editor)
  writeFileSync(join(editor, 'tiktok.txt'), 'tiktok.com\n')
  git(editor, 'add', '.')
  git(editor, 'commit', '-q', '-m', 'lists')
  git(editor, 'push', '-q', 'origin', 'HEAD:main')
  const dir = join(root, 'served')
  const config = validate(
    {
      listen: { dns: ['127.0.0.1:0'], admin: '127.0.0.1:0' },
      upstream: { servers: [`127.0.0.1:${up.port}`] },
      blocking: { dir, git: { url: remote, branch: 'main', interval: '200ms' }, watchInterval: '1h' },
      groups: { default: { enforce: ['tiktok'] } },
    },
    'test',
  )
  const svc = await startService({ config, file: null, blocklistDir: dir, exemptionsFile: join(dir, 'exemptions.yaml') }, { logger: silent(), listLoader: loadLists })
  t.teardown(() => svc.stop(100))
  const port = svc.gateway.dns[0].port
  t.equal((await udpAsk(port, { name: 'pushed.example' })).rcode, 'NOERROR')

  writeFileSync(join(editor, 'tiktok.txt'), 'tiktok.com\npushed.example\n')
  git(editor, 'commit', '-q', '-am', 'block pushed.example')
  git(editor, 'push', '-q', 'origin', 'HEAD:main')
  const commit = git(editor, 'rev-parse', 'HEAD')
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 50; i++) {
      if (await check()) return true
      await new Promise((r) => setTimeout(r, 100))
    }
    return false
  }
  t.ok(await until(async () => (await udpAsk(port, { name: 'pushed.example' })).rcode === 'NXDOMAIN'), 'blocked within a few intervals')
  const metrics = await (await fetch(`http://127.0.0.1:${svc.admin!.port}/metrics`)).text()
  t.match(metrics, new RegExp(`dnsvakt_lists_info\\{version="${commit}"\\} 1`), 'new commit visible in /metrics')

  writeFileSync(join(editor, 'tiktok.txt'), 'tiktok.com\npushed.example\nbroken line with spaces\n')
  git(editor, 'commit', '-q', '-am', 'broken')
  git(editor, 'push', '-q', 'origin', 'HEAD:main')
  t.ok(
    await until(async () => /dnsvakt_lists_reloads_total\{result="failure"\} [1-9]/.test(await svc.gateway.metrics.registry.metrics())),
    'failure counted',
  )
  t.equal(svc.gateway.store.snapshot.version, commit, 'the last good commit keeps serving')
  t.equal((await udpAsk(port, { name: 'pushed.example' })).rcode, 'NXDOMAIN')
})
