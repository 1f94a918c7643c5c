#!/usr/bin/env node
/**
 * Fires random and mutated packets at a running gateway (the built CLI, one
 * worker) over UDP and TCP: compression loops, lengths past the end, labels
 * over 63, names over 255, zero and many questions, odd opcodes, classes and
 * EDNS options, truncation, trailing junk. The upstream is a black hole (it
 * reads and never answers), so every miss waits for its whole deadline: the
 * worst case for pending state. Checks: the process stays up, RSS stays flat
 * after warm-up, and a valid query is answered at the end.
 *
 *   npm run fuzz                       # 1,000,000 packets
 *   FUZZ_PACKETS=200000 npm run fuzz   # fewer (say so when recording results)
 * Env: FUZZ_PACKETS (1e6), FUZZ_SEED (1), FUZZ_TCP_SHARE (0.05), FUZZ_IDLE_SECONDS (30), FUZZ_PORT (25390), FUZZ_ROOT
 * Prints one JSON summary line; exits 1 if a check fails. Loopback only.
 */
import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import { mkdtempSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mutatedPacket, prng, validQuery } from './fuzz-packets.mjs'

/** FUZZ_ROOT: another checkout's build to compare against (default: this one). */
const ROOT = process.env.FUZZ_ROOT ?? new URL('..', import.meta.url).pathname
const TOTAL = Number(process.env.FUZZ_PACKETS ?? 1_000_000)
const SEED = Number(process.env.FUZZ_SEED ?? 1)
const TCP_SHARE = Number(process.env.FUZZ_TCP_SHARE ?? 0.05)
const IDLE_S = Number(process.env.FUZZ_IDLE_SECONDS ?? 30)
const PORT = Number(process.env.FUZZ_PORT ?? 25390)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const log = (msg) => process.stderr.write(`[fuzz ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN
}

/** Heap and pending state from the gateway's own /metrics: tells a leak from a heap that does not shrink. */
async function memory(pid) {
  const out = { rssMiB: rssMiB(pid) }
  try {
    const text = await (await fetch(`http://127.0.0.1:${PORT + 1}/metrics`)).text()
    const read = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN)
    out.heapUsedMiB = Math.round(read('dnsvakt_nodejs_heap_size_used_bytes') / 104857.6) / 10
    out.heapTotalMiB = Math.round(read('dnsvakt_nodejs_heap_size_total_bytes') / 104857.6) / 10
    out.externalMiB = Math.round(read('dnsvakt_nodejs_external_memory_bytes') / 104857.6) / 10
    out.upstreamPending = read('dnsvakt_upstream_pending')
  } catch { /* admin not answering: RSS only */ }
  return out
}

/** memory() after a full GC in the gateway (forced by a heap snapshot, deleted after). */
async function memoryAfterGc(pid, dir) {
  const before = new Set(readdirSync(dir))
  process.kill(pid, 'SIGUSR2')
  for (let i = 0; i < 600; i++) {
    await sleep(100)
    const snap = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f))
    if (snap === undefined) continue
    const size = statSync(join(dir, snap)).size
    await sleep(500)
    if (statSync(join(dir, snap)).size !== size || size === 0) continue
    unlinkSync(join(dir, snap))
    return memory(pid)
  }
  return memory(pid)
}

async function startGateway(upstreamPort) {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-fuzz-'))
  const cfg = join(dir, 'dnsvakt.yaml')
  writeFileSync(cfg, [
    'workers: 1',
    `listen: { dns: ["127.0.0.1:${PORT}"], admin: "127.0.0.1:${PORT + 1}" }`,
    `upstream: { servers: ["127.0.0.1:${upstreamPort}"] }`, // default tryTimeout 1 s, deadline 3 s
    `blocking: { dir: "${join(ROOT, 'blocklists')}" }`,
    'log: { level: error }',
  ].join('\n'))
  // SIGUSR2 writes a heap snapshot, which runs a full GC first: heap used after it is what is live.
  const child = spawn(process.execPath, ['--heapsnapshot-signal=SIGUSR2', join(ROOT, 'dist/cli.js'), 'serve', '--config', cfg], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'))
  let stderr = ''
  child.stderr.on('data', (d) => void (stderr += d))
  for (let i = 0; i < 100; i++) {
    if ((await ask('udp', validQuery('tiktok.com', 1), 200)) !== null) return { child, dir, stderr: () => stderr }
    if (child.exitCode !== null) throw new Error(`gateway exited: ${stderr}`)
  }
  throw new Error('gateway did not answer within 20 s')
}

/** One query over UDP or TCP; the reply, or null after `ms`. */
function ask(transport, wire, ms = 2000) {
  return new Promise((resolve) => {
    const done = (r) => {
      clearTimeout(timer)
      try { transport === 'udp' ? s.close() : s.destroy() } catch { /* closed */ }
      resolve(r)
    }
    const timer = setTimeout(() => done(null), ms)
    let s
    if (transport === 'udp') {
      s = createSocket('udp4')
      s.on('message', (m) => done(m))
      s.send(wire, PORT, '127.0.0.1')
    } else {
      s = connect({ host: '127.0.0.1', port: PORT })
      let buf = Buffer.alloc(0)
      s.on('error', () => done(null))
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d])
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)))
      })
      s.write(Buffer.concat([Buffer.from([wire.length >> 8, wire.length & 0xff]), wire]))
    }
  })
}

/** A pool of TCP connections that get framed garbage; replaced when the gateway closes them. */
function tcpPool(n) {
  const conns = []
  let closedByServer = 0
  const open = (i) => {
    const s = connect({ host: '127.0.0.1', port: PORT })
    s.on('error', () => {})
    s.on('data', () => {})
    s.on('close', () => {
      if (stopped) return
      closedByServer++
      conns[i] = open(i)
    })
    return s
  }
  let stopped = false
  for (let i = 0; i < n; i++) conns.push(open(i))
  return {
    send(i, pkt) {
      const s = conns[i % n]
      // Sometimes a bogus frame length, sometimes the frame split mid-way.
      const len = pkt.length & 0xffff
      if (s.writable && s.writableLength < 1 << 20) s.write(Buffer.concat([Buffer.from([len >> 8, len & 0xff]), pkt]))
    },
    stop() { stopped = true; for (const s of conns) s.destroy() },
    get closed() { return closedByServer },
  }
}

async function main() {
  const hole = createSocket('udp4')
  let holeGot = 0
  hole.on('message', () => void holeGot++)
  await new Promise((r) => hole.bind(0, '127.0.0.1', r))
  const { child, dir, stderr } = await startGateway(hole.address().port)
  const pid = child.pid
  // Never leave the gateway behind, whatever happens to this script.
  process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'))
  const rnd = prng(SEED)
  const udp = createSocket('udp4')
  await new Promise((r) => udp.bind(0, '127.0.0.1', r))
  let udpReplies = 0
  udp.on('message', () => void udpReplies++)
  const tcp = tcpPool(8)
  const samples = [{ sent: 0, ...(await memoryAfterGc(pid, dir)) }]
  const started = Date.now()
  let rssWarm = NaN
  for (let sent = 0; sent < TOTAL; sent++) {
    const pkt = mutatedPacket(rnd)
    if (rnd() < TCP_SHARE) tcp.send(sent, pkt)
    else udp.send(pkt, PORT, '127.0.0.1')
    if (sent % 500 === 499) await new Promise((r) => setImmediate(r))
    // Paced: the loopback socket buffer would otherwise drop most of them unread.
    if (sent % 5000 === 4999) await sleep(20)
    if (sent % 100_000 === 99_999 || sent === 49_999) {
      if (child.exitCode !== null) break
      const m = await memory(pid)
      if (sent === 49_999) rssWarm = m.rssMiB
      samples.push({ sent: sent + 1, ...m, seconds: Math.round((Date.now() - started) / 1000) })
      log(`${sent + 1} sent, ${JSON.stringify(m)}, ${udpReplies} UDP replies`)
    }
  }
  const end = child.exitCode === null ? await memory(pid) : { rssMiB: NaN }
  const rssEnd = end.rssMiB
  tcp.stop()
  log(`idle ${IDLE_S} s`)
  await sleep(IDLE_S * 1000)
  const idle = child.exitCode === null ? await memory(pid) : { rssMiB: NaN }
  const rssIdle = idle.rssMiB
  const idleAfterGc = child.exitCode === null ? await memoryAfterGc(pid, dir) : { rssMiB: NaN }
  const udpOk = await ask('udp', validQuery('tiktok.com', 4242))
  const tcpOk = await ask('tcp', validQuery('tiktok.com', 4343))
  const answered = (r, id) => r !== null && r.readUInt16BE(0) === id && (r[3] & 0xf) === 3
  const result = {
    date: new Date().toISOString(), packets: TOTAL, seed: SEED, tcpShare: TCP_SHARE,
    seconds: Math.round((Date.now() - started) / 1000), udpReplies, tcpConnectionsClosedByGateway: tcp.closed,
    upstreamQueriesSeen: holeGot, alive: child.exitCode === null, rssWarmMiB: rssWarm, rssEndMiB: rssEnd, rssIdleMiB: rssIdle, end, idle, idleAfterGc,
    validUdpAnswered: answered(udpOk, 4242), validTcpAnswered: answered(tcpOk, 4343), samples,
  }
  child.kill('SIGTERM')
  udp.close()
  hole.close()
  const ok = result.alive && result.validUdpAnswered && result.validTcpAnswered && rssEnd < rssWarm * 1.5 + 20
  console.log(JSON.stringify(result))
  if (!ok) log(`FAILED; gateway stderr:\n${stderr().slice(-2000)}`)
  process.exit(ok ? 0 : 1)
}

main().catch((e) => {
  log(e.stack ?? String(e))
  process.exit(1)
})
