// Fixed-rate UDP latency probe for bench/run-bench.sh.
// usage: node bench/latency-probe.mjs --server 127.0.0.1 --port P --file QUERIES --qps 5000 --seconds 5 [--timeout-ms 1000]
// Sends at most qps*seconds queries (one pass over the file, in order) on one UDP socket, paced by the
// clock, and prints one JSON line: sent, answered, lost, p50/p90/p99/max latency in microseconds, rcodes.
import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
)
const port = Number(args.port)
const server = args.server ?? '127.0.0.1'
const qps = Number(args.qps ?? 5000)
const seconds = Number(args.seconds ?? 5)
const timeoutMs = Number(args['timeout-ms'] ?? 1000)
const total = Math.min(qps * seconds, 200000)
const lines = readFileSync(args.file, 'utf8').split('\n').filter(Boolean)
if (lines.length < total) throw new Error(`query file has ${lines.length} lines, need ${total}`)

const TYPES = { A: 1, AAAA: 28 }
function encode(id, name, type) {
  const labels = name.split('.').filter(Boolean)
  const buf = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4)
  buf.writeUInt16BE(id, 0)
  buf.writeUInt16BE(0x0100, 2) // RD
  buf.writeUInt16BE(1, 4) // QDCOUNT
  let o = 12
  for (const l of labels) { buf[o++] = l.length; o += buf.write(l, o, 'ascii') }
  buf[o++] = 0
  buf.writeUInt16BE(TYPES[type] ?? 1, o); buf.writeUInt16BE(1, o + 2)
  return buf
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED']
const sentAt = new Map() // id -> hrtime ns (at most ~qps*timeout in flight, < 65536)
const lat = []
const rcodes = {}
let sent = 0, lost = 0, late = 0
const sock = dgram.createSocket('udp4')
sock.on('message', (msg) => {
  if (msg.length < 12) return
  const id = msg.readUInt16BE(0)
  const t0 = sentAt.get(id)
  if (t0 === undefined) { late++; return }
  sentAt.delete(id)
  lat.push(Number(process.hrtime.bigint() - t0) / 1000)
  const rc = RCODES[msg[3] & 0x0f] ?? `RCODE${msg[3] & 0x0f}`
  rcodes[rc] = (rcodes[rc] ?? 0) + 1
})
sock.bind(0, '127.0.0.1', () => {
  sock.setRecvBufferSize(8 << 20)
  const start = process.hrtime.bigint()
  const deadlines = [] // [id, expire ns] in send order
  const tick = setInterval(() => {
    const now = process.hrtime.bigint()
    const due = Math.min(total, Math.floor((Number(now - start) / 1e9) * qps))
    while (sent < due) {
      const [name, type] = lines[sent].split(/\s+/)
      const id = sent & 0xffff
      sentAt.set(id, process.hrtime.bigint())
      deadlines.push([id, now + BigInt(timeoutMs) * 1000000n])
      sock.send(encode(id, name, type), port, server)
      sent++
    }
    while (deadlines.length && deadlines[0][1] <= now) {
      const [id] = deadlines.shift()
      if (sentAt.delete(id)) lost++
    }
    if (sent >= total && sentAt.size === 0) finish()
    // hard stop: run time + timeout + 2 s slack
    if (Number(now - start) / 1e9 > seconds + timeoutMs / 1000 + 2) { lost += sentAt.size; sentAt.clear(); finish() }
  }, 1)
  let done = false
  function finish() {
    if (done) return
    done = true
    clearInterval(tick)
    sock.close()
    lat.sort((a, b) => a - b)
    const pct = (p) => (lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]) : null)
    console.log(JSON.stringify({ sent, answered: lat.length, lost, late, p50_us: pct(50), p90_us: pct(90), p99_us: pct(99), max_us: lat.length ? Math.round(lat[lat.length - 1]) : null, rcodes }))
  }
})
