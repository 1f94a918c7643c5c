/**
 * An upstream answer ready to serve many times: the wire bytes (TTLs already
 * clamped), when it was stored, and a memo of what answer inspection found in
 * it for the current lists, so a cache hit re-checks a client's group with a
 * couple of integer operations instead of walking tries again.
 */
import { replyFlags, type Ede, optLength, writeOpt } from '../dns/build-reply.js'
import { FLAG } from '../dns/constants.js'
import type { UpstreamAnswer } from '../dns/read-answer.js'
import type { Query } from '../pipeline/query.js'

/** What answer inspection found in an entry for one snapshot of the lists. */
export interface InspectionMemo {
  /** The snapshot this memo is valid for (compared by identity). */
  readonly snapshot: object
  /** Bit per category with at least one hit. */
  readonly mask: number
  /** Per category bit index: how and by which list entry it was caught (null where no hit). */
  readonly hits: ReadonlyArray<{ readonly caughtBy: 'cname' | 'ip'; readonly entry: string } | null>
}

export class CacheEntry {
  inspection: InspectionMemo | null = null

  constructor(
    readonly answer: UpstreamAnswer,
    /** ms, injected clock. */
    readonly storedAt: number,
    /** ms: fresh until then. */
    readonly expiresAt: number,
    /** ms: may be served stale (RFC 8767) until then. */
    readonly staleUntil: number,
  ) {}

  /** Bytes that grow with the answer: the wire, 8 per offset kept, and the CNAME target strings (ENTRY_OVERHEAD is the rest). */
  get size(): number {
    const a = this.answer
    let n = a.wire.length + 8 * (a.ttlOffsets.length + a.v4Offsets.length + a.v6Offsets.length)
    for (const target of a.cnameTargets) n += 24 + target.length
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
