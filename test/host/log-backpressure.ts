/**
 * A log destination that blocks, tried with the built CLI whose stdout is a
 * pipe nobody reads: thousands of decision-log lines later the gateway still
 * answers, at most about the bounded queue (1 MiB) waited in it, every line
 * is either written or counted in dnsvakt_log_dropped_lines_total, and
 * SIGTERM still ends it (pino's own exit flush waited on the pipe forever).
 * Before, the lines queued without a bound (~3.5 MiB per 10,000 lines).
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { udpAsk } from '../fixtures/dns-client.js'
import { ensureBuilt, until } from '../fixtures/built-cli.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'

t.setTimeout(180_000)

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
const BLOCKED = Buffer.from('0000010000010000000000000674696b746f6b03636f6d0000010001', 'hex') // tiktok.com A, RD

/** `n` queries for a blocked name, paced in small bursts so the kernel does not drop them. */
async function flood(port: number, n: number): Promise<void> {
  const s = createSocket('udp4')
  for (let i = 0; i < n; i++) {
    s.send(BLOCKED, port, '127.0.0.1')
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5))
  }
  await new Promise((r) => setTimeout(r, 200))
  s.close()
}

const metric = async (admin: string, re: RegExp) => Number(re.exec(await (await fetch(`${admin}/metrics`)).text())?.[1] ?? NaN)
const BLOCKED_TOTAL = /dnsvakt_policy_blocked_total\{category="tiktok",group="default",caught_by="name"\} (\d+)/
const DROPPED = /dnsvakt_log_dropped_lines_total (\d+)/

t.test('stdout never read: bounded queue, lines counted, DNS answered, SIGTERM exits', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-stuck-'))
  const port = 24000 + 2 * Math.floor(Math.random() * 4000)
  const admin = `http://127.0.0.1:${port + 1}`
  writeFileSync(join(dir, 'dnsvakt.yaml'), `workers: 1\nlisten:\n  dns: ["127.0.0.1:${port}"]\n  admin: "127.0.0.1:${port + 1}"\nupstream:\n  servers: ["127.0.0.1:${up.port}"]\n`)
  const child = spawn(process.execPath, [ensureBuilt(), 'serve', '--config', join(dir, 'dnsvakt.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => void child.kill('SIGKILL'))
  child.stdout!.pause()
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
  t.ok(await until(async () => (await fetch(`${admin}/readyz`).catch(() => null))?.status === 200, 60_000), `serving ${stderr}`)

  const before = rssMiB(child.pid!)
  await flood(port, 20_000)
  t.ok(await until(async () => (await metric(admin, BLOCKED_TOTAL)) > 15_000), 'the flood was answered')
  t.equal((await udpAsk(port, { name: 'tiktok.com' })).rcode, 'NXDOMAIN', 'still answering, stdout stuck')
  t.equal((await udpAsk(port, { name: 'fine.example.test' })).rcode, 'NOERROR', 'forwarding too')
  const blocked = await metric(admin, BLOCKED_TOTAL)
  const dropped = await metric(admin, DROPPED)
  const after = rssMiB(child.pid!)
  t.comment(`${blocked} blocked lines, ${dropped} dropped; RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MiB`)
  t.ok(dropped > 10_000, 'most lines were dropped and counted')
  // A loose check (the heap moves under a flood); the exact bound is the byte count below.
  t.ok(after - before < 40, 'RSS stayed within reason')

  // Read what was queued: at most the pipe's contents and the 1 MiB queue, and each line written or counted.
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stdout!.resume()
  let last = -1
  t.ok(await until(async () => {
    const quiet = out.length === last
    last = out.length
    return quiet && out.length > 0
  }, 20_000), 'the queue drained')
  const written = out.split('\n').filter((l) => l.includes('"event":"blocked"')).length
  t.equal(written + dropped, blocked, `every blocked line written (${written}) or counted as dropped (${dropped})`)
  t.ok(Buffer.byteLength(out) < 2 * 1024 * 1024, `${Buffer.byteLength(out)} bytes were waiting (the flood made ~${Math.round((blocked * 330) / 1048576)} MiB of lines)`)

  // Stuck again, then SIGTERM: the exit does not wait on the pipe.
  child.stdout!.pause()
  child.stdout!.removeAllListeners('data')
  await flood(port, 5000)
  child.kill('SIGTERM')
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))])
  t.equal(code, 0, 'SIGTERM with stdout stuck: exit 0')
})
