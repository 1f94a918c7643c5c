// Deterministic query-file generator for bench/run-bench.sh (dnsperf input format: "name TYPE").
// usage: node bench/gen-queries.mjs --mix blocked|cached|mixed|warm --count N --seed S [--tag T] --blocked FILE
import { readFileSync } from 'node:fs'

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
)
const mix = args.mix
const count = Number(args.count ?? 100000)
const tag = args.tag ?? 'x'
let state = (Number(args.seed ?? 1) >>> 0) || 1

// xorshift32: small seeded PRNG, good enough for picking names
function rand() {
  state ^= state << 13; state >>>= 0
  state ^= state >>> 17
  state ^= state << 5; state >>>= 0
  return state / 4294967296
}

const HOT = 1000
// Zipf (s = 1) over h0..h999: precomputed cumulative weights, binary search
const cum = new Float64Array(HOT)
{ let s = 0; for (let k = 0; k < HOT; k++) { s += 1 / (k + 1); cum[k] = s } }
function zipfHot() {
  const r = rand() * cum[HOT - 1]
  let lo = 0, hi = HOT - 1
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] < r) lo = mid + 1; else hi = mid }
  return `h${lo}.bench.test A`
}

let blockedNames = []
if (mix === 'blocked' || mix === 'mixed') {
  blockedNames = readFileSync(args.blocked, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean)
}
const LABELS = ['www', 'api', 'm', 'v16', 'log', 'mon', 'cdn', 'static', 'img', 'p16-sign', 'web', 'core']
function blocked() {
  const base = blockedNames[Math.floor(rand() * blockedNames.length)]
  const r = rand()
  const sub = r < 0.15 ? '' : r < 0.6 ? LABELS[Math.floor(rand() * LABELS.length)] + '.' : `r${Math.floor(rand() * 1e6)}.`
  return `${sub}${base} ${rand() < 0.5 ? 'A' : 'AAAA'}`
}
let uniq = 0
function unique() { return `u${tag}-${(uniq++).toString(36)}-${Math.floor(rand() * 1e6).toString(36)}.bench.test A` }

const out = []
for (let i = 0; i < count; i++) {
  if (mix === 'blocked') out.push(blocked())
  else if (mix === 'cached') out.push(zipfHot())
  else if (mix === 'warm') out.push(`h${i % HOT}.bench.test A`)
  else if (mix === 'mixed') {
    const r = rand()
    out.push(r < 0.1 ? blocked() : r < 0.9 ? zipfHot() : unique())
  } else throw new Error(`unknown mix ${mix}`)
  if (out.length >= 50000) { process.stdout.write(out.join('\n') + '\n'); out.length = 0 }
}
if (out.length) process.stdout.write(out.join('\n') + '\n')
