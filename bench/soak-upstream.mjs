#!/usr/bin/env node
/**
 * The soak's upstream (bench/soak.sh): answers every UDP query with one A
 * record 192.0.2.1, TTL SOAK_TTL (default 30 s, so cached names expire and
 * are fetched again during the run). Built from the query bytes; no parsing
 * beyond the question. Usage: node bench/soak-upstream.mjs PORT
 */
import { createSocket } from 'node:dgram'

const port = Number(process.argv[2] ?? 25400)
const ttl = Number(process.env.SOAK_TTL ?? 30)
const s = createSocket('udp4')
s.on('message', (q, r) => {
  if (q.length < 17 || q.readUInt16BE(4) !== 1) return
  let o = 12
  while (o < q.length && q[o] !== 0) o += q[o] + 1
  const end = o + 5
  if (end > q.length) return
  const qtype = q.readUInt16BE(o + 1)
  const answer = qtype === 1 ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, ttl >> 24, (ttl >> 16) & 0xff, (ttl >> 8) & 0xff, ttl & 0xff, 0, 4, 192, 0, 2, 1]) : Buffer.alloc(0)
  const out = Buffer.concat([q.subarray(0, end), answer])
  out.writeUInt16BE(0x8180, 2)
  out.writeUInt16BE(answer.length > 0 ? 1 : 0, 6)
  out.writeUInt32BE(0, 8) // NS, AR: 0 (the query's OPT is not echoed)
  s.send(out, r.port, r.address)
})
s.bind(port, '127.0.0.1')
