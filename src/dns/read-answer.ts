/**
 * Reads an upstream answer once, when it arrives: rcode, TC, where every TTL
 * sits, what answer inspection checks (CNAME and DNAME names, SVCB/HTTPS
 * targets and address hints, A/AAAA records of the answer and additional
 * sections) and the TTL to cache it for. The OPT record is cut off, since
 * each client gets its own OPT when the answer is served. After this, serving
 * the answer (fresh or from the cache) is a copy and a few integer writes.
 */
import { DnsvaktError } from '../errors.js'
import { FLAG, HEADER_LENGTH, RCODE, TYPE } from './constants.js'
import { skipCompressedName, skipRecord } from './parse-query.js'
import type { UpstreamAnswer } from '../pipeline/upstream-answer.js'

export type { UpstreamAnswer }

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
  const found: Found = { cnameTargets: [], v4Offsets: [], v6Offsets: [], targetNames: [], extraV4Offsets: [], extraV6Offsets: [] }
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
      noteAnswerRecord(reply, type, start, rdata, rdlength, found)
    } else if (i >= ancount + nscount) {
      noteAdditionalRecord(reply, type, rdata, rdlength, found)
    } else if (type === TYPE.SOA && rdlength >= 22) {
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
    cnameTargets: exact(found.cnameTargets),
    v4Offsets: exact(found.v4Offsets),
    v6Offsets: exact(found.v6Offsets),
    targetNames: exact(found.targetNames),
    extraV4Offsets: exact(found.extraV4Offsets),
    extraV6Offsets: exact(found.extraV6Offsets),
    inspection: null,
  }
}

/** What answer inspection reads, collected in the one pass over the records. */
interface Found {
  cnameTargets: string[]
  v4Offsets: number[]
  v6Offsets: number[]
  targetNames: string[]
  extraV4Offsets: number[]
  extraV6Offsets: number[]
}

function noteAnswerRecord(reply: Buffer, type: number, start: number, rdata: number, rdlength: number, found: Found): void {
  if (type === TYPE.CNAME) found.cnameTargets.push(readName(reply, rdata))
  else if (type === TYPE.A && rdlength === 4) found.v4Offsets.push(rdata)
  else if (type === TYPE.AAAA && rdlength === 16) found.v6Offsets.push(rdata)
  else if (type === TYPE.DNAME) found.targetNames.push(readName(reply, start), readName(reply, rdata))
  else if (type === TYPE.SVCB || type === TYPE.HTTPS) noteServiceBinding(reply, rdata, rdlength, found)
}

/** The additional section: its addresses and service bindings count as part of the answer (a blocked one blocks it). */
function noteAdditionalRecord(reply: Buffer, type: number, rdata: number, rdlength: number, found: Found): void {
  if (type === TYPE.A && rdlength === 4) found.extraV4Offsets.push(rdata)
  else if (type === TYPE.AAAA && rdlength === 16) found.extraV6Offsets.push(rdata)
  else if (type === TYPE.SVCB || type === TYPE.HTTPS) noteServiceBinding(reply, rdata, rdlength, found)
}

/** SvcParamKeys (RFC 9460 s14.3.2) whose values are addresses a client may connect to. */
const IPV4HINT = 4
const IPV6HINT = 6

/**
 * SVCB/HTTPS rdata (RFC 9460 s2.2): priority, TargetName ("." means the
 * owner itself), then key/length/value parameters in any order. The
 * TargetName and the ipv4hint/ipv6hint addresses are kept for inspection.
 */
function noteServiceBinding(reply: Buffer, rdata: number, rdlength: number, found: Found): void {
  const rdEnd = rdata + rdlength
  const targetEnd = rdlength >= 3 ? skipCompressedName(reply, rdata + 2) : -1
  if (targetEnd < 0 || targetEnd > rdEnd) throw malformed('SVCB/HTTPS target name')
  const target = readName(reply, rdata + 2)
  if (target !== '') found.targetNames.push(target)
  let p = targetEnd
  while (p < rdEnd) {
    if (p + 4 > rdEnd) throw malformed('SVCB/HTTPS parameter header')
    const key = reply.readUInt16BE(p)
    const len = reply.readUInt16BE(p + 2)
    p += 4
    if (p + len > rdEnd) throw malformed('SVCB/HTTPS parameter length')
    if ((key === IPV4HINT && len % 4 !== 0) || (key === IPV6HINT && len % 16 !== 0)) throw malformed('SVCB/HTTPS address hint length')
    if (key === IPV4HINT) for (let a = p; a < p + len; a += 4) found.extraV4Offsets.push(a)
    else if (key === IPV6HINT) for (let a = p; a < p + len; a += 16) found.extraV6Offsets.push(a)
    p += len
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
