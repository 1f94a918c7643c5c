/**
 * Sinkhole answers for blocked names, built in one buffer from the query bytes.
 * Records are owned by a compression pointer to the question name (offset 12),
 * so the answer costs a copy of the question and a few fixed-size writes.
 */
import type { Query } from '../pipeline/query.js'
import { CLASS_IN, EDE, RCODE, TYPE } from './constants.js'
import { type Ede, makeEde, optLength, startReply, writeOpt } from './build-reply.js'
import { parseAddress } from '../net/cidr.js'
import { encodeName } from './question-wire.js'

export type BlockMode = 'nxdomain' | 'nodata' | 'null' | 'refused' | 'sinkhole'

/** Everything a blocked answer needs, prepared once per config load. */
export interface BlockAnswerPlan {
  readonly ttl: number
  /** The SOA record after its owner name: type, class, TTL, rdlength, rdata. */
  readonly soaRecord: Buffer
  readonly ipv4: Buffer | null
  readonly ipv6: Buffer | null
  readonly ede: Ede
  /**
   * Everything after the question, per answer shape (address kind, rcode, EDNS, DO: the index in
   * buildBlockReply), made on first use: a block answer is then one copy. Written only here; a
   * config load makes a new plan, so tails never outlive the settings they were built from.
   */
  readonly tails: (Buffer | undefined)[]
}

const POINTER_TO_QNAME = 0xc00c

/**
 * The SOA in the authority section of NXDOMAIN/NODATA lets clients cache the
 * block for `ttl` seconds (RFC 2308 s5: the negative TTL is min(SOA TTL, MINIMUM)).
 */
export function makeBlockAnswerPlan(opts: {
  ttl: number
  ipv4?: string | null
  ipv6?: string | null
  edeText: string
  soaMname?: string
  soaRname?: string
}): BlockAnswerPlan {
  const mname = encodeName(opts.soaMname ?? 'dnsvakt.invalid')
  const rname = encodeName(opts.soaRname ?? 'hostmaster.dnsvakt.invalid')
  const rdata = Buffer.alloc(mname.length + rname.length + 20)
  mname.copy(rdata, 0)
  rname.copy(rdata, mname.length)
  const times = mname.length + rname.length
  rdata.writeUInt32BE(1, times) // serial
  rdata.writeUInt32BE(3600, times + 4) // refresh
  rdata.writeUInt32BE(600, times + 8) // retry
  rdata.writeUInt32BE(86400, times + 12) // expire
  rdata.writeUInt32BE(opts.ttl, times + 16) // minimum = negative-cache TTL
  const soaRecord = Buffer.alloc(10 + rdata.length)
  soaRecord.writeUInt16BE(TYPE.SOA, 0)
  soaRecord.writeUInt16BE(CLASS_IN, 2)
  soaRecord.writeUInt32BE(opts.ttl, 4)
  soaRecord.writeUInt16BE(rdata.length, 8)
  rdata.copy(soaRecord, 10)
  return {
    ttl: opts.ttl,
    soaRecord,
    ipv4: opts.ipv4 ? addressBytes(opts.ipv4, 4) : null,
    ipv6: opts.ipv6 ? addressBytes(opts.ipv6, 16) : null,
    ede: makeEde(EDE.BLOCKED, opts.edeText),
    tails: [],
  }
}

function addressBytes(text: string, size: 4 | 16): Buffer {
  const bytes = parseAddress(text)
  if (bytes === null || bytes.length !== size) throw new Error(`not an IPv${size === 4 ? 4 : 6} address: ${text}`)
  return Buffer.from(bytes)
}

/**
 * Builds the answer for a blocked query. `mode` may differ from the
 * configured one for names that need a specific answer (the Firefox canary
 * must be NXDOMAIN). Every answer to an EDNS client carries EDE 15 "Blocked".
 */
export function buildBlockReply(q: Query, mode: BlockMode, plan: BlockAnswerPlan): Buffer {
  // Which address record, if any: 0 none, 1/2 the null A/AAAA, 3/4 the configured sinkhole A/AAAA.
  let addressKind = 0
  if (mode === 'null' || mode === 'sinkhole') {
    if (q.qtype === TYPE.A) addressKind = mode === 'null' ? 1 : plan.ipv4 ? 3 : 0
    else if (q.qtype === TYPE.AAAA) addressKind = mode === 'null' ? 2 : plan.ipv6 ? 4 : 0
  }
  const rcode = mode === 'nxdomain' ? RCODE.NXDOMAIN : mode === 'refused' ? RCODE.REFUSED : RCODE.NOERROR
  const withSoa = addressKind === 0 && mode !== 'refused'
  // The shape: address kind (5) x rcode (3) x EDNS x DO; withSoa follows from the first two.
  const rcodeIndex = rcode === RCODE.NXDOMAIN ? 1 : rcode === RCODE.REFUSED ? 2 : 0
  const index = ((addressKind * 3 + rcodeIndex) * 2 + (q.edns ? 1 : 0)) * 2 + (q.dnssecOk ? 1 : 0)
  const tail = plan.tails[index] ?? (plan.tails[index] = buildTail(plan, addressKind, rcode, withSoa, q.edns, q.dnssecOk))
  const out = startReply(q, rcode, addressKind === 0 ? 0 : 1, withSoa ? 1 : 0, tail.length)
  tail.copy(out, q.questionEnd)
  return out
}

/**
 * The bytes after the question for one answer shape: the address record (owned
 * by a pointer to the question name, so it fits any question), the SOA, the OPT
 * with EDE 15. Nothing in it depends on the query beyond the shape.
 */
function buildTail(plan: BlockAnswerPlan, addressKind: number, rcode: number, withSoa: boolean, edns: boolean, dnssecOk: boolean): Buffer {
  const address = addressKind === 1 ? NULL_V4 : addressKind === 2 ? NULL_V6 : addressKind === 3 ? plan.ipv4 : addressKind === 4 ? plan.ipv6 : null
  const answerLength = address ? 12 + address.length : 0
  const soaLength = withSoa ? 2 + plan.soaRecord.length : 0
  const out = Buffer.alloc(answerLength + soaLength + (edns ? optLength(plan.ede) : 0))
  let offset = 0
  if (address) {
    out.writeUInt16BE(POINTER_TO_QNAME, offset)
    out.writeUInt16BE(address.length === 4 ? TYPE.A : TYPE.AAAA, offset + 2)
    out.writeUInt16BE(CLASS_IN, offset + 4)
    out.writeUInt32BE(plan.ttl, offset + 6)
    out.writeUInt16BE(address.length, offset + 10)
    address.copy(out, offset + 12)
    offset += answerLength
  }
  if (withSoa) {
    out.writeUInt16BE(POINTER_TO_QNAME, offset)
    plan.soaRecord.copy(out, offset + 2)
    offset += soaLength
  }
  if (edns) writeOpt(out, offset, rcode, dnssecOk, plan.ede)
  return out
}

const NULL_V4 = Buffer.alloc(4)
const NULL_V6 = Buffer.alloc(16)
