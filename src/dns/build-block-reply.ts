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
  let address: Buffer | null = null
  if (mode === 'null' || mode === 'sinkhole') {
    if (q.qtype === TYPE.A) address = mode === 'null' ? NULL_V4 : plan.ipv4
    else if (q.qtype === TYPE.AAAA) address = mode === 'null' ? NULL_V6 : plan.ipv6
  }
  const rcode = mode === 'nxdomain' ? RCODE.NXDOMAIN : mode === 'refused' ? RCODE.REFUSED : RCODE.NOERROR
  const withSoa = address === null && mode !== 'refused'
  const answerLength = address ? 12 + address.length : 0
  const soaLength = withSoa ? 2 + plan.soaRecord.length : 0
  const opt = q.edns ? optLength(plan.ede) : 0
  const out = startReply(q, rcode, address ? 1 : 0, withSoa ? 1 : 0, answerLength + soaLength + opt)
  let offset = q.questionEnd
  if (address) {
    out.writeUInt16BE(POINTER_TO_QNAME, offset)
    out.writeUInt16BE(q.qtype, offset + 2)
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
  if (q.edns) writeOpt(out, offset, rcode, q.dnssecOk, plan.ede)
  return out
}

const NULL_V4 = Buffer.alloc(4)
const NULL_V6 = Buffer.alloc(16)
