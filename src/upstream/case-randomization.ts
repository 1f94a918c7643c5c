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
 * the name, not a syscall.
 */
import { randomFillSync } from 'node:crypto'

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
