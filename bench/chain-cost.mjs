// Instruction cost of the in-process query path: the listener edge (QueryHandler),
// the whole stage chain and the observer (metrics, decision-log checks), without
// sockets. For callgrind, which machine contention does not skew (docs/benchmarks.md):
//
//   npm run build
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded bench/chain-cost.mjs --queries=N [--shadow] [--dist=OTHER/dist]
//
// It loads the shipped lists, warms the cache with 1,000 names, then runs N queries:
// half blocked by name (x<i>.<tiktok entry>), half cached answers. The difference
// between N = 200000 and N = 0 is the cost of 2 x 100,000 answers. --shadow gives the
// client's group a shadow category (doh-bypass moves from enforce to shadow) to show
// what the shadow checks cost when they run; without it the group has none.
// --candidate adds a candidate list version (blocking.candidate): a copy of the shipped lists
// with 100 names added to tiktok.txt, none of which the workload asks for.
// --dist points at another build (e.g. main's) to compare the same workload.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import dnsPacket from 'dns-packet'
import pino from 'pino'
import { Registry } from 'prom-client'

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const dist = resolve(arg('dist', join(ROOT, 'dist')))
const queries = Number(arg('queries', 0))
const shadow = process.argv.includes('--shadow')
const withCandidateDir = process.argv.includes('--candidate')
const load = (p) => import(pathToFileURL(join(dist, p)).href)

const { validate } = await load('config/load-config.js')
const { loadLists } = await load('lists/load-lists.js')
const { buildStages } = await load('stages/build-stages.js')
const { buildObservability } = await load('observability/build-observability.js')
const { QueryHandler } = await load('server/query-handler.js')
const { buildCache } = await load('cache/build-cache.js')

const dir = join(ROOT, 'blocklists')
const group = shadow ? { enforce: ['tiktok', 'telegram'], shadow: ['doh-bypass'] } : { enforce: ['tiktok', 'telegram', 'doh-bypass'] }
const config = validate({ listen: { dns: ['127.0.0.1:0'], admin: '' }, upstream: { servers: ['127.0.0.1:9'] }, blocking: { dir }, groups: { default: group } }, 'bench')
const snapshot = await loadLists({ dir, exemptionsFile: join(dir, 'exemptions.yaml'), exemptionMaxDurationMs: 365 * 86_400_000, now: Date.now() })
const log = pino({ level: 'silent' })
const now = () => 1_800_000_000_000

// The upstream: answers every query at once with one A record.
const pool = {
  async exchange(wire) {
    const q = dnsPacket.decode(wire)
    const answers = [{ type: 'A', name: q.questions[0].name, ttl: 3600, data: '192.0.2.1' }]
    return { wire: dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), upstream: 'bench', ms: 0 }
  },
}
const cache = buildCache(config.cache)
const chain = buildStages(config, { pool, zonePools: [], cache, now, log })
const labels = { upstreams: ['bench'], groups: ['default'], categories: snapshot.categories.map((c) => c.name) }
const { observer } = buildObservability(config.log, labels, { logger: log, now, version: 'bench', registry: new Registry() })
let edge = observer(() => snapshot.version)
if (withCandidateDir) {
  const { buildCandidate, withCandidate } = await load('candidate/build-candidate.js')
  const candidateDir = mkdtempSync(join(tmpdir(), 'dnsvakt-bench-candidate-'))
  cpSync(dir, candidateDir, { recursive: true })
  const extra = Array.from({ length: 100 }, (_, i) => `added${i}.example`).join('\n')
  writeFileSync(join(candidateDir, 'tiktok.txt'), `${readFileSync(join(dir, 'tiktok.txt'), 'utf8')}\n${extra}\n`)
  const loaded = { config: { ...config, blocking: { ...config.blocking, candidate: { dir: candidateDir, topNames: 100 } } }, file: null, blocklistDir: dir, exemptionsFile: join(dir, 'exemptions.yaml'), candidateDir }
  const { metrics } = buildObservability(config.log, labels, { logger: log, now, version: 'bench', registry: new Registry() })
  const candidate = buildCandidate(loaded, metrics, log, now, loadLists)
  await candidate.load(snapshot)
  edge = withCandidate(edge, candidate)
}
const handler = new QueryHandler(chain, () => snapshot, now, edge)
const sink = { send() {} }

const tiktok = readFileSync(join(dir, 'tiktok.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#') && !l.includes('*'))
const wire = (name, id) => dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] })
const blocked = Array.from({ length: 1000 }, (_, i) => wire(`x${i}.${tiktok[i % tiktok.length]}`, i))
const cached = Array.from({ length: 1000 }, (_, i) => wire(`h${i}.bench.test`, i))

for (const w of cached) handler.handle(w, '127.0.0.1', 5353, 'udp', sink)
await handler.drained()
let sent = 0
const counting = { send() { sent++ } }
for (let i = 0; i < queries / 2; i++) {
  handler.handle(blocked[i % 1000], '127.0.0.1', 5353, 'udp', counting)
  handler.handle(cached[i % 1000], '127.0.0.1', 5353, 'udp', counting)
}
await handler.drained()
if (sent !== queries) throw new Error(`${sent} answers for ${queries} queries: some went upstream`)
process.stderr.write(`chain-cost: ${queries} queries (${shadow ? 'shadow group' : 'no shadow'}${withCandidateDir ? ', candidate' : ''}), dist ${dist}\n`)
