// Turns bench/run-bench.sh results into the results section of docs/benchmarks.md (or stdout):
// medians per mix and target, every figure also as a ratio to Unbound and, for CPU per query, to
// Node's bare UDP echo server on the same Node.js line (the floor); the cost of an upstream miss
// derived from the mixed load; and issue 14's targets, met or not.
// usage: node bench/report.mjs RESULTS.tsv META.env DOC.md|-
import { readFileSync, writeFileSync, existsSync } from 'node:fs'

const [resultsFile, metaFile, docFile] = process.argv.slice(2)
const meta = Object.fromEntries(readFileSync(metaFile, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
const [header, ...rows] = readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'))
const recs = rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])))

const median = (xs) => {
  const v = xs.map(Number).filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (!v.length) return NaN
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a')
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a')

const MIXES = ['blocked', 'cached', 'mixed']
const TARGETS = (meta.targets ?? '').split(' ').filter(Boolean)
for (const r of recs) if (!TARGETS.includes(r.target)) TARGETS.push(r.target)
const isVakt = (t) => t.startsWith('dnsvakt')
/** The echo floor measured on the same Node.js line as the target. */
const floorOf = (t) => (t.endsWith('-node24') ? 'echo-node24' : 'echo')

const med = {}
for (const mix of MIXES) for (const t of TARGETS) {
  const rs = recs.filter((r) => r.mix === mix && r.target === t)
  const dead = rs.filter((r) => r.qps === 'DEAD').length
  med[`${mix}/${t}`] = {
    n: rs.length - dead, dead,
    qps: median(rs.map((r) => r.qps)), cpu: median(rs.map((r) => r.cpu_us_per_q)), rss: median(rs.map((r) => r.rss_mib)),
    p50: median(rs.map((r) => r.p50_us)), p99: median(rs.map((r) => r.p99_us)),
    lost: rs.reduce((s, r) => s + (Number(r.lost) || 0), 0), completed: rs.reduce((s, r) => s + (Number(r.completed) || 0), 0),
    plost: rs.reduce((s, r) => s + (Number(r.probe_lost) || 0), 0),
  }
}
const get = (mix, t) => med[`${mix}/${t}`] ?? { cpu: NaN, qps: NaN, p99: NaN }
/** The echo server does the same work for every mix: its floor is the median over all its runs. */
const floorCpu = (t) => median(recs.filter((r) => r.target === floorOf(t)).map((r) => r.cpu_us_per_q))
/**
 * CPU as a multiple of the floor: the median over repetitions of (this target's run / the floor's run
 * of the same mix and repetition). run-bench.sh runs each floor right before its dnsvakt, so a pair
 * shares the machine's speed of that minute; on a shared VM that speed moved by up to 50 % within
 * minutes, which a ratio of medians taken minutes apart carries into the result.
 */
const vsFloor = (mix, t) => {
  const pairs = recs.filter((r) => r.mix === mix && r.target === t).map((r) => {
    const f = recs.find((x) => x.mix === mix && x.rep === r.rep && x.target === floorOf(t))
    return f ? Number(r.cpu_us_per_q) / Number(f.cpu_us_per_q) : NaN
  })
  const m = median(pairs)
  return Number.isFinite(m) ? m : get(mix, t).cpu / floorCpu(t)
}
/** CPU of one upstream miss: the mixed load (10 % blocked, 80 % cached, 10 % new) minus its blocked and cached parts. */
const missCpu = (t) => (get('mixed', t).cpu - 0.1 * get('blocked', t).cpu - 0.8 * get('cached', t).cpu) / 0.1

function header_() {
  return [
    `Run ${meta.date} · dnsvakt ${meta.dnsvakt} · Node ${meta.node} and ${meta.node24} (flags: \`${meta.node_flags}\`) · Unbound ${meta.unbound} · dnsmasq ${meta.dnsmasq} · dnsperf ${meta.dnsperf} · NSD ${meta.nsd}${meta.quick === '1' ? ' · **QUICK run: one short repetition, for checking a change, not for this table**' : ''}`,
    '',
    `Machine: ${meta.nproc} CPUs, ${meta.cpu}, Linux ${meta.kernel}; servers pinned to core 0, dnsperf/probe/NSD to core 1: ${meta.pinned}.`,
    '`dnsvakt` is one process (`workers: 1`) on the machine\'s Node.js, `dnsvakt-node24` the same on Node.js 24, both pinned like the others; `dnsvakt2` is `workers: 2` (node:cluster), not pinned, its CPU µs/query summed over the primary and both workers. `echo` and `echo-node24` are Node\'s bare UDP echo server (`bench/echo-floor.mjs`, no DNS logic) on each Node.js line: the floor. For dnsvakt targets "vs floor" is the median over repetitions of (the target\'s CPU / its floor\'s CPU in the same mix and repetition: the floor runs right before it); the miss row divides medians.',
    `${meta.reps} repetitions, interleaved (${TARGETS.join(', ')} per mix); medians shown. Throughput: dnsperf ${meta.secs} s, ${meta.clients} clients, unthrottled. Latency: fixed ${meta.probe_qps} q/s for ${meta.probe_secs} s (${Number(meta.probe_qps) * Number(meta.probe_secs)} queries). ${meta.blocked_names} blocked names (from ${meta.list_files}). Load average (1/5/15 min) at start: ${meta.loadavg_start}, at end: ${meta.loadavg_end}.`,
    `Target processes that died during the run (ours are restarted and measured again): ${meta.crashes}.${meta.dnsvakt_errors ? ' First dnsvakt error in its log: `' + meta.dnsvakt_errors.replace(/`/g, "'") + '`.' : ''} dnsvakt log lines (level warn and up, plus stderr): ${meta.dnsvakt_log_lines}.`,
    '',
  ]
}

function mainTable() {
  const L = ['| mix | target | q/s (dnsperf) | vs Unbound | CPU µs/query | vs floor | vs Unbound | RSS MiB | p50 µs @fixed rate | p99 µs @fixed rate | p99 vs Unbound | lost (dnsperf, all reps) | lost (probe, all reps) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
  for (const mix of MIXES) for (const t of TARGETS) {
    const m = med[`${mix}/${t}`], u = get(mix, 'unbound')
    const lostPct = m.completed + m.lost > 0 ? ` (${((100 * m.lost) / (m.completed + m.lost)).toFixed(2)}%)` : ''
    const floorRatio = isVakt(t) ? `${vsFloor(mix, t).toFixed(2)}×` : t.startsWith('echo') ? '1 (floor)' : ratio(m.cpu, floorCpu('unbound'))
    L.push(`| ${mix} | ${t}${m.dead ? ` (${m.dead} runs: not running)` : ''} | ${fmt(m.qps)} | ${ratio(m.qps, u.qps)} | ${fmt(m.cpu, 2)} | ${floorRatio} | ${ratio(m.cpu, u.cpu)} | ${fmt(m.rss, 1)} | ${fmt(m.p50)} | ${fmt(m.p99)} | ${ratio(m.p99, u.p99)} | ${fmt(m.lost)}${lostPct} | ${fmt(m.plost)} |`)
  }
  return L
}

function missTable() {
  const L = ['', 'CPU per upstream miss, derived: (mixed − 0.1 × blocked − 0.8 × cached) / 0.1, from the medians above.', '',
    '| target | CPU µs per miss | vs floor | vs Unbound |', '| --- | ---: | ---: | ---: |']
  for (const t of TARGETS.filter((t) => !t.startsWith('echo'))) {
    L.push(`| ${t} | ${fmt(missCpu(t), 1)} | ${ratio(missCpu(t), floorCpu(t))} | ${ratio(missCpu(t), missCpu('unbound'))} |`)
  }
  return L
}

/** Issue 14's targets, for each single-process dnsvakt target. */
function targetsTable() {
  const vakts = TARGETS.filter((t) => isVakt(t) && t !== 'dnsvakt2')
  const checks = [
    ['blocked ≤ 1.2× floor', (t) => vsFloor('blocked', t), 1.2],
    ['cached ≤ 1.25× floor', (t) => vsFloor('cached', t), 1.25],
    ['mixed ≤ 1.6× floor', (t) => vsFloor('mixed', t), 1.6],
    ['upstream miss ≤ 3× floor', (t) => missCpu(t) / floorCpu(t), 3],
    [`p99 at ${meta.probe_qps} q/s ≤ 1.2× Unbound (blocked, cached, mixed: worst)`, (t) => Math.max(...MIXES.map((m) => get(m, t).p99 / get(m, 'unbound').p99)), 1.2],
  ]
  const L = ['', '| target (issue 14) | ' + vakts.join(' | ') + ' |', '| --- |' + vakts.map(() => ' ---: |').join('')]
  for (const [what, f, limit] of checks) {
    L.push(`| ${what} | ${vakts.map((t) => { const v = f(t); return Number.isFinite(v) ? `${v.toFixed(2)}× ${v <= limit ? 'met' : '**not met**'}` : 'n/a' }).join(' | ')} |`)
  }
  return L
}

function rawTable() {
  return ['', '<details><summary>Every run (raw)</summary>', '',
    '| rep | mix | target | q/s | completed | lost | avg latency ms (dnsperf) | CPU µs/q | RSS MiB | p50 µs | p99 µs | probe lost | response codes (dnsperf) | response codes (probe) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...recs.map((r) => `| ${header.map((h) => r[h] ?? '').join(' | ')} |`), '', '</details>']
}

const section = [...header_(), ...mainTable(), ...missTable(), ...targetsTable(), ...rawTable()].join('\n')
if (docFile === '-') { console.log(section); process.exit(0) }
const START = '<!-- bench:results:start (generated by bench/run-bench.sh; do not edit by hand) -->'
const END = '<!-- bench:results:end -->'
let doc = existsSync(docFile) ? readFileSync(docFile, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`
if (!doc.includes(START) || !doc.includes(END)) doc = `${doc.trimEnd()}\n\n## Results\n\n${START}\n${END}\n`
doc = doc.slice(0, doc.indexOf(START) + START.length) + '\n' + section + '\n' + doc.slice(doc.indexOf(END))
writeFileSync(docFile, doc)
