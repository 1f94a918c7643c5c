/**
 * With workers, the last good state (blocking.stateDir) is the primary's: a
 * start on a folder a reload would refuse serves the last good lists in
 * every worker, and /metrics and /v1/status say so (workers keep no state of
 * their own, so they learn it from the primary).
 */
import t from 'tap'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { startCli } from '../fixtures/built-cli.js'

// Two real service starts (each a primary and its workers): well past the default per-file timeout on a busy runner.
t.setTimeout(240_000)

t.test('a cluster started on a broken folder serves the last good lists everywhere and says so', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-last-good-'))
  const dir = join(root, 'lists')
  mkdirSync(dir)
  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\nlast-good.example\n')
  const yaml = `workers: 2\nlisten:\n  dns: ["127.0.0.1:0"]\n  admin: "127.0.0.1:0"\nupstream:\n  servers: ["127.0.0.1:${up.port}"]\nblocking:\n  dir: "${dir}"\n  stateDir: "${join(root, 'state')}"\n  watchInterval: 1h\ngroups:\n  default: { enforce: [tiktok] }\n`
  const first = await startCli(t, yaml)
  const good = ((await (await fetch(`${first.admin}/v1/status`)).json()) as { lists: { version: string } }).lists.version
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0)

  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\nnot a valid name!\n')
  const second = await startCli(t, yaml)
  const status = (await (await fetch(`${second.admin}/v1/status`)).json()) as { lists: { version: string; servingLastGood: { version: string } | null }; workers: Array<{ listVersion: string }> }
  t.equal(status.lists.version, good)
  t.equal(status.lists.servingLastGood?.version, good)
  t.same(status.workers.map((w) => w.listVersion), [good, good], 'every worker on the last good lists')
  t.match(await (await fetch(`${second.admin}/metrics`)).text(), /^dnsvakt_lists_serving_last_good 1$/m)
  for (let i = 0; i < 6; i++) t.equal((await udpAsk(second.dnsPort, { name: 'last-good.example', id: i + 1 })).rcode, 'NXDOMAIN')
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)
})
