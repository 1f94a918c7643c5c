/**
 * The DDR answer (RFC 9462, SVCB for DNS per RFC 9461): SVCB records for
 * `_dns.resolver.arpa` that designate dnsvakt's own encrypted listeners, so
 * devices that upgrade to encrypted DNS (Android, Windows 11, Apple) upgrade
 * to dnsvakt and stay under its policy. One record per protocol and port:
 * DoT with alpn=dot, DoH with alpn=h2 and dohpath=/dns-query{?dns}, each with
 * the port and the listeners' own addresses as ipv4hint/ipv6hint. The
 * records are encoded once (makeDdrPlan); an answer is a header and question
 * copy plus those bytes, like the other locally built answers.
 */
import type { Query } from '../pipeline/query.js'
import { optLength, startReply, writeOpt } from './build-reply.js'
import { CLASS_IN, RCODE, TYPE } from './constants.js'

export interface DdrEndpoint {
  readonly transport: 'dot' | 'doh'
  readonly address: string
  readonly port: number
}

export interface DdrPlan {
  /** The name in dnsvakt's certificate: the SVCB TargetName. */
  readonly serverName: string
  /** Every answer record, back to back, owner = a pointer to the question name. */
  readonly records: Buffer
  readonly count: number
}

/** SvcParamKeys (RFC 9460 s14.3.2, RFC 9461 s5). */
const KEY = { alpn: 1, port: 3, ipv4hint: 4, ipv6hint: 6, dohpath: 7 } as const
export const DOH_PATH_TEMPLATE = '/dns-query{?dns}'

function encodeName(name: string): Buffer {
  const labels = name.split('.').filter((l) => l !== '')
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])])
}

const param = (key: number, value: Buffer): Buffer => {
  const head = Buffer.alloc(4)
  head.writeUInt16BE(key, 0)
  head.writeUInt16BE(value.length, 2)
  return Buffer.concat([head, value])
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff])

/** Bytes of an IPv4 or IPv6 literal (no zone). */
function addressBytes(address: string): Buffer {
  if (!address.includes(':')) return Buffer.from(address.split('.').map(Number))
  const [head, tail = ''] = address.split('%')[0].split('::')
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)))
  const h = words(head)
  const t = address.includes('::') ? words(tail) : []
  const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t]
  return Buffer.concat(all.map(u16))
}

const unspecified = (a: string) => a === '0.0.0.0' || a === '::'

/** One SVCB record's RDATA: priority, target, params in ascending key order. */
function svcbRdata(priority: number, target: Buffer, transport: 'dot' | 'doh', port: number, addresses: readonly string[]): Buffer {
  const alpn = transport === 'dot' ? 'dot' : 'h2'
  const v4 = addresses.filter((a) => !a.includes(':') && !unspecified(a)).map(addressBytes)
  const v6 = addresses.filter((a) => a.includes(':') && !unspecified(a)).map(addressBytes)
  const params = [param(KEY.alpn, Buffer.concat([Buffer.from([alpn.length]), Buffer.from(alpn)])), param(KEY.port, u16(port))]
  if (v4.length > 0) params.push(param(KEY.ipv4hint, Buffer.concat(v4)))
  if (v6.length > 0) params.push(param(KEY.ipv6hint, Buffer.concat(v6)))
  if (transport === 'doh') params.push(param(KEY.dohpath, Buffer.from(DOH_PATH_TEMPLATE, 'utf8')))
  return Buffer.concat([u16(priority), target, ...params])
}

/** Encodes the records for the bound listeners; null when there are none (then: NODATA as before). */
export function makeDdrPlan(serverName: string, endpoints: readonly DdrEndpoint[], ttl: number): DdrPlan | null {
  const target = encodeName(serverName)
  const groups = new Map<string, DdrEndpoint[]>()
  for (const e of endpoints) groups.set(`${e.transport} ${e.port}`, [...(groups.get(`${e.transport} ${e.port}`) ?? []), e])
  // DoT before DoH, then by port: a stable order, priorities 1, 2, ...
  const rank = (list: DdrEndpoint[]) => (list[0].transport === 'dot' ? 0 : 65536) + list[0].port
  const ordered = [...groups.values()].sort((a, b) => rank(a) - rank(b))
  const records = ordered.map((list, i) => {
    const rdata = svcbRdata(i + 1, target, list[0].transport, list[0].port, list.map((e) => e.address))
    const head = Buffer.alloc(12)
    head.writeUInt16BE(0xc00c, 0)
    head.writeUInt16BE(TYPE.SVCB, 2)
    head.writeUInt16BE(CLASS_IN, 4)
    head.writeUInt32BE(ttl, 6)
    head.writeUInt16BE(rdata.length, 10)
    return Buffer.concat([head, rdata])
  })
  return records.length === 0 ? null : { serverName, records: Buffer.concat(records), count: records.length }
}

/** The answer to an SVCB query for a designation name: NOERROR, the plan's records, an OPT if the client sent one. */
export function buildDdrReply(q: Query, plan: DdrPlan): Buffer {
  const out = startReply(q, RCODE.NOERROR, plan.count, 0, plan.records.length + (q.edns ? optLength() : 0))
  plan.records.copy(out, q.questionEnd)
  if (q.edns) writeOpt(out, q.questionEnd + plan.records.length, RCODE.NOERROR, q.dnssecOk)
  return out
}
