/**
 * The dnsvakt command as a user runs it: a child process of the built CLI
 * (compiled by `npm run build` into dist/ first), real sockets, real signals.
 */
import t from 'tap'
import { execFile, spawn, spawnSync } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { udpAsk } from './fixtures/dns-client.js'
import { startFakeUpstream } from './fixtures/fake-upstream.js'
import { ROOT, ensureBuilt } from './fixtures/built-cli.js'
import { requireTool } from './fixtures/tool.js'

const root = ROOT
const cli = ensureBuilt()
const execFileAsync = promisify(execFile)
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 })

t.test('--version and --help', async (t) => {
  const v = run('--version')
  t.equal(v.status, 0)
  t.match(v.stdout, /^\d+\.\d+\.\d+\n$/)
  const h = run('--help')
  t.equal(h.status, 0)
  t.match(h.stdout, /check-config FILE/)
  t.equal(run('frobnicate').status, 2)
})

t.test('check-config: the example passes; a broken file lists every problem', async (t) => {
  const ok = run('check-config', 'deploy/dnsvakt.example.yaml')
  t.equal(ok.status, 0, ok.stdout + ok.stderr)
  t.match(ok.stdout, /OK/)
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-cli-'))
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, 'listen:\n  dns: ["not-an-address"]\nupstream:\n  deadline: 3\ncolour: blue\n')
  const r = run('check-config', bad)
  t.equal(r.status, 1)
  t.match(r.stdout, /listen\.dns\.0/)
  t.match(r.stdout, /upstream\.deadline/)
  t.match(r.stdout, /colour/)
  writeFileSync(bad, 'groups:\n  staff:\n    networks: ["10.0.0.0/8"]\n    enforce: [tiktok, facebook]\n')
  const r2 = run('check-config', bad)
  t.equal(r2.status, 1)
  t.match(r2.stdout, /groups\.staff\.enforce: no list for category "facebook"/)
  writeFileSync(bad, 'listen:\n  dns: ["127.0.0.1:53"]\nupstream:\n  servers: ["127.0.0.1:53"]\n')
  const r3 = run('check-config', bad)
  t.equal(r3.status, 1)
  t.match(r3.stdout, /127\.0\.0\.1:53 is dnsvakt's own listener \(a forwarding loop\)/)
})

t.test('explain says why, naming the list file and line', async (t) => {
  const r = run('explain', 'www.tiktok.com')
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /Blocked: client 127\.0\.0\.1 is in group "default", which enforces "tiktok"; the name matches tiktok\.com \(tiktok\.txt:\d+\)/)
  const ok = run('explain', 'example.org', '--client', '10.1.1.1')
  t.match(ok.stdout, /Not blocked by name/)
})

t.test('serve: answers, reloads on SIGHUP, exits 0 on SIGTERM', async (t) => {
  requireTool('dig')
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-cli-serve-'))
  // Below Linux's ephemeral range (32768+), so no outgoing socket holds it.
  const port = 20000 + Math.floor(Math.random() * 10000)
  const cfg = join(dir, 'dnsvakt.yaml')
  writeFileSync(cfg, `workers: 1\nlisten:\n  dns: ["127.0.0.1:${port}"]\n  admin: ""\nupstream:\n  servers: ["127.0.0.1:${up.port}"]\nblocking:\n  dir: ${join(root, 'blocklists')}\n`)
  const child = spawn(process.execPath, [cli, 'serve', '--config', cfg], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => void child.kill('SIGKILL')) // a failed assertion must not leave the gateway running
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  for (let i = 0; i < 400 && !out.includes('dnsvakt is serving'); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(out, /dnsvakt is serving/)
  t.equal((await udpAsk(port, { name: 'tiktok.com' })).rcode, 'NXDOMAIN')
  t.equal((await udpAsk(port, { name: 'example.test' })).rcode, 'NOERROR')
  // A real client, as the README shows: BIND's dig reads our EDE and TCP answers.
  // Asynchronous: the fake upstream lives in this process and must keep answering while dig waits.
  const dig = async (...a: string[]) => (await execFileAsync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', ...a], { encoding: 'utf8' })).stdout
  t.match(await dig('www.tiktok.com'), /status: NXDOMAIN[\s\S]*EDE: 15 \(Blocked\): \(Blocked by municipal ICT rules \(NSM 2023\)\)/)
  t.match(await dig('+tcp', 'www.example.test'), /status: NOERROR[\s\S]*192\.0\.2\.1/)
  const first = /www2\.example\.test\.\s+(\d+)\s+IN\s+A/.exec(await dig('www2.example.test'))
  await new Promise((r) => setTimeout(r, 1100))
  const again = /www2\.example\.test\.\s+(\d+)\s+IN\s+A/.exec(await dig('www2.example.test'))
  t.ok(first && again && Number(again[1]) < Number(first[1]), 'a repeat comes from the cache with a lower TTL')
  child.kill('SIGHUP')
  for (let i = 0; i < 100 && !out.includes('lists reloaded'); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(out, /"trigger":"SIGHUP"/)
  up.setRule('inflight.test', { delay: 300 })
  const pending = udpAsk(port, { name: 'inflight.test' })
  await new Promise((r) => setTimeout(r, 50))
  child.kill('SIGTERM')
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
  t.equal(code, 0, 'exit 0')
  t.equal((await pending).rcode, 'NOERROR', 'the in-flight query was answered before exit')
})

t.test('serve: a busy port is one line naming the key and the address, exit 1, no stack trace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-cli-busy-'))
  const port = 20000 + Math.floor(Math.random() * 10000)
  const serve = (listen: string) => {
    const cfg = join(dir, 'dnsvakt.yaml')
    writeFileSync(cfg, `workers: 1\nlisten:\n${listen}upstream:\n  servers: ["192.0.2.1:53"]\n`)
    return new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'serve', '--config', cfg], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      child.on('exit', (code) => resolve({ code, stderr }))
    })
  }
  const udp = createSocket('udp4')
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', () => r()))
  const dns = await serve(`  dns: ["127.0.0.1:${port}"]\n  admin: ""\n`)
  udp.close()
  t.equal(dns.code, 1, 'exit 1')
  t.equal(dns.stderr, `dnsvakt: listen.dns: cannot listen on 127.0.0.1:${port} (UDP): the port is already in use (another DNS server, or dnsvakt already running?)\n`)

  const http = createServer()
  await new Promise<void>((r) => http.listen(port, '127.0.0.1', () => r()))
  const admin = await serve(`  dns: ["127.0.0.1:${port + 1}"]\n  admin: "127.0.0.1:${port}"\n`)
  http.close()
  t.equal(admin.code, 1, 'exit 1, though the DNS listeners were already open')
  t.equal(admin.stderr, `dnsvakt: listen.admin: cannot listen on 127.0.0.1:${port} (HTTP): the port is already in use (another DNS server, or dnsvakt already running?)\n`)
})

t.test('a config error at serve is listed by key, exit 1, no stack trace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-cli-cfg-'))
  const cfg = join(dir, 'dnsvakt.yaml')
  writeFileSync(cfg, 'listen:\n  dns: ["127.0.0.1"]\n')
  const r = run('serve', '--config', cfg)
  t.equal(r.status, 1)
  t.equal(r.stderr, `dnsvakt: invalid config ${cfg}:\n  - listen.dns.0: expected "IP:port" (the port is required) such as "127.0.0.1:53", got "127.0.0.1"\n`)
  const u = run('explain', '--client')
  t.equal(u.status, 2, 'an option without its value is a usage error')
  t.equal(u.stderr, 'dnsvakt: --client needs a value\n')
})
