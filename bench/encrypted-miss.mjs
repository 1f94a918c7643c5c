// Miss cost of encrypted upstreams beside plain UDP: one Unbound on loopback answers every name
// under bench.test from local data, over UDP, DoT (tls-service-key) and DoH (https-port, nghttp2).
// dnsvakt's UpstreamPool (dist/, run `npm run build` first) sends N sequential misses, then N misses
// 32 at a time, to each, and reports wall latency per exchange (p50/p99) and this process's CPU per
// exchange (user+sys from process.cpuUsage). The first exchange of an encrypted upstream pays the
// TLS handshake; it is reported apart ("first").
// usage: node bench/encrypted-miss.mjs [--n 2000]
// Numbers on a shared 2-core machine are rough: wall latency moves with whatever else runs, CPU per
// exchange less so. Compare the three columns with each other, not with other machines.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UpstreamPool } from '../dist/upstream/upstream-pool.js'

const n = Number(process.argv[process.argv.indexOf('--n') + 1] || 2000)
const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-encbench-'))
const [udp, dot, doh] = [25410, 25411, 25412]

execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
  '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=bench.test', '-addext', 'subjectAltName=DNS:bench.test,IP:127.0.0.1'], { stdio: 'ignore' })
writeFileSync(join(dir, 'unbound.conf'), `server:
  interface: 127.0.0.1@${udp}
  interface: 127.0.0.1@${dot}
  interface: 127.0.0.1@${doh}
  tls-port: ${dot}
  https-port: ${doh}
  http-notls-downstream: no
  tls-service-key: "${join(dir, 'key.pem')}"
  tls-service-pem: "${join(dir, 'cert.pem')}"
  access-control: 127.0.0.0/8 allow
  do-daemonize: no
  use-syslog: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  num-threads: 1
  module-config: "iterator"
  msg-cache-size: 0
  rrset-cache-size: 0
  local-zone: "bench.test." redirect
  local-data: "bench.test. 60 IN A 192.0.2.1"
`)
const unbound = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: 'ignore' })
process.on('exit', () => unbound.kill())

async function waitFor(port) {
  for (let i = 0; i < 100; i++) {
    if (await new Promise((r) => { const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true) }); s.on('error', () => r(false)) })) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`unbound did not open ${port}`)
}

function query(i) {
  const labels = [`m${i}x${Math.random().toString(36).slice(2, 8)}`, 'bench', 'test']
  const len = labels.reduce((a, l) => a + l.length + 1, 0) + 1
  const b = Buffer.alloc(12 + len + 4 + 11)
  b.writeUInt16BE(0x0100, 2); b.writeUInt16BE(1, 4); b.writeUInt16BE(1, 10)
  let o = 12
  for (const l of labels) { b[o++] = l.length; o += b.write(l, o, 'ascii') }
  b[o++] = 0; b.writeUInt16BE(1, o); b.writeUInt16BE(1, o + 2); o += 4
  b[o] = 0; b.writeUInt16BE(41, o + 1); b.writeUInt16BE(1232, o + 3)
  return b
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]

async function measure(name, target) {
  const pool = new UpstreamPool([target], { caFile: join(dir, 'cert.pem'), tryTimeoutMs: 2000, deadlineMs: 4000 })
  const t0 = performance.now()
  await pool.exchange(query(-1))
  const first = performance.now() - t0
  for (let i = 0; i < 200; i++) await pool.exchange(query(-2 - i)) // warm up
  const lat = []
  let cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const s = performance.now()
    await pool.exchange(query(i))
    lat.push((performance.now() - s) * 1000)
  }
  const seqCpu = process.cpuUsage(cpu)
  lat.sort((a, b) => a - b)
  cpu = process.cpuUsage()
  const w0 = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: 32 }, async () => { while (next < n) await pool.exchange(query(n + next++)) }))
  const parWall = performance.now() - w0
  const parCpu = process.cpuUsage(cpu)
  pool.close()
  return {
    upstream: name,
    'first (ms)': first.toFixed(2),
    'p50 (µs)': Math.round(pct(lat, 0.5)),
    'p99 (µs)': Math.round(pct(lat, 0.99)),
    'CPU/miss seq (µs)': Math.round((seqCpu.user + seqCpu.system) / n),
    'CPU/miss x32 (µs)': Math.round((parCpu.user + parCpu.system) / n),
    'x32 misses/s': Math.round(n / (parWall / 1000)),
  }
}

await Promise.all([waitFor(dot), waitFor(doh)])
const rows = []
rows.push(await measure('udp', { address: '127.0.0.1', port: udp }))
rows.push(await measure('tls (DoT)', { address: '127.0.0.1', port: dot, protocol: 'tls', serverName: 'bench.test', pins: [] }))
rows.push(await measure('https (DoH)', { address: '127.0.0.1', port: doh, protocol: 'https', serverName: 'bench.test', pins: [], path: '/dns-query' }))
console.table(rows)
console.log(`node ${process.version}, ${n} misses each, Unbound ${execFileSync('unbound', ['-V']).toString().split('\n')[0]} on loopback`)
process.exit(0)
