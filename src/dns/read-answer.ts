/**
 * Reads an upstream answer once, when it arrives: rcode, TC, where every TTL
 * sits, the CNAME targets and the address records (for answer inspection),
 * and the TTL to cache it for. The OPT record is cut off, since each client
 * gets its own OPT when the answer is served. After this, serving the answer
 * (fresh or from the cache) is a copy and a few integer writes.
 */
import { DnsvaktError } from '../errors.js'
import { FLAG, HEADER_LENGTH, RCODE, TYPE } from './constants.js'
import { skipCompressedName, skipRecord } from './parse-query.js'

export interface UpstreamAnswer {
  /** The answer without its OPT record; header counts adjusted. */
  readonly wire: Buffer
  readonly rcode: number
  readonly truncated: boolean
  /** Offset of every TTL field in `wire` (all sections). */
  readonly ttlOffsets: readonly number[]
  /** Lowest TTL of the answer section (positive answers), or the RFC 2308 negative TTL; -1 if none is known. */
  readonly ttl: number
  /** Lower-case targets of CNAME records in the answer section. */
  readonly cnameTargets: readonly string[]
  /** Offsets of the 4-byte rdata of A records in the answer section. */
  readonly v4Offsets: readonly number[]
  /** Offsets of the 16-byte rdata of AAAA records in the answer section. */
  readonly v6Offsets: readonly number[]
}

const malformed = (why: string) => new DnsvaktError('DNSVAKT_ERR_UPSTREAM_ANSWER', `malformed upstream answer: ${why}`)

/** Parses an upstream reply. Throws DNSVAKT_ERR_UPSTREAM_ANSWER if it is not well formed. */
export function readAnswer(reply: Buffer): UpstreamAnswer {
  if (reply.length < HEADER_LENGTH) throw malformed('shorter than a header')
  const flags = reply.readUInt16BE(2)
  const qdcount = reply.readUInt16BE(4)
  const ancount = reply.readUInt16BE(6)
  const nscount = reply.readUInt16BE(8)
  const arcount = reply.readUInt16BE(10)
  let offset = HEADER_LENGTH
  for (let i = 0; i < qdcount; i++) {
    offset = skipCompressedName(reply, offset)
    if (offset < 0 || offset + 4 > reply.length) throw malformed('question')
    offset += 4
  }
  const ttlOffsets: number[] = []
  const cnameTargets: string[] = []
  const v4Offsets: number[] = []
  const v6Offsets: number[] = []
  let answerTtl = -1
  let negativeTtl = -1
  let extRcode = 0
  let keptAdditional = 0
  let end = reply.length
  const total = ancount + nscount + arcount
  for (let i = 0; i < total; i++) {
    const start = offset
    const typeAt = skipCompressedName(reply, offset)
    offset = skipRecord(reply, offset)
    if (typeAt < 0 || offset < 0) throw malformed(`record ${i + 1}`)
    const type = reply.readUInt16BE(typeAt)
    const ttl = reply.readUInt32BE(typeAt + 4) & 0x7fffffff // RFC 2181 s8: the top bit is treated as zero
    const rdata = typeAt + 10
    const rdlength = reply.readUInt16BE(typeAt + 8)
    if (i >= ancount + nscount && type === TYPE.OPT) {
      extRcode = reply[typeAt + 4]
      // Drop the OPT and anything after it: later records could point into shifted bytes.
      end = start
      break
    }
    if (i >= ancount + nscount) keptAdditional++
    ttlOffsets.push(typeAt + 4)
    if (i < ancount) {
      answerTtl = answerTtl < 0 ? ttl : Math.min(answerTtl, ttl)
      if (type === TYPE.CNAME) cnameTargets.push(readName(reply, rdata))
      else if (type === TYPE.A && rdlength === 4) v4Offsets.push(rdata)
      else if (type === TYPE.AAAA && rdlength === 16) v6Offsets.push(rdata)
    } else if (i < ancount + nscount && type === TYPE.SOA && rdlength >= 22) {
      // RFC 2308 s5: negative answers are cached for min(SOA TTL, SOA MINIMUM).
      negativeTtl = Math.min(ttl, reply.readUInt32BE(rdata + rdlength - 4))
    }
  }
  // The cut copy gets its own exact-size memory: a slice of Buffer's shared pool (8 KiB slabs on
  // Node 20, 64 KiB on Node 24) would keep a whole slab alive for as long as the answer is cached.
  const wire = end === reply.length ? reply : Buffer.allocUnsafeSlow(end)
  if (end !== reply.length) reply.copy(wire, 0, 0, end) && wire.writeUInt16BE(keptAdditional, 10)
  const rcode = (extRcode << 4) | (flags & 0xf)
  const negative = rcode === RCODE.NXDOMAIN || (rcode === RCODE.NOERROR && ancount === 0)
  return {
    wire,
    rcode,
    truncated: (flags & FLAG.TC) !== 0,
    ttlOffsets: exact(ttlOffsets),
    ttl: negative ? negativeTtl : answerTtl,
    cnameTargets: exact(cnameTargets),
    v4Offsets: exact(v4Offsets),
    v6Offsets: exact(v6Offsets),
  }
}

/**
 * The answer is kept as long as it is cached: an array grown by push has
 * room for 17 elements (152 bytes), so keep an exact-size copy, or one
 * shared empty array (docs/benchmarks.md, "What a cache entry costs").
 */
const NONE: readonly never[] = Object.freeze([])
const exact = <T>(a: T[]): readonly T[] => (a.length === 0 ? NONE : a.slice())

/** Reads a possibly compressed name as lower-case text. Pointers must point backwards, so loops are impossible. */
export function readName(wire: Buffer, offset: number): string {
  const labels: string[] = []
  let limit = offset
  for (let guard = 0; guard < 128; guard++) {
    if (offset >= wire.length) throw malformed('name runs past the end')
    const len = wire[offset]
    if (len === 0) return labels.join('.')
    if ((len & 0xc0) === 0xc0) {
      if (offset + 1 >= wire.length) throw malformed('truncated pointer')
      const target = ((len & 0x3f) << 8) | wire[offset + 1]
      if (target >= limit) throw malformed('forward compression pointer')
      limit = target
      offset = target
      continue
    }
    if (len > 63 || offset + 1 + len > wire.length) throw malformed('label length')
    labels.push(wire.toString('latin1', offset + 1, offset + 1 + len).toLowerCase())
    offset += len + 1
  }
  throw malformed('name too long')
}
