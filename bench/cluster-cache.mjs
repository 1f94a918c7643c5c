// What N cluster workers cost the upstream: each worker has its own cache, so
// a name asked again may land on a worker that has not seen it. Starts a
// counting UDP upstream (this process) and dnsvakt (dist/, `npm run build`
// first) with workers 1 and 2 (or --workers "1,2,4"), sends the same Zipf
// load over a fixed set of names to each and reports how many upstream
// queries each worker count caused. Bounded: QUERIES queries per run, sent
// in paced bursts; loopback only.
// usage: node bench/cluster-cache.mjs [--queries 20000] [--names 2000] [--workers 1,2]
import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import packet from 'dns-packet'

const argv = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d }
const QUERIES = Number(argv('queries', '20000')), NAMES = Number(argv('names', '2000'))
const WORKERS = argv('workers', '1,2').split(',').map(Number)
const ROOT = resolve(new URL('..', import.meta.url).pathname)
const UP = 26600, GW = 26601

// Zipf(s=1) over NAMES names with a fixed seed: the same sequence for every run.
let seed = 7
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const weights = Array.from({ length: NAMES }, (_, i) => 1 / (i + 1))
const total = weights.reduce((a, b) => a + b, 0)
const cdf = []; let acc = 0
for (const w of weights) cdf.push((acc += w / total))
const pick = () => { const r = rnd(); let lo = 0, hi = NAMES - 1; while (lo < hi) { const m = (lo + hi) >> 1; if (cdf[m] < r) lo = m + 1; else hi = m } return lo }
const sequence = Array.from({ length: QUERIES }, pick)

async function upstream() {
  const sock = dgram.createSocket('udp4')
  let count = 0
  sock.on('message', (msg, rinfo) => {
    count++
    const q = packet.decode(msg)
    const reply = packet.encode({ id: q.id, type: 'response', flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE, questions: q.questions,
      answers: [{ name: q.questions[0].name, type: 'A', ttl: 3600, data: '192.0.2.1' }] })
    sock.send(reply, rinfo.port, rinfo.address)
  })
  await new Promise((r) => sock.bind(UP, '127.0.0.1', r))
  return { get count() { return count }, reset() { count = 0 }, close: () => sock.close() }
}

async function run(workers, up) {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-cluster-cache-'))
  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\n')
  writeFileSync(join(dir, 'cfg.yaml'), `workers: ${workers}\nlisten: { dns: ["127.0.0.1:${GW}"], admin: "127.0.0.1:${GW + 1}" }\nupstream: { servers: ["127.0.0.1:${UP}"] }\nblocking: { dir: ${dir}, watchInterval: 1h }\ngroups: { default: { enforce: [tiktok] } }\nlog: { level: warn }\n`)
  const gw = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'serve', '--config', join(dir, 'cfg.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] })
  try {
    for (let i = 0; i < 200; i++) {
      const ok = await fetch(`http://127.0.0.1:${GW + 1}/readyz`).then((r) => r.ok, () => false)
      if (ok) break
      await new Promise((r) => setTimeout(r, 100))
    }
    up.reset()
    const client = dgram.createSocket('udp4')
    let answered = 0
    client.on('message', () => answered++)
    await new Promise((r) => client.bind(0, '127.0.0.1', r))
    const started = Date.now()
    for (let i = 0; i < QUERIES; i += 100) {
      for (let j = i; j < Math.min(i + 100, QUERIES); j++) {
        client.send(packet.encode({ id: j & 0xffff, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: `name${sequence[j]}.example`, type: 'A' }] }), GW, '127.0.0.1')
      }
      await new Promise((r) => setTimeout(r, 5)) // paced: about 20,000 q/s at most
      if (Date.now() - started > 60_000) break
    }
    await new Promise((r) => setTimeout(r, 500))
    client.close()
    const distinct = new Set(sequence).size
    return { workers, queries: QUERIES, answered, distinctNames: distinct, upstreamQueries: up.count, ratio: +(up.count / distinct).toFixed(2) }
  } finally {
    gw.kill('SIGTERM')
    await new Promise((r) => gw.once('exit', r))
  }
}

const up = await upstream()
const results = []
for (const w of WORKERS) results.push(await run(w, up))
up.close()
console.table(results)
console.log('ratio = upstream queries per distinct name (1.00 = one shared cache)')
