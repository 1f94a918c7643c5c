// Micro-benchmark for DomainTrie: build time and memory for 1,000,000 synthetic
// names, then lookups per second for hits and misses. Plain ESM against the
// compiled output, so it needs no TypeScript loader:
//
//   npm run build && node --expose-gc bench/trie-bench.mjs [--module=path/to/domain-trie.js] [--count=N]
//
// It runs itself twice, in fresh processes so memory figures do not mix:
//   array:  all names held in a string[] first, as the list parser returns them;
//   stream: names handed to build() one at a time by a generator, never all held.
// The names are deterministic (seeded PRNG), so runs on one machine compare.
//
// Instruction counts, which machine contention does not skew (docs/benchmarks.md):
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/trie-bench.mjs --mode=lookups --count=100000 --lookups=N
// runs N hit and N miss lookups and nothing else; the difference between two N is the walk's cost.
// --wildcards=K turns the first K entries into inner-label wildcard entries (p16-w<i>-*.<entry>).
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const modulePath = resolve(arg('module', fileURLToPath(new URL('../dist/lists/domain-trie.js', import.meta.url))))
const count = Number(arg('count', 1_000_000))
const mode = arg('mode', '')
const lookupCount = Number(arg('lookups', 0))
const wildcards = Number(arg('wildcards', 0))

/** mulberry32: small, seeded, good enough for test data. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), seed | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

// Roughly the mix of a large public block list: mostly .com, a long tail of
// ccTLDs and two-label public suffixes, second-level labels of 3-20 characters.
const TLDS = [
  ['com', 40], ['net', 8], ['org', 5], ['io', 3], ['ru', 4], ['cn', 4], ['de', 3], ['no', 2], ['xyz', 3], ['info', 3],
  ['top', 3], ['co.uk', 2], ['com.br', 2], ['co.jp', 1], ['com.au', 1], ['fr', 2], ['nl', 2], ['pl', 2], ['in', 2],
  ['site', 2], ['online', 2], ['app', 1], ['dev', 1], ['me', 1], ['tv', 1],
]
const TLD_TABLE = TLDS.flatMap(([tld, weight]) => Array(weight).fill(tld))
const SUBS = ['www', 'cdn', 'api', 'static', 'img', 'm', 'ads', 'track', 'log', 'p16-va', 'v16-web', 'edge', 'mail']
const LETTERS = Buffer.from('abcdefghijklmnopqrstuvwxyz')
const CHARS = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789-')
const DOT = 0x2e

/**
 * Names are written byte by byte into one buffer and decoded once, so each is
 * a single flat string (as when read from a file) and generating a million of
 * them leaves almost no garbage to inflate the RSS being measured.
 */
function generator(seed, prefix = '') {
  const random = prng(seed)
  const int = (n) => Math.floor(random() * n)
  const buf = Buffer.alloc(512)
  let pos = 0
  const put = (s) => { pos += buf.write(s, pos, 'latin1') }
  const word = (min, max) => {
    const length = min + int(max - min + 1)
    // Letters at both ends, so a hyphen never starts or ends a label.
    for (let i = 0; i < length; i++) buf[pos++] = i === 0 || i === length - 1 ? LETTERS[int(26)] : CHARS[int(CHARS.length)]
  }
  return () => {
    pos = 0
    put(prefix)
    const r = random()
    // 70% registrable domains, 25% one subdomain, 5% two to four more levels.
    if (r > 0.95) for (let d = 2 + int(3); d > 0; d--) { word(1, 10); buf[pos++] = DOT }
    if (r > 0.7) { if (random() < 0.5) put(SUBS[int(SUBS.length)]); else word(2, 12); buf[pos++] = DOT }
    word(3, 20)
    buf[pos++] = DOT
    put(TLD_TABLE[int(TLD_TABLE.length)])
    return buf.toString('latin1', 0, pos)
  }
}

const mb = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`
const gc = () => { if (globalThis.gc) { globalThis.gc(); globalThis.gc() } }
const memory = () => { gc(); return process.memoryUsage() }
const peakRss = () => process.resourceUsage().maxRSS * 1024

/** One measurement in this process; returns the rows as [label, value] pairs. */
async function measure() {
  const { DomainTrie } = await import(pathToFileURL(modulePath).href)
  const base = memory()
  let names = null
  let source
  if (mode === 'array') {
    const next = generator(1)
    names = new Array(count)
    for (let i = 0; i < count; i++) names[i] = next()
    source = names
  } else {
    source = { *[Symbol.iterator]() { const next = generator(1); for (let i = 0; i < count; i++) yield next() } }
  }
  const before = memory()
  const t0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  const trie = DomainTrie.build(source)
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6
  const buildCpu = process.cpuUsage(cpu0)
  // In stream mode the generator runs inside build(); time it alone to subtract.
  let generateMs = 0
  if (mode === 'stream') {
    const g0 = process.hrtime.bigint()
    const next = generator(1)
    for (let i = 0; i < count; i++) next()
    generateMs = Number(process.hrtime.bigint() - g0) / 1e6
  }
  const built = memory()
  const peakBuild = peakRss()

  // Hits: the first names again (same seed) with a label in front; misses: another
  // seed with a prefix, so they walk as deep as real traffic does.
  const Q = 200_000
  const scratch = Buffer.alloc(512)
  const again = generator(1)
  const hits = Array.from({ length: Q }, () => { const n = again(); return scratch.toString('latin1', 0, scratch.write(`www.${n}`, 'latin1')) })
  const misses = Array.from({ length: Q }, generator(2, 'q'))
  // Rates are per CPU-second of this process (process.cpuUsage), so other load on a shared
  // machine shows up less than in wall-clock time; the wall-clock budget only bounds the run.
  const lookups = (queries, budgetMs, trie) => {
    let found = 0
    let done = 0
    const cpu = process.cpuUsage()
    const deadline = process.hrtime.bigint() + BigInt(budgetMs) * 1_000_000n
    while (done < 5_000_000 && process.hrtime.bigint() < deadline) {
      for (let i = 0; i < queries.length; i++) if (trie.match(queries[i]) >= 0) found++
      done += queries.length
    }
    const used = process.cpuUsage(cpu)
    return { perSecond: done / ((used.user + used.system) / 1e6), hitRate: found / done, done }
  }
  lookups(hits, 200, trie) // warm-up, so both measurements see optimised code
  lookups(misses, 200, trie)
  const hit = lookups(hits, 2000, trie)
  const miss = lookups(misses, 2000, trie)
  // The shipped lists hold a few hundred names: a trie that fits in cache is the everyday case.
  const small = DomainTrie.build(hits.slice(0, 1000).map((h) => h.slice(4)))
  const smallHit = lookups(hits.slice(0, 1000), 1000, small)
  const smallMiss = lookups(misses, 1000, small)
  names = null
  const rate = (r) => `${(r.perSecond / 1e6).toFixed(2)} M per CPU-s (${r.done.toLocaleString('en')} lookups, ${(r.hitRate * 100).toFixed(2)}% hits)`
  return [
    ['entries kept (size)', trie.size.toLocaleString('en')],
    ['trie nodes', trie.nodeCount.toLocaleString('en')],
    ['build time, wall clock (CPU)', `${buildMs.toFixed(0)} ms (${((buildCpu.user + buildCpu.system) / 1000).toFixed(0)} ms)`],
    ['of which generating the names (stream mode)', `${generateMs.toFixed(0)} ms`],
    ['RSS, Node baseline', mb(base.rss)],
    ['RSS before build (names held in array mode)', mb(before.rss)],
    ['RSS after build', mb(built.rss)],
    ['peak RSS up to the end of build', mb(peakBuild)],
    ['heapUsed after build', mb(built.heapUsed)],
    ['trie typed arrays (arrayBuffers after build)', mb(built.arrayBuffers)],
    ['hit lookups (www.<entry>)', rate(hit)],
    ['miss lookups', rate(miss)],
    ['hit lookups, 1,000-name trie', rate(smallHit)],
    ['miss lookups, 1,000-name trie', rate(smallMiss)],
    ['peak RSS, whole run (incl. 400k query strings)', mb(peakRss())],
  ]
}

/** Builds a trie and runs `lookupCount` hit and miss lookups with no timers, for instruction counts. */
async function lookupsOnly() {
  const { DomainTrie } = await import(pathToFileURL(modulePath).href)
  const next = generator(1)
  const names = Array.from({ length: count }, next)
  // The first K entries become patterns hung below them, so 1 in 10 hit queries (www.<entry>) walks
  // past a flagged node, tests its pattern, fails, and ends as a miss: the cost wildcards add.
  for (let i = 0; i < wildcards; i++) names[i] = `p16-w${i}-*.${names[i]}`
  const trie = DomainTrie.build(names)
  const again = generator(1)
  const hits = Array.from({ length: 10_000 }, () => `www.${again()}`)
  const misses = Array.from({ length: 10_000 }, generator(2, 'q'))
  let found = 0
  for (let i = 0; i < lookupCount; i++) {
    if (trie.match(hits[i % hits.length]) >= 0) found++
    if (trie.match(misses[i % misses.length]) >= 0) found++
  }
  console.log(JSON.stringify({ size: trie.size, lookups: lookupCount * 2, found }))
}

if (mode === 'lookups') {
  await lookupsOnly()
} else if (mode !== '') {
  console.log(JSON.stringify(await measure()))
} else {
  const runs = ['array', 'stream'].map((m) => {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--mode=${m}`, `--module=${modulePath}`, `--count=${count}`], { encoding: 'utf8' })
    if (child.status !== 0) throw new Error(`${m} run failed: ${child.stderr}`)
    return JSON.parse(child.stdout)
  })
  console.log(`DomainTrie, ${count.toLocaleString('en')} synthetic names, Node ${process.version}, ${globalThis.gc ? 'gc exposed' : 'run with --expose-gc for steadier memory figures'}\n`)
  console.log('| measure | array | stream |\n| --- | --- | --- |')
  runs[0].forEach(([label, value], i) => console.log(`| ${label} | ${value} | ${runs[1][i][1]} |`))
}
