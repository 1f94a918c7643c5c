/**
 * Answers we make ourselves (errors, sinkholes, truncation), each built in one
 * buffer straight from the client's bytes: header and question copied, so the
 * ID and the question (with the client's 0x20 letter case) are echoed exactly.
 */
import type { Query } from '../pipeline/query.js'
import { EDNS_DO, EDNS_OPTION_EDE, FLAG, HEADER_LENGTH, RCODE, TYPE, UDP_SIZE_ADVERTISED } from './constants.js'

/** An Extended DNS Error (RFC 8914) ready to write: info code and UTF-8 text. */
export interface Ede {
  readonly code: number
  readonly text: Buffer
}

export const makeEde = (code: number, text = ''): Ede => ({ code, text: Buffer.from(text, 'utf8') })

/** Bytes an OPT record takes, with an optional EDE option. */
export const optLength = (ede?: Ede): number => 11 + (ede ? 6 + ede.text.length : 0)

/**
 * Writes an OPT pseudo-record (RFC 6891 s6.1.2) at `offset`; returns the offset after it.
 * `rcode` is the full 12-bit rcode: its upper 8 bits go into the OPT TTL.
 */
export function writeOpt(out: Buffer, offset: number, rcode: number, dnssecOk: boolean, ede?: Ede): number {
  out[offset] = 0
  out.writeUInt16BE(TYPE.OPT, offset + 1)
  out.writeUInt16BE(UDP_SIZE_ADVERTISED, offset + 3)
  out[offset + 5] = rcode >> 4
  out[offset + 6] = 0
  out.writeUInt16BE(dnssecOk ? EDNS_DO : 0, offset + 7)
  if (!ede) {
    out.writeUInt16BE(0, offset + 9)
    return offset + 11
  }
  out.writeUInt16BE(6 + ede.text.length, offset + 9)
  out.writeUInt16BE(EDNS_OPTION_EDE, offset + 11)
  out.writeUInt16BE(2 + ede.text.length, offset + 13)
  out.writeUInt16BE(ede.code, offset + 15)
  ede.text.copy(out, offset + 17)
  return offset + 17 + ede.text.length
}

/**
 * Reply flags from the request's flags: QR and RA set, opcode, RD and CD
 * echoed (RFC 1035 s4.1.1), AA/TC/AD clear, the low 4 bits of the rcode.
 */
export const replyFlags = (requestFlags: number, rcode: number): number =>
  FLAG.QR | (requestFlags & (0x7800 | FLAG.RD | FLAG.CD)) | FLAG.RA | (rcode & 0xf)

/**
 * Header + question copied from the request, counts set. Returns the buffer
 * (sized `extra` bytes past the question) for the caller to fill in.
 */
export function startReply(q: Query, rcode: number, ancount: number, nscount: number, extra: number): Buffer {
  const out = Buffer.allocUnsafe(q.questionEnd + extra)
  q.wire.copy(out, 0, 0, q.questionEnd)
  out.writeUInt16BE(replyFlags(q.wire.readUInt16BE(2), rcode), 2)
  out.writeUInt16BE(1, 4)
  out.writeUInt16BE(ancount, 6)
  out.writeUInt16BE(nscount, 8)
  out.writeUInt16BE(q.edns ? 1 : 0, 10)
  return out
}

/** A reply with no records: REFUSED, SERVFAIL, FORMERR… with an OPT (and EDE) when the client spoke EDNS. */
export function emptyReply(q: Query, rcode: number, ede?: Ede): Buffer {
  const out = startReply(q, rcode, 0, 0, q.edns ? optLength(ede) : 0)
  if (q.edns) writeOpt(out, q.questionEnd, rcode, q.dnssecOk, ede)
  return out
}

/**
 * The UDP answer for a reply that does not fit the client's buffer: same
 * rcode, no records, TC=1, so the client retries over TCP (RFC 1035 s4.2.1,
 * RFC 6891 s7).
 */
export function truncatedReply(q: Query, full: Buffer): Buffer {
  const rcode = full.readUInt16BE(2) & 0xf
  const out = emptyReply(q, rcode)
  out.writeUInt16BE(out.readUInt16BE(2) | FLAG.TC, 2)
  return out
}

/**
 * An answer to a packet that is not a usable query (parse failed): the ID and
 * opcode echoed, the question echoed when it is well formed, the rcode set.
 * BADVERS (RFC 6891 s6.1.3) needs an OPT to carry its upper rcode bits.
 */
export function malformedReply(wire: Buffer, rcode: number, questionEnd: number): Buffer {
  const withQuestion = questionEnd > HEADER_LENGTH
  const end = withQuestion ? questionEnd : HEADER_LENGTH
  const badvers = rcode === RCODE.BADVERS
  const out = Buffer.allocUnsafe(end + (badvers ? 11 : 0))
  wire.copy(out, 0, 0, end)
  out.writeUInt16BE(replyFlags(wire.readUInt16BE(2), rcode), 2)
  out.writeUInt16BE(withQuestion ? 1 : 0, 4)
  out.writeUInt32BE(0, 6)
  out.writeUInt16BE(badvers ? 1 : 0, 10)
  if (badvers) writeOpt(out, end, rcode, false)
  return out
}

/** Offset past the single question of a packet, or -1 if it is not well formed. */
export function findQuestionEnd(wire: Buffer): number {
  if (wire.length < HEADER_LENGTH || wire.readUInt16BE(4) !== 1) return -1
  let offset = HEADER_LENGTH
  while (offset < wire.length) {
    const len = wire[offset]
    if (len === 0) return offset + 5 <= wire.length ? offset + 5 : -1
    if (len > 63) return -1
    offset += len + 1
  }
  return -1
}
