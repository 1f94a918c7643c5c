/**
 * The one parser every client packet goes through. It reads the header, the
 * single question and the OPT record, and nothing else: answers never need the
 * rest. One string is allocated per query (the lower-cased name), built in a
 * reusable scratch buffer so the common case costs a single latin1 decode.
 */
import { Query } from '../pipeline/query.js'
import type { Transport } from '../pipeline/transport.js'
import { EDNS_DO, FLAG, HEADER_LENGTH, OPCODE_QUERY, RCODE, TYPE, UDP_SIZE_NO_EDNS } from './constants.js'

/** Why a packet is not a usable query. DROP: not even a header; the others are rcodes to answer with. */
export const PARSE_DROP = -1
export const PARSE_FORMERR = RCODE.FORMERR
export const PARSE_NOTIMP = RCODE.NOTIMP
export const PARSE_BADVERS = RCODE.BADVERS
export type ParseFailure = typeof PARSE_DROP | typeof PARSE_FORMERR | typeof PARSE_NOTIMP | typeof PARSE_BADVERS

/** Longest presentation name: 255 wire octets become at most 253 characters (more when escaped, handled apart). */
// Scratch space for decodeName. Node runs this on one thread and decodeName never
// re-enters, so sharing it is safe; it saves an allocation per query.
const SCRATCH = Buffer.allocUnsafe(256)

/**
 * Parses a client query. Returns a Query, or a ParseFailure code telling the
 * listener to drop the packet or answer with that rcode (RFC 1035 s4.1.1,
 * RFC 6891 s6.1.3 for BADVERS).
 */
export function parseQuery(
  wire: Buffer,
  clientAddress: string,
  clientPort: number,
  transport: Transport,
  now: number,
): Query | ParseFailure {
  if (wire.length < HEADER_LENGTH) return PARSE_DROP
  const flags = wire.readUInt16BE(2)
  // A response sent to us is never answered: answering could start a loop between two servers.
  if ((flags & FLAG.QR) !== 0) return PARSE_DROP
  if (((flags >> 11) & 0xf) !== OPCODE_QUERY) return PARSE_NOTIMP
  if (wire.readUInt16BE(4) !== 1) return PARSE_FORMERR

  const nameEnd = scanName(wire, HEADER_LENGTH)
  if (nameEnd < 0 || nameEnd + 4 > wire.length) return PARSE_FORMERR
  const qtype = wire.readUInt16BE(nameEnd)
  const qclass = wire.readUInt16BE(nameEnd + 2)
  const questionEnd = nameEnd + 4

  // Skip answer and authority records (a query normally has none) to reach the OPT.
  let offset = questionEnd
  const skipCount = wire.readUInt16BE(6) + wire.readUInt16BE(8)
  for (let i = 0; i < skipCount; i++) {
    offset = skipRecord(wire, offset)
    if (offset < 0) return PARSE_FORMERR
  }
  let edns = false
  let udpSize = UDP_SIZE_NO_EDNS
  let dnssecOk = false
  const arcount = wire.readUInt16BE(10)
  for (let i = 0; i < arcount; i++) {
    const start = offset
    offset = skipRecord(wire, offset)
    if (offset < 0) return PARSE_FORMERR
    if (wire[start] === 0 && wire.readUInt16BE(start + 1) === TYPE.OPT) {
      // RFC 6891 s6.1.1: more than one OPT is FORMERR.
      if (edns) return PARSE_FORMERR
      edns = true
      const size = wire.readUInt16BE(start + 3)
      // s6.2.3: values below 512 are treated as 512.
      udpSize = size < UDP_SIZE_NO_EDNS ? UDP_SIZE_NO_EDNS : size
      const version = wire[start + 6]
      dnssecOk = (wire.readUInt16BE(start + 7) & EDNS_DO) !== 0
      if (version !== 0) return PARSE_BADVERS
    }
  }

  const name = decodeName(wire, HEADER_LENGTH, nameEnd)
  return new Query(
    wire,
    wire.readUInt16BE(0),
    name,
    qtype,
    qclass,
    questionEnd,
    edns,
    udpSize,
    dnssecOk,
    (flags & FLAG.CD) !== 0,
    clientAddress,
    clientPort,
    transport,
    now,
  )
}

/**
 * Validates an uncompressed name at `offset` and returns the offset after it,
 * or -1. Questions carry no compression pointers in practice; refusing them
 * keeps the parser free of pointer loops.
 */
function scanName(wire: Buffer, offset: number): number {
  let wireLength = 0
  for (;;) {
    if (offset >= wire.length) return -1
    const len = wire[offset]
    if (len === 0) return wireLength + 1 > 255 ? -1 : offset + 1
    if (len > 63) return -1
    wireLength += len + 1
    offset += len + 1
  }
}

/** Skips one resource record (name may be compressed) and returns the next offset, or -1. */
export function skipRecord(wire: Buffer, offset: number): number {
  offset = skipCompressedName(wire, offset)
  if (offset < 0 || offset + 10 > wire.length) return -1
  const end = offset + 10 + wire.readUInt16BE(offset + 8)
  return end > wire.length ? -1 : end
}

/** Skips a possibly compressed name without following pointers (a pointer ends the name). */
export function skipCompressedName(wire: Buffer, offset: number): number {
  for (;;) {
    if (offset >= wire.length) return -1
    const len = wire[offset]
    if (len === 0) return offset + 1
    if ((len & 0xc0) === 0xc0) return offset + 2 <= wire.length ? offset + 2 : -1
    if (len > 63) return -1
    offset += len + 1
  }
}

/**
 * Turns a validated wire name into its lower-case presentation form. Fast
 * path: LDH-ish bytes are lower-cased into SCRATCH and decoded once. A label
 * with a dot, a backslash or a non-printable byte takes the escaped path, so
 * two different wire names can never share one string (cache key, trie walk).
 */
function decodeName(wire: Buffer, start: number, end: number): string {
  let out = 0
  let offset = start
  for (;;) {
    const len = wire[offset++]
    if (len === 0) break
    if (out !== 0) SCRATCH[out++] = 0x2e
    for (let i = 0; i < len; i++) {
      let c = wire[offset++]
      if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c) return decodeEscaped(wire, start, end)
      if (c >= 0x41 && c <= 0x5a) c |= 0x20
      SCRATCH[out++] = c
    }
  }
  return out === 0 ? '' : SCRATCH.toString('latin1', 0, out)
}

function decodeEscaped(wire: Buffer, start: number, end: number): string {
  const parts: string[] = []
  let offset = start
  while (offset < end - 1) {
    const len = wire[offset++]
    let label = ''
    for (let i = 0; i < len; i++) {
      let c = wire[offset++]
      if (c >= 0x41 && c <= 0x5a) c |= 0x20
      if (c <= 0x20 || c >= 0x7f) label += '\\' + String(c).padStart(3, '0')
      else if (c === 0x2e || c === 0x5c) label += '\\' + String.fromCharCode(c)
      else label += String.fromCharCode(c)
    }
    parts.push(label)
  }
  return parts.join('.')
}
