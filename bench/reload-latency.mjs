// Reload under load, with a large list: how long the lists take to load, the
// gateway's RSS with them, and the worst answer latency while they are
// reloaded. Starts its own dnsmasq upstream and dnsvakt (dist/, run
// `npm run build` first) on loopback, sends queries at a fixed rate from this
// process and sends SIGHUP twice during the run. Bounded: RATE*SECONDS queries.
// usage: node bench/reload-latency.mjs [--names 1000000] [--rate 2000] [--seconds 8] [--pin 1] [--reloads 0|1|2]
// --pin 1 keeps the whole gateway (its loader thread included) on core 0.
import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? Number(process.argv[i + 1]) : d }
const NAMES = arg('names', 1_000_000), RATE = arg('rate', 2000), SECONDS = arg('seconds', 8), PIN = arg('pin', 0), HUPS = arg('reloads', 2)
const ROOT = resolve(new URL('..', import.meta.url).pathname)
const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-reload-'))
const UP = 26500, GW = 26501
let seed = 42
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const label = () => { let s = ''; const n = 4 + Math.floor(rnd() * 10); for (let i = 0; i < n; i++) s += String.fromCharCode(97 + Math.floor(rnd() * 26)); return s }
const tlds = ['com', 'net', 'org', 'no', 'io', 'app', 'dev', 'eu']
const names = []
for (let i = 0; i < NAMES; i++) names.push(`${label()}${i}.${tlds[i % tlds.length]}`)
writeFileSync(join(dir, 'tiktok.txt'), names.join('\n') + '\n')
writeFileSync(join(dir, 'telegram.txt'), 'telegram.org\n')
writeFileSync(join(dir, 'cfg.yaml'), `workers: 1\nlisten: { dns: ["127.0.0.1:${GW}"], admin: "127.0.0.1:${GW + 1}" }\nupstream: { servers: ["127.0.0.1:${UP}"] }\nblocking: { dir: ${dir}, watchInterval: 1h }\ngroups: { default: { enforce: [tiktok, telegram] } }\nlog: { level: info }\n`)

const children = []
const stopAll = () => { for (const c of children) c.kill('SIGKILL') }
process.on('exit', stopAll)
children.push(spawn('/usr/sbin/dnsmasq', ['--no-daemon', `--port=${UP}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--local-ttl=3600', '--address=/bench.test/192.0.2.10'], { stdio: 'ignore' }))
const t0 = Date.now()
const cmd = [process.execPath, join(ROOT, 'dist/cli.js'), 'serve', '--config', join(dir, 'cfg.yaml')]
const gw = PIN ? spawn('taskset', ['-c', '0', ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
children.push(gw)
const events = []
let buf = ''
gw.stdout.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\n')) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); try { events.push({ at: Date.now(), ...JSON.parse(line) }) } catch {} } })
const waitFor = async (pred, ms) => { for (let i = 0; i < ms / 20; i++) { const e = events.find(pred); if (e) return e; await new Promise((r) => setTimeout(r, 20)) } throw new Error('timed out waiting for the gateway') }
const started = await waitFor((e) => e.event === 'started', 60_000)
const loadMs = started.at - t0
await new Promise((r) => setTimeout(r, 1000))
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gw.pid}/status`, 'utf8'))[1]) / 1024
const pid = Number(readFileSync(`/proc/${gw.pid}/task/${gw.pid}/children`, 'utf8').trim().split(/\s+/)[0] || gw.pid)
const rssOf = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
const rssAfterLoad = rssOf()

function encode(id, name) {
  const labels = name.split('.')
  const b = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 5)
  b.writeUInt16BE(id, 0); b.writeUInt16BE(0x0100, 2); b.writeUInt16BE(1, 4)
  let o = 12
  for (const l of labels) { b[o++] = l.length; o += b.write(l, o, 'ascii') }
  b[o++] = 0; b.writeUInt16BE(1, o); b.writeUInt16BE(1, o + 2)
  return b
}
// The gateway's own view: prom-client's event-loop lag (monitorEventLoopDelay), reset at each scrape.
const lagMax = async () => Number(/^dnsvakt_nodejs_eventloop_lag_max_seconds (\S+)/m.exec(await (await fetch(`http://127.0.0.1:${GW + 1}/metrics`)).text())?.[1])
await lagMax()
const sock = dgram.createSocket('udp4')
await new Promise((r) => sock.bind(0, '127.0.0.1', r))
const sentAt = new Map(), lat = []
let lost = 0
sock.on('message', (m) => { const id = m.readUInt16BE(0); const s = sentAt.get(id); if (s === undefined) return; sentAt.delete(id); lat.push({ at: s.wall, us: Number(process.hrtime.bigint() - s.t) / 1000 }) })
const total = RATE * SECONDS
const begin = Date.now()
const hups = []
let peakRss = rssOf()
const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, rssOf()) }, 50)
for (let i = 0; i < total; i++) {
  const due = begin + (i * 1000) / RATE
  const wait = due - Date.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  if ((HUPS >= 1 && i === Math.floor(total * 0.25)) || (HUPS >= 2 && i === Math.floor(total * 0.6))) { hups.push(Date.now()); gw.kill('SIGHUP') }
  const id = i & 0xffff
  if (sentAt.has(id)) { lost++; sentAt.delete(id) }
  const name = i % 2 ? `x.${names[(i * 7919) % names.length]}` : `h${i % 500}.bench.test`
  sentAt.set(id, { t: process.hrtime.bigint(), wall: Date.now() })
  sock.send(encode(id, name), GW, '127.0.0.1')
}
await new Promise((r) => setTimeout(r, 1500))
clearInterval(rssTimer)
const loopLagMaxMs = Math.round((await lagMax()) * 1000 * 10) / 10
lost += sentAt.size
const reloads = events.filter((e) => e.event === 'lists-reloaded')
const us = lat.map((l) => l.us).sort((a, b) => a - b)
const pct = (p) => us[Math.min(us.length - 1, Math.floor((us.length * p) / 100))]
const during = lat.filter((l) => hups.some((h) => l.at >= h && l.at <= h + 5000)).map((l) => l.us)
const result = {
  names: NAMES, pinnedToOneCore: Boolean(PIN), loadMsIncludingStart: loadMs, rssMiBAfterLoad: Math.round(rssAfterLoad), peakRssMiBDuringReloads: Math.round(peakRss),
  reloadsCompleted: reloads.length, reloadMs: reloads.map((r, i) => r.at - hups[i]),
  queries: total, answered: lat.length, lost,
  p50us: Math.round(pct(50)), p99us: Math.round(pct(99)), maxUs: Math.round(us[us.length - 1]),
  gatewayEventLoopLagMaxMs: loopLagMaxMs,
  maxUsWithin5sOfReload: during.length ? Math.round(Math.max(...during)) : null,
}
console.log(JSON.stringify(result, null, 2))
stopAll()
process.exit(0)
