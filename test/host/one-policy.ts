/**
 * One policy per host, with real processes: the primary checks the lists
 * once and workers serve only what it accepted. After a refused reload, a
 * replacement worker (after a crash) used to read the folder from scratch
 * and serve what its siblings refused; now it starts on the primary's
 * version, and reload and status report every worker.
 */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { startCli, until } from '../fixtures/built-cli.js'

// Several real service starts (each a primary and its workers): well past the default per-file timeout on a busy runner.
t.setTimeout(240_000)

interface Status {
  lists: { version: string }
  workers: Array<{ pid: number; listVersion: string }>
}
interface Reload {
  ok: boolean
  version: string
  problems: string[]
  workers: Array<{ pid: number; ok: boolean; version: string }>
}

t.test('after a refused reload and a killed worker, every answer still follows the accepted lists', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-one-policy-'))
  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\n')
  writeFileSync(join(dir, 'telegram.txt'), 'telegram.org\n')
  const svc = await startCli(
    t,
    `workers: 2\nlisten:\n  dns: ["127.0.0.1:0"]\n  admin: "127.0.0.1:0"\nupstream:\n  servers: ["127.0.0.1:${up.port}"]\nblocking:\n  dir: "${dir}"\n  watchInterval: 1h\nadmin:\n  token: "a-long-enough-token"\ngroups:\n  default: { enforce: [tiktok, telegram] }\n`,
  )
  const get = async <T>(path: string) => (await (await fetch(`${svc.admin}${path}`)).json()) as T
  const reload = async () => {
    const r = await fetch(`${svc.admin}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer a-long-enough-token' } })
    return { status: r.status, body: (await r.json()) as Reload }
  }
  const before = await get<Status>('/v1/status')

  // A good reload: acknowledged by both workers, with the version each serves.
  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\nnewly.example\n')
  const good = await reload()
  t.equal(good.status, 200)
  t.not(good.body.version, before.lists.version)
  t.same(good.body.workers.map((w) => [w.ok, w.version]), [[true, good.body.version], [true, good.body.version]], 'both workers report the new version')

  // A change that would unblock telegram.org, with a broken line: refused as a whole.
  writeFileSync(join(dir, 'telegram.txt'), 'not a valid name!\n')
  const refused = await reload()
  t.equal(refused.status, 422)
  t.equal(refused.body.ok, false)
  t.match(refused.body.problems.join('\n'), /telegram\.txt:1/)
  t.equal(refused.body.workers.length, 2)
  t.ok(refused.body.workers.every((w) => w.ok && w.version === good.body.version), 'every worker still on the accepted version')
  t.match(await (await fetch(`${svc.admin}/metrics`)).text(), /dnsvakt_lists_reloads_total\{result="failure"\} 1\b/, 'the refusal is counted once')

  // A worker dies; its replacement must not read the folder (it would serve telegram.org).
  const victim = before.workers[0]!.pid
  process.kill(victim, 'SIGKILL')
  t.ok(
    await until(async () => {
      const s = await get<Status>('/v1/status')
      return s.workers.length === 2 && !s.workers.some((w) => w.pid === victim) && (await fetch(`${svc.admin}/readyz`)).status === 200
    }),
    'replaced, and ready again',
  )
  const after = await get<Status>('/v1/status')
  t.same(after.workers.map((w) => w.listVersion), [good.body.version, good.body.version], 'the replacement starts on the primary version')
  const answers: string[] = []
  for (let i = 0; i < 20; i++) answers.push((await udpAsk(svc.dnsPort, { name: 'telegram.org', id: i + 1 })).rcode)
  t.same(answers, new Array(20).fill('NXDOMAIN'), '20 of 20 blocked')
  t.equal((await udpAsk(svc.dnsPort, { name: 'newly.example' })).rcode, 'NXDOMAIN')
  svc.child.kill('SIGTERM')
  t.equal(await svc.exited, 0)
})
