/**
 * An upstream answer ready to serve many times: the answer (wire bytes with
 * TTLs already clamped, and answer inspection's memo, which lives on the
 * answer) and when it was stored, expires and stops being servable stale.
 */
import { replyFlags, type Ede, optLength, writeOpt } from '../dns/build-reply.js'
import { FLAG } from '../dns/constants.js'
import type { UpstreamAnswer } from '../pipeline/upstream-answer.js'
import type { Query } from '../pipeline/query.js'

export class CacheEntry {
  constructor(
    readonly answer: UpstreamAnswer,
    /** ms, injected clock. */
    readonly storedAt: number,
    /** ms: fresh until then. */
    readonly expiresAt: number,
    /** ms: may be served stale (RFC 8767) until then. */
    readonly staleUntil: number,
  ) {}

  /** Bytes that grow with the answer: the wire, 8 per offset kept, and the CNAME/DNAME/SVCB target strings (ENTRY_OVERHEAD is the rest). */
  get size(): number {
    const a = this.answer
    const offsets = a.ttlOffsets.length + a.v4Offsets.length + a.v6Offsets.length + a.extraV4Offsets.length + a.extraV6Offsets.length
    let n = a.wire.length + 8 * offsets
    for (const target of a.cnameTargets) n += 24 + target.length
    for (const target of a.targetNames) n += 24 + target.length
    return n
  }
}

/**
 * Writes the entry as the answer to `q`: the client's ID and question bytes
 * (its 0x20 letter case), its RD/CD flags, TTLs aged by the time in cache (or
 * all set to `fixedTtl` for a stale answer), and an OPT of our own when the
 * client sent one. One allocation and one copy.
 */
export function renderEntry(entry: CacheEntry, q: Query, now: number, fixedTtl = -1, ede?: Ede): Buffer {
  const src = entry.answer.wire
  const optLen = q.edns ? optLength(ede) : 0
  const out = Buffer.allocUnsafe(src.length + optLen)
  src.copy(out, 0)
  out.writeUInt16BE(q.id, 0)
  const requestFlags = q.wire.readUInt16BE(2)
  // RFC 6840 s5.8: AD only to clients that asked for DNSSEC data (DO) or set AD themselves.
  const adAllowed = q.dnssecOk || (requestFlags & FLAG.AD) !== 0
  const upstreamFlags = src.readUInt16BE(2)
  const ad = adAllowed ? upstreamFlags & FLAG.AD : 0
  // TC survives: a truncated answer must reach the client as truncated.
  out.writeUInt16BE(replyFlags(requestFlags, entry.answer.rcode) | ad | (upstreamFlags & FLAG.TC), 2)
  q.wire.copy(out, 12, 12, q.questionEnd)
  const offsets = entry.answer.ttlOffsets
  if (fixedTtl >= 0) {
    for (let i = 0; i < offsets.length; i++) out.writeUInt32BE(fixedTtl, offsets[i])
  } else {
    const age = Math.floor((now - entry.storedAt) / 1000)
    if (age > 0) {
      for (let i = 0; i < offsets.length; i++) {
        const ttl = src.readUInt32BE(offsets[i]) - age
        out.writeUInt32BE(ttl > 0 ? ttl : 0, offsets[i])
      }
    }
  }
  if (q.edns) {
    out.writeUInt16BE(src.readUInt16BE(10) + 1, 10)
    writeOpt(out, src.length, entry.answer.rcode, q.dnssecOk, ede)
  }
  return out
}
