#!/usr/bin/env node
/**
 * Instructions per query for the three paths (blocked, cached, upstream
 * miss), counted by valgrind instead of timed: on a shared machine wall
 * clock is noise, instruction counts are not. Builds the whole gateway
 * (default config, shipped lists, `workers: 1`) in this process and hands
 * N queries straight to its QueryHandler with a sink that counts answers,
 * so the client side's socket costs nothing; a miss goes to a real upstream
 * on loopback (bench/soak-upstream.mjs, another process) through the real
 * upstream sockets, WINDOW queries in flight at a time.
 *
 *   SOAK_TTL=3600 node bench/soak-upstream.mjs 25450 &
 *   for n in 2000 12000; do
 *     valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
 *       node bench/miss-path-cost.mjs miss $n 25450 2>&1 | grep 'Collected'
 *   done
 *   # (I(12000) - I(2000)) / 10000 = instructions per miss, warm-up excluded
 *
 * Modes: blocked (random subdomains of the shipped tiktok names, A/AAAA),
 * cached (1,000 hot names asked once before, then Zipf-ish repeats), miss
 * (every name new), driver (builds the same queries as cached and answers
 * nothing: the driver's own share, to subtract). Prints answers by rcode.
 * With node --expose-gc it also prints the heap after a full collection:
 * two miss runs (N1, N2 new names) give the memory per cache entry.
 * Usage: node bench/miss-path-cost.mjs MODE N UPSTREAM_PORT [WINDOW=16]
 */
import { readFileSync } from 'node:fs'
import pino from 'pino'
import { Registry } from 'prom-client'
import { validate } from '../dist/config/load-config.js'
import { createGateway } from '../dist/gateway.js'
import { loadLists } from '../dist/lists/load-lists.js'

const [mode = 'miss', nArg = '1000', port = '25450', windowArg = '16'] = process.argv.slice(2)
const N = Number(nArg)
const WINDOW = Number(windowArg)
const root = new URL('../', import.meta.url).pathname
const raw = {
  listen: { dns: ['127.0.0.1:0'], admin: '' },
  upstream: { servers: [`127.0.0.1:${port}`] },
  blocking: { dir: `${root}blocklists` },
  log: { level: 'warn' },
}
const cfg = validate(raw, 'bench')
const logger = pino({ level: 'warn' }, { write: () => {} })
const gw = await createGateway({ config: cfg, file: null, blocklistDir: cfg.blocking.dir, exemptionsFile: `${root}blocklists/exemptions.yaml` }, { logger, registry: new Registry(), listLoader: loadLists })

let seed = 1
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const blockedNames = readFileSync(`${root}blocklists/tiktok.txt`, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))
const OPT = Buffer.from('0000291000000000000000', 'hex')
/** A query with EDNS (as dnsperf and stub resolvers send), ID from `i`; the name's dots become label lengths. */
function wire(name, type, i) {
  const q = Buffer.allocUnsafe(12 + name.length + 2 + 4 + OPT.length)
  q.writeUInt16BE(i & 0xffff, 0)
  q.writeUInt16BE(0x0100, 2)
  q.writeUInt16BE(1, 4)
  q.writeUInt32BE(0, 6) // AN, NS
  q.writeUInt16BE(1, 10)
  q.write(name, 13, 'latin1')
  let len = 12
  for (let o = 13; o <= 13 + name.length; o++) {
    if (o === 13 + name.length || q[o] === 0x2e) {
      q[len] = o - len - 1
      len = o
    }
  }
  q[13 + name.length] = 0
  q.writeUInt16BE(type, 14 + name.length)
  q.writeUInt16BE(1, 16 + name.length)
  OPT.copy(q, 18 + name.length)
  return q
}
const nameFor = (m, i) =>
  m === 'blocked' ? `x${Math.floor(rnd() * 1e5)}.${blockedNames[Math.floor(rnd() * blockedNames.length)]}`
  : m === 'miss' ? `u${i}-${Math.floor(rnd() * 1e9)}.bench.test`
  : `h${Math.floor(1000 * Math.pow(rnd(), 3))}.bench.test`
const typeFor = (m) => (m === 'blocked' && rnd() < 0.5 ? 28 : 1)

const rcodes = new Map()
let answered = 0
let onAnswer = () => {}
const sink = {
  send(w) {
    const rc = w[3] & 0xf
    rcodes.set(rc, (rcodes.get(rc) ?? 0) + 1)
    answered++
    onAnswer()
  },
  dropped() { answered++; onAnswer() },
}
/** Sends `count` queries of mode `m`, at most WINDOW in flight; resolves when all are answered. */
function drive(m, count, nameOf = (i) => nameFor(m, i)) {
  const base = answered
  let sent = 0
  let pumping = false
  return new Promise((resolve) => {
    const pump = () => {
      pumping = true
      while (sent < count && sent - (answered - base) < WINDOW) {
        const q = wire(nameOf(sent), typeFor(m), sent)
        sent++
        if (m === 'driver') sink.dropped()
        else gw.handler.handle(q, '127.0.0.1', 5353, 'udp', sink)
      }
      pumping = false
      if (answered - base === count) resolve()
    }
    onAnswer = () => { if (!pumping) pump() }
    pump()
  })
}

// Cached: every hot name asked once first, through the upstream.
if (mode === 'cached') await drive('warm', 1000, (i) => `h${i}.bench.test`)
await drive(mode, N)
const memory = {}
if (typeof globalThis.gc === 'function') {
  // With --expose-gc: what is left after a full collection, for the cost of a cache entry (run two N, divide the difference).
  await new Promise((r) => setTimeout(r, 50))
  globalThis.gc()
  globalThis.gc()
  const m = process.memoryUsage()
  Object.assign(memory, { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss, cacheBytes: gw.cache?.bytes })
}
console.log(JSON.stringify({ mode, n: N, answered, rcodes: Object.fromEntries(rcodes), cache: gw.cache?.entries, rssMiB: Math.round(process.memoryUsage().rss / 1048576), ...memory }))
await gw.close(100)
if (process.env.HEAP_SNAPSHOT) (await import('node:v8')).writeHeapSnapshot(process.env.HEAP_SNAPSHOT)
