/**
 * DNS 0x20 (draft-vixie-dnsext-dns0x20, as Unbound's use-caps-for-id): the
 * letters of the question name we send upstream get a random case. Names are
 * case-insensitive, and a resolver echoes the question byte for byte, so the
 * reply checks (checkReply) also check one random bit per letter: a blind
 * spoofer must guess them along with the 16-bit ID and the source port.
 * `www.example.com` adds 13 bits. The client's own case is kept in what it
 * gets back: replies are written with the client's question bytes.
 *
 * Random bits come from a pool refilled by crypto.randomFillSync, 4 KiB at a
 * time (a name takes at most 32 bytes), so the cost per query is a loop over
 * the name, not a syscall. restoreCase() puts the original case back into
 * the validated reply.
 */
import { randomFillSync } from 'node:crypto'
import { HEADER_LENGTH } from '../dns/constants.js'
import { skipRecord } from '../dns/parse-query.js'

const POOL = Buffer.allocUnsafe(4096)
let used = POOL.length

/** Randomises, in place, the letter case of the uncompressed name at `offset` (a validated question name). */
export function randomizeCase(wire: Buffer, offset: number): void {
  let bits = 0
  let left = 0
  for (;;) {
    const len = wire[offset]
    if (len === undefined || len === 0 || len > 63) return
    const end = Math.min(offset + 1 + len, wire.length)
    for (let i = offset + 1; i < end; i++) {
      const c = wire[i]! | 0x20
      if (c < 0x61 || c > 0x7a) continue
      if (left === 0) {
        if (used === POOL.length) {
          randomFillSync(POOL)
          used = 0
        }
        bits = POOL[used++]!
        left = 8
      }
      wire[i] = bits & 1 ? c & ~0x20 : c
      bits >>= 1
      left--
    }
    offset = end
  }
}

/**
 * Undoes the randomisation in a validated reply, in place: the question, and
 * every record owner name written out in full (not compressed) that is the
 * question name, get `original`'s bytes back. Resolvers that compress answer
 * names point at the question, which the reply to the client rewrites
 * anyway; one that writes them out (dns-packet does) would otherwise hand
 * our random case to clients and to the cache. `questionEnd` is the offset
 * past the question, the same in both.
 */
export function restoreCase(reply: Buffer, original: Buffer, questionEnd: number): Buffer {
  const nameLength = questionEnd - 4 - HEADER_LENGTH
  original.copy(reply, HEADER_LENGTH, HEADER_LENGTH, questionEnd)
  const records = reply.readUInt16BE(6) + reply.readUInt16BE(8) + reply.readUInt16BE(10)
  let offset = questionEnd
  for (let i = 0; i < records && offset >= 0; i++) {
    if (offset + nameLength <= reply.length && sameName(reply, offset, original, nameLength)) original.copy(reply, offset, HEADER_LENGTH, HEADER_LENGTH + nameLength)
    offset = skipRecord(reply, offset)
  }
  return reply
}

/** The `n` bytes at `offset` equal the question name of `original`, ignoring ASCII case. */
function sameName(reply: Buffer, offset: number, original: Buffer, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const a = reply[offset + i]!
    const b = original[HEADER_LENGTH + i]!
    if (a !== b && (a | 0x20) !== (b | 0x20)) return false
    if (a !== b && ((a | 0x20) < 0x61 || (a | 0x20) > 0x7a)) return false
  }
  return true
}
