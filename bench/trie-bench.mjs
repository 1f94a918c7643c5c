// Micro-benchmark for DomainTrie: build time and memory for 1,000,000 synthetic
// names, then lookups per second for hits and misses. Plain ESM against the
// compiled output, so it needs no TypeScript loader:
//
//   npm run build && node --expose-gc bench/trie-bench.mjs [path/to/domain-trie.js] [count]
//
// The names are deterministic (seeded PRNG), so runs on one machine compare.
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

const modulePath = process.argv[2] ?? new URL('../dist/blocklist/domain-trie.js', import.meta.url).pathname
const count = Number(process.argv[3] ?? 1_000_000)
const { DomainTrie } = await import(pathToFileURL(resolve(modulePath)).href)

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

const mb = (bytes) => (bytes / 1048576).toFixed(1)
const gc = () => { if (globalThis.gc) { globalThis.gc(); globalThis.gc() } }
const memory = () => { gc(); return process.memoryUsage() }

const base = memory()
const next = generator(1)
let names = new Array(count)
for (let i = 0; i < count; i++) names[i] = next()
const withNames = memory()

const t0 = process.hrtime.bigint()
const trie = DomainTrie.build(names)
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6
const built = memory()
const peakAfterBuild = process.resourceUsage().maxRSS * 1024

// Query sets: hits are entries with an extra label in front; misses come from
// another seed (same shape, so they walk as deep as real traffic does).
const Q = 200_000
const scratch = Buffer.alloc(512)
const flat = (s) => scratch.toString('latin1', 0, scratch.write(s, 'latin1'))
const hits = Array.from({ length: Q }, (_, i) => flat(`www.${names[(i * 7919) % names.length]}`))
const misses = Array.from({ length: Q }, generator(2, 'q'))

function lookups(queries, budgetMs) {
  let found = 0
  let done = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(budgetMs) * 1_000_000n
  while (done < 5_000_000 && process.hrtime.bigint() < deadline) {
    for (let i = 0; i < queries.length; i++) if (trie.match(queries[i]) >= 0) found++
    done += queries.length
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return { perSecond: done / seconds, hitRate: found / done, done }
}
lookups(hits, 200) // warm-up, so both measurements see optimised code
lookups(misses, 200)
const hit = lookups(hits, 2000)
const miss = lookups(misses, 2000)

names = null
const trieOnly = memory()

const rows = [
  ['names', count.toLocaleString('en')],
  ['entries kept (size)', trie.size.toLocaleString('en')],
  ['trie nodes', trie.nodeCount.toLocaleString('en')],
  ['build time', `${buildMs.toFixed(0)} ms`],
  ['RSS before names (Node baseline)', `${mb(base.rss)} MB`],
  ['RSS with the names, before build', `${mb(withNames.rss)} MB`],
  ['RSS after build (names + trie)', `${mb(built.rss)} MB`],
  ['peak RSS up to the end of build', `${mb(peakAfterBuild)} MB`],
  ['peak RSS (whole run, incl. 400k query strings)', `${mb(process.resourceUsage().maxRSS * 1024)} MB`],
  ['heapUsed after build', `${mb(built.heapUsed)} MB`],
  ['names alone (heap delta)', `${mb(withNames.heapUsed - base.heapUsed)} MB`],
  ['trie typed arrays (arrayBuffers delta)', `${mb(built.arrayBuffers - withNames.arrayBuffers)} MB`],
  ['RSS with only the trie (names released)', `${mb(trieOnly.rss)} MB`],
  ['hit lookups/s (www.<entry>)', `${(hit.perSecond / 1e6).toFixed(2)} M (hit rate ${(hit.hitRate * 100).toFixed(1)}%, ${hit.done.toLocaleString('en')} lookups)`],
  ['miss lookups/s', `${(miss.perSecond / 1e6).toFixed(2)} M (hit rate ${(miss.hitRate * 100).toFixed(2)}%, ${miss.done.toLocaleString('en')} lookups)`],
]
console.log(`DomainTrie benchmark, Node ${process.version}, gc ${globalThis.gc ? 'exposed' : 'NOT exposed (run with --expose-gc)'}\n`)
console.log('| measure | value |\n| --- | --- |')
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`)
