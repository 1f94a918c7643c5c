/**
 * EDNS(0) Padding (RFC 7830) for answers sent over DoT and DoH: the
 * Block-Length Padding strategy of RFC 8467 s4.1, responses padded to a
 * multiple of 468 bytes, so an observer of the encrypted stream learns the
 * answer's size only to within a block. Only answers that carry an OPT record
 * are padded (the client spoke EDNS: RFC 7830 s4 lets a responder pad then);
 * an existing padding option is replaced, never doubled. Applied at the send
 * edge of the encrypted listeners only: plain UDP/TCP answers are untouched.
 */
import { HEADER_LENGTH, TYPE } from './constants.js'
import { skipCompressedName, skipRecord } from './parse-query.js'

/** RFC 8467 s4.1: the recommended block length for responses. */
export const RESPONSE_BLOCK = 468
export const EDNS_OPTION_PADDING = 12

/** Offset of the OPT record in a well-formed message, or -1. */
function findOpt(wire: Buffer): number {
  if (wire.length < HEADER_LENGTH) return -1
  let o = HEADER_LENGTH
  for (let i = wire.readUInt16BE(4); i > 0; i--) {
    o = skipCompressedName(wire, o)
    if (o < 0 || o + 4 > wire.length) return -1
    o += 4
  }
  const records = wire.readUInt16BE(6) + wire.readUInt16BE(8)
  for (let i = 0; i < records; i++) if ((o = skipRecord(wire, o)) < 0) return -1
  for (let i = wire.readUInt16BE(10); i > 0; i--) {
    if (wire[o] === 0 && o + 3 <= wire.length && wire.readUInt16BE(o + 1) === TYPE.OPT) return o
    if ((o = skipRecord(wire, o)) < 0) return -1
  }
  return -1
}

/**
 * `wire` padded to a multiple of `block` bytes with a padding option in its
 * OPT record; `wire` itself when it has no OPT, is malformed, or would pass
 * 65535 bytes. Always a new buffer when padded; `wire` is never written.
 */
export function padResponse(wire: Buffer, block = RESPONSE_BLOCK): Buffer {
  const opt = findOpt(wire)
  if (opt < 0) return wire
  const rdStart = opt + 11
  const rdEnd = rdStart + wire.readUInt16BE(opt + 9)
  if (rdEnd > wire.length) return wire
  // The OPT's options without any padding already there.
  const kept: Buffer[] = []
  for (let o = rdStart; o + 4 <= rdEnd; ) {
    const len = wire.readUInt16BE(o + 2)
    if (wire.readUInt16BE(o) !== EDNS_OPTION_PADDING) kept.push(wire.subarray(o, o + 4 + len))
    o += 4 + len
  }
  const keptLength = kept.reduce((n, b) => n + b.length, 0)
  const unpadded = wire.length - (rdEnd - rdStart) + keptLength + 4
  const target = Math.ceil(unpadded / block) * block
  if (target > 0xffff) return wire
  const padding = target - unpadded
  const out = Buffer.alloc(target)
  wire.copy(out, 0, 0, rdStart)
  out.writeUInt16BE(keptLength + 4 + padding, opt + 9)
  let o = rdStart
  for (const b of kept) o += b.copy(out, o)
  out.writeUInt16BE(EDNS_OPTION_PADDING, o)
  out.writeUInt16BE(padding, o + 2)
  // The padding bytes are zero (Buffer.alloc), as RFC 7830 s3 asks.
  wire.copy(out, o + 4 + padding, rdEnd)
  return out
}
