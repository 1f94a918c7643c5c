import t from 'tap'
import dnsPacket from 'dns-packet'
import { type BlockMode, buildBlockReply, makeBlockAnswerPlan } from '../../src/dns/build-block-reply.js'
import {
  canonicalV6,
  decode,
  decodedBytes,
  edeOf,
  encodeQuery,
  makeQuery,
  optOf,
  type QueryOptions,
} from '../fixtures/dns-wire.js'

const EDE_TEXT = 'Blocked by municipal ICT rules (NSM 2023)'
const TTL = 300

const plan = makeBlockAnswerPlan({ ttl: TTL, ipv4: '10.20.0.80', ipv6: 'fd00:20::80', edeText: EDE_TEXT })
const planNoV6 = makeBlockAnswerPlan({ ttl: 60, ipv4: '192.0.2.1', ipv6: null, edeText: 'ø blocked' })

const CLIENTS: Array<[string, Omit<QueryOptions, 'type'>]> = [
  ['plain', { id: 0x0102, name: 'WwW.TikTok.CoM' }],
  ['no RD', { id: 0xfffe, name: 'tiktok.com', flags: 0 }],
  ['EDNS', { id: 0x1111, name: 'Api.Telegram.ORG', edns: { udpSize: 1232 } }],
  ['EDNS+DO, CD', { id: 0x2222, name: 'dns.google', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED, edns: { udpSize: 4096, do: true } }],
]

const QTYPES = ['A', 'AAAA', 'MX', 'TXT', 'UNKNOWN_65']

interface Expect {
  rcode: string
  /** The address in the one answer record, or null for no answer. */
  address: string | null
  soa: boolean
}

function expected(mode: BlockMode, qtype: string, v4: string | null, v6: string | null): Expect {
  const nodata: Expect = { rcode: 'NOERROR', address: null, soa: true }
  switch (mode) {
    case 'nxdomain':
      return { rcode: 'NXDOMAIN', address: null, soa: true }
    case 'nodata':
      return nodata
    case 'refused':
      return { rcode: 'REFUSED', address: null, soa: false }
    case 'null':
      if (qtype === 'A') return { rcode: 'NOERROR', address: '0.0.0.0', soa: false }
      if (qtype === 'AAAA') return { rcode: 'NOERROR', address: '::', soa: false }
      return nodata
    case 'sinkhole':
      if (qtype === 'A' && v4) return { rcode: 'NOERROR', address: v4, soa: false }
      if (qtype === 'AAAA' && v6) return { rcode: 'NOERROR', address: v6, soa: false }
      return nodata
  }
  throw new Error(`unknown mode ${mode}`)
}

const MODES: BlockMode[] = ['nxdomain', 'nodata', 'null', 'refused', 'sinkhole']
const PLANS: Array<[string, typeof plan, string | null, string | null, number, string]> = [
  ['v4+v6 plan', plan, '10.20.0.80', 'fd00:20::80', TTL, EDE_TEXT],
  ['v4-only plan', planNoV6, '192.0.2.1', null, 60, 'ø blocked'],
]

t.test('every mode, qtype and client, decoded by dns-packet', async (t) => {
  for (const [planName, p, v4, v6, ttl, edeText] of PLANS) {
    for (const mode of MODES) {
      for (const qtype of QTYPES) {
        for (const [clientName, c] of CLIENTS) {
          const what = `${planName} ${mode} ${qtype} ${clientName}`
          const opts = { ...c, type: qtype }
          const request = encodeQuery(opts)
          const asked = decode(request)
          const q = makeQuery(opts)
          const wire = buildBlockReply(q, mode, p)
          let r
          try {
            r = decode(wire)
          } catch (e) {
            t.fail(`${what}: dns-packet cannot decode the reply: ${(e as Error).message}`)
            continue
          }
          const exp = expected(mode, qtype, v4, v6)
          t.equal(decodedBytes(), wire.length, `${what}: exact length`)
          t.equal(r.id, c.id, `${what}: id echoed`)
          t.equal(r.flag_qr, true, `${what}: QR`)
          t.equal(r.flag_ra, true, `${what}: RA`)
          t.equal(r.flag_rd, asked.flag_rd, `${what}: RD echoed`)
          t.equal(r.flag_cd, asked.flag_cd, `${what}: CD echoed`)
          t.equal(r.flag_tc, false, `${what}: TC clear`)
          t.equal(r.rcode, exp.rcode, `${what}: rcode`)
          t.same(wire.subarray(12, q.questionEnd), request.subarray(12, q.questionEnd), `${what}: question byte for byte (0x20)`)
          t.same(r.questions, asked.questions, `${what}: question`)

          // answer section
          t.equal(r.answers!.length, exp.address === null ? 0 : 1, `${what}: answer count`)
          if (exp.address !== null && r.answers!.length === 1) {
            const a = r.answers![0] as { name: string; type: string; ttl: number; data: string; class: string }
            t.equal(a.name, c.name, `${what}: answer owner is the question name`)
            t.equal(a.type, qtype, `${what}: answer type`)
            t.equal(a.class, 'IN', `${what}: answer class`)
            t.equal(a.ttl, ttl, `${what}: answer TTL`)
            if (qtype === 'AAAA') t.equal(canonicalV6(a.data), canonicalV6(exp.address), `${what}: address`)
            else t.equal(a.data, exp.address, `${what}: address`)
          }

          // authority: SOA for NXDOMAIN/NODATA (RFC 2308), minimum = block TTL
          const soas = r.authorities!.filter((x) => x.type === 'SOA')
          t.equal(r.authorities!.length, exp.soa ? 1 : 0, `${what}: authority count`)
          t.equal(soas.length, exp.soa ? 1 : 0, `${what}: SOA iff NXDOMAIN/NODATA`)
          if (soas.length === 1) {
            const s = soas[0] as { name: string; ttl: number; data: dnsPacket.SoaData }
            t.equal(s.ttl, ttl, `${what}: SOA TTL`)
            t.equal(s.data.minimum, ttl, `${what}: SOA minimum = block TTL`)
            t.equal(Math.min(s.ttl, s.data.minimum ?? Infinity), ttl, `${what}: negative-cache TTL (RFC 2308 s5)`)
            t.equal(s.data.mname, 'dnsvakt.invalid', `${what}: default mname`)
          }

          // OPT + EDE 15
          const opt = optOf(r)
          t.equal(opt !== undefined, q.edns, `${what}: OPT iff EDNS`)
          t.equal(r.additionals!.length, q.edns ? 1 : 0, `${what}: additional count`)
          if (opt) {
            t.same(edeOf(opt), { infoCode: 15, text: edeText }, `${what}: EDE 15 Blocked with the configured text`)
            t.equal(opt.flag_do, q.dnssecOk, `${what}: DO echoed`)
            t.equal(opt.extendedRcode, 0, `${what}: no extended rcode`)
          }
        }
      }
    }
  }
})

t.test('SOA names are configurable', async (t) => {
  const p = makeBlockAnswerPlan({ ttl: 42, edeText: '', soaMname: 'ns.block.example.', soaRname: 'noc.block.example' })
  const r = decode(buildBlockReply(makeQuery({ name: 'x.example', edns: { udpSize: 1232 } }), 'nxdomain', p))
  const s = r.authorities![0] as { data: dnsPacket.SoaData; ttl: number }
  t.equal(s.data.mname, 'ns.block.example')
  t.equal(s.data.rname, 'noc.block.example')
  t.equal(s.data.minimum, 42)
  t.equal(s.ttl, 42)
  t.same(edeOf(optOf(r)), { infoCode: 15, text: '' }, 'empty text still sends EDE 15')
})

t.test('sinkhole addresses in every IPv6 spelling the config accepts', async (t) => {
  // Config checks sinkhole.ipv6 with node:net isIP(…) === 6, so all of these reach makeBlockAnswerPlan.
  const v6s = ['fd00:20::80', '::', '::1', '2001:db8::', '2001:DB8:0:0:1:0:0:1', '1:2:3:4:5:6:7:8', '::ffff:10.20.0.80', '64:ff9b::192.0.2.33']
  for (const v6 of v6s) {
    const p = makeBlockAnswerPlan({ ttl: 60, ipv4: '10.0.0.1', ipv6: v6, edeText: 'x' })
    const r = decode(buildBlockReply(makeQuery({ name: 'a.example', type: 'AAAA' }), 'sinkhole', p))
    const a = r.answers![0] as { data: string } | undefined
    t.equal(a && canonicalV6(a.data), canonicalV6(v6), `AAAA answer for ${v6}`)
  }
  const v4s = ['0.0.0.0', '10.20.0.80', '255.255.255.255', '192.0.2.1']
  for (const v4 of v4s) {
    const p = makeBlockAnswerPlan({ ttl: 60, ipv4: v4, ipv6: null, edeText: 'x' })
    const r = decode(buildBlockReply(makeQuery({ name: 'a.example', type: 'A' }), 'sinkhole', p))
    t.equal((r.answers![0] as { data: string }).data, v4, `A answer for ${v4}`)
  }
})

t.test('the request is never modified', async (t) => {
  for (const mode of MODES) {
    const q = makeQuery({ name: 'ExAmPlE.com', type: 'A', edns: { udpSize: 1232, do: true } })
    const copy = Buffer.from(q.wire)
    buildBlockReply(q, mode, plan)
    t.ok(q.wire.equals(copy), mode)
  }
})
