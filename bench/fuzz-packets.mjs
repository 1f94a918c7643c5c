/**
 * Hostile DNS packets for bench/fuzz-gateway.mjs, from a seeded PRNG so a
 * run can be replayed: valid queries (written byte by byte) put through
 * mutations, or plain random bytes. The property tests have the same
 * mutations as fast-check arbitraries (test/fixtures/fuzz-arbitraries.ts).
 */

/** mulberry32: small, seeded, reproducible. */
export const prng = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), seed | 1)
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296
}

const int = (rnd, n) => Math.floor(rnd() * n)
const pick = (rnd, list) => list[int(rnd, list.length)]
const bytes = (rnd, n) => Buffer.from(Array.from({ length: n }, () => int(rnd, 256)))

/** A well-formed query for `name` (RD, one question, an OPT of 1232). */
export function validQuery(name, id, qtype = 1) {
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]))
  const header = Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1])
  const tail = Buffer.from([0, qtype >> 8, qtype & 0xff, 0, 1])
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0])
  return Buffer.concat([header, ...labels, tail, opt])
}

const NAMES = ['example.com', 'tiktok.com', 'www.example.org', 'a.b.c.d.e.f.g', 't.me', '', 'xn--nxasmq6b.example']
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'

function randomName(rnd) {
  if (rnd() < 0.5) return pick(rnd, NAMES)
  return Array.from({ length: 1 + int(rnd, 5) }, () => Array.from({ length: 1 + int(rnd, 20) }, () => pick(rnd, LETTERS)).join('')).join('.')
}

/** A query with random type, class, flags and EDNS (options, version, size), before mutation. */
function baseQuery(rnd) {
  const q = validQuery(randomName(rnd), int(rnd, 0x10000), rnd() < 0.7 ? pick(rnd, [1, 28, 65, 16, 255, 252, 41, 0]) : int(rnd, 0x10000))
  const end = q.length - 11
  if (rnd() < 0.2) q.writeUInt16BE(int(rnd, 0x10000), end - 2) // class
  if (rnd() < 0.2) q.writeUInt16BE(int(rnd, 0x10000), 2) // flags, opcode, QR
  if (rnd() < 0.3) {
    q.writeUInt16BE(int(rnd, 0x10000), end + 3) // EDNS size
    q[end + 6] = rnd() < 0.5 ? 0 : int(rnd, 256) // version
    const opts = Array.from({ length: int(rnd, 4) }, () => {
      const data = bytes(rnd, int(rnd, 30))
      return Buffer.concat([Buffer.from([int(rnd, 256), int(rnd, 256), 0, data.length]), data])
    })
    const all = Buffer.concat(opts)
    q.writeUInt16BE(all.length, end + 9)
    return Buffer.concat([q, all])
  }
  if (rnd() < 0.1) return q.subarray(0, end) // no OPT but arcount 1
  return q
}

const MUTATIONS = [
  (b, rnd) => { const c = Buffer.from(b); if (c.length > 0) c[int(rnd, c.length)] = int(rnd, 256); return c },
  (b, rnd) => b.subarray(0, int(rnd, b.length + 1)),
  (b, rnd) => Buffer.concat([b, bytes(rnd, int(rnd, 200))]),
  // compression pointer (loop to itself, forward, into the header) where the name starts
  (b, rnd) => Buffer.concat([b.subarray(0, 12), Buffer.from([0xc0 | int(rnd, 64), pick(rnd, [12, 0, 13, int(rnd, 256)])]), b.subarray(12)]),
  // zero or many questions / records
  (b, rnd) => {
    const c = Buffer.from(b)
    const at = pick(rnd, [4, 6, 8, 10])
    if (c.length >= at + 2) c.writeUInt16BE(pick(rnd, [0, 2, 3, 0xffff, int(rnd, 0x10000)]), at)
    return c
  },
  // a label over 63, or past the end
  (b, rnd) => { const c = Buffer.from(b); if (c.length > 12) c[12] = 64 + int(rnd, 192); return c },
  // a name over 255 bytes
  (b) => Buffer.concat([b.subarray(0, 12), ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), b.subarray(12)]),
  // odd opcode
  (b, rnd) => { const c = Buffer.from(b); if (c.length > 2) c[2] = (c[2] & 0x87) | (int(rnd, 16) << 3); return c },
]

/** One hostile packet: 10% random bytes, else a query with 0-3 mutations. */
export function mutatedPacket(rnd) {
  if (rnd() < 0.1) return bytes(rnd, int(rnd, 600))
  let b = baseQuery(rnd)
  for (let n = int(rnd, 4); n > 0 && b.length > 0; n--) b = pick(rnd, MUTATIONS)(b, rnd)
  return b
}
