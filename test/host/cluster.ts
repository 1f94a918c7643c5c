/**
 * Cluster mode as an operator runs it (`workers: 2`): the built CLI as a
 * child process; queries spread over both workers; /metrics aggregates them;
 * a reload reaches every worker; a dead worker is replaced; SIGTERM exits 0.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tcpAsk, udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { ensureBuilt } from '../fixtures/built-cli.js'

// Several real service starts (each a primary and its workers): well past the default per-file timeout on a busy runner.
t.setTimeout(240_000)


const until = async (check: () => Promise<boolean> | boolean, ms = 10_000) => {
  for (let i = 0; i < ms / 50; i++) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

t.test('two workers behind one port', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-cluster-'))
  // Below Linux's ephemeral range (32768+), so no outgoing socket holds it.
  const port = 22000 + 2 * Math.floor(Math.random() * 5000)
  const admin = port + 1
  writeFileSync(join(dir, 'dnsvakt.yaml'), `workers: 2\nlisten:\n  dns: ["127.0.0.1:${port}"]\n  admin: "127.0.0.1:${admin}"\nupstream:\n  servers: ["127.0.0.1:${up.port}"]\n`)
  const child = spawn(process.execPath, [ensureBuilt(), 'serve', '--config', join(dir, 'dnsvakt.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
  t.teardown(() => void child.kill('SIGKILL'))
  const get = async (path: string) => (await fetch(`http://127.0.0.1:${admin}${path}`)).text()
  t.ok(await until(async () => (await fetch(`http://127.0.0.1:${admin}/readyz`).catch(() => null))?.status === 200), 'ready once both workers are')

  const n = 40
  for (let i = 0; i < n; i++) await udpAsk(port, { name: `q${i}.example.test` })
  t.equal((await udpAsk(port, { name: 'tiktok.com' })).rcode, 'NXDOMAIN')
  t.equal((await tcpAsk(port, { name: 'tcp.example.test' })).rcode, 'NOERROR')
  const metrics = await get('/metrics')
  t.match(metrics, new RegExp(`dnsvakt_dns_queries_total\\{transport="udp",qtype="A",result="forwarded"\\} ${n}\\b`), 'counts from both workers add up')
  t.match(metrics, /dnsvakt_dns_queries_total\{transport="udp",qtype="A",result="blocked"\} 1\b/)

  const status = JSON.parse(await get('/v1/status')) as { workers: Array<{ pid: number; listVersion: string }>; lists: { version: string } }
  t.equal(status.workers.length, 2)
  t.ok(status.workers.every((w) => w.listVersion === status.lists.version), 'every worker serves the same lists')

  child.kill('SIGHUP')
  t.ok(await until(() => (out.match(/"event":"lists-reloaded","trigger":"SIGHUP"/g) ?? []).length === 2), 'the reload reached both workers')

  process.kill(status.workers[0].pid, 'SIGKILL')
  t.ok(await until(async () => {
    const s = JSON.parse(await get('/v1/status')) as { workers: Array<{ pid: number }> }
    return s.workers.length === 2 && !s.workers.some((w) => w.pid === status.workers[0].pid) && (await fetch(`http://127.0.0.1:${admin}/readyz`)).status === 200
  }), 'a dead worker is replaced')
  t.match(out, /"event":"worker-died"/)
  t.equal((await udpAsk(port, { name: 'after.example.test' })).rcode, 'NOERROR')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM: exit 0')
})
