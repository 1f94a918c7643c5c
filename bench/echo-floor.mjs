// Node's own floor for a UDP DNS server on this machine: answer every query by
// echoing it with QR and RA set and NXDOMAIN, with no DNS logic at all.
// bench/hot-path.sh runs it in dnsvakt's place when FLOOR=1.
// usage: node bench/echo-floor.mjs PORT
import dgram from 'node:dgram'

const port = Number(process.argv[2])
const s = dgram.createSocket({ type: 'udp4', lookup: (a, _f, cb) => cb(null, a, 4) })
s.on('message', (m, r) => {
  m[2] |= 0x80 // QR
  m[3] = 0x83 // RA + NXDOMAIN
  s.send(m, r.port, r.address)
})
s.bind(port, '127.0.0.1', () => s.setRecvBufferSize(4 * 1024 * 1024))
process.on('SIGTERM', () => process.exit(0))
