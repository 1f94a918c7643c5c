import t from 'tap'
import dnsPacket from 'dns-packet'
import {
  emptyReply,
  findQuestionEnd,
  makeEde,
  malformedReply,
  optLength,
  replyFlags,
  truncatedReply,
  writeOpt,
} from '../../src/dns/build-reply.js'
import { PARSE_BADVERS, PARSE_FORMERR, PARSE_NOTIMP, parseQuery } from '../../src/dns/parse-query.js'
import {
  decode,
  decodedBytes,
  dnsOpcodes,
  dnsRcodes,
  edeOf,
  encodeQuery,
  encodeResponse,
  fullRcode,
  makeQuery,
  optOf,
  rr,
  soa,
  type QueryOptions,
} from '../fixtures/dns-wire.js'

const RCODES: Array<[string, number]> = [
  ['NOERROR', 0],
  ['FORMERR', 1],
  ['SERVFAIL', 2],
  ['NXDOMAIN', 3],
  ['NOTIMP', 4],
  ['REFUSED', 5],
]

/** The clients every reply is checked against: with and without EDNS/DO/RD/CD, 0x20 names. */
const CLIENTS: Array<[string, QueryOptions]> = [
  ['plain, RD', { id: 0x0001, name: 'ExAmPlE.CoM', type: 'A' }],
  ['plain, no RD', { id: 0xfffe, name: 'www.Example.ORG', type: 'AAAA', flags: 0 }],
  ['RD+CD+AD', { id: 0x8001, name: 'x.y.z', type: 'MX', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED | dnsPacket.AUTHENTIC_DATA }],
  ['EDNS', { id: 0x1234, name: 'TikTok.com', type: 'A', edns: { udpSize: 1232 } }],
  ['EDNS+DO', { id: 0x4321, name: 'a.B.c', type: 'TXT', edns: { udpSize: 4096, do: true } }],
  ['root, EDNS', { id: 7, name: '.', type: 'NS', edns: { udpSize: 512 } }],
]

t.test('emptyReply: every rcode for every kind of client', async (t) => {
  for (const [clientName, opts] of CLIENTS) {
    const request = encodeQuery(opts)
    const asked = decode(request)
    const q = makeQuery(opts)
    for (const [rcodeName, rcode] of RCODES) {
      for (const withEde of [false, true]) {
        const what = `${clientName} ${rcodeName}${withEde ? ' +EDE' : ''}`
        const ede = withEde ? makeEde(15, 'Blokkert av kommunen – NSM 2023') : undefined
        const wire = emptyReply(q, rcode, ede)
        const p = decode(wire)
        t.equal(decodedBytes(), wire.length, `${what}: no trailing bytes`)
        t.equal(p.id, opts.id, `${what}: id echoed`)
        t.equal(p.flag_qr, true, `${what}: QR`)
        t.equal(p.flag_ra, true, `${what}: RA`)
        t.equal(p.flag_rd, asked.flag_rd, `${what}: RD echoed`)
        t.equal(p.flag_cd, asked.flag_cd, `${what}: CD echoed`)
        t.equal(p.flag_aa, false, `${what}: AA clear`)
        t.equal(p.flag_tc, false, `${what}: TC clear`)
        t.equal(p.flag_ad, false, `${what}: AD clear`)
        t.equal(p.rcode, rcodeName, `${what}: rcode`)
        t.same(wire.subarray(12, q.questionEnd), request.subarray(12, q.questionEnd), `${what}: question echoed byte for byte`)
        t.same(p.questions, asked.questions, `${what}: question decodes the same`)
        t.equal(p.answers!.length + p.authorities!.length, 0, `${what}: no records`)
        const opt = optOf(p)
        t.equal(opt !== undefined, q.edns, `${what}: OPT iff the client sent EDNS`)
        t.equal(p.additionals!.length, q.edns ? 1 : 0, `${what}: nothing else in additional`)
        if (opt) {
          t.equal(opt.flag_do, q.dnssecOk, `${what}: DO echoed in our OPT`)
          t.equal(opt.ednsVersion, 0, `${what}: EDNS version 0`)
          t.equal(opt.extendedRcode, 0, `${what}: no extended rcode bits`)
          t.ok(opt.udpPayloadSize >= 512, `${what}: advertises a UDP size`)
          const e = edeOf(opt)
          if (withEde) t.same(e, { infoCode: 15, text: 'Blokkert av kommunen – NSM 2023' }, `${what}: EDE`)
          else t.equal(e, undefined, `${what}: no EDE`)
        }
      }
    }
  }
})

t.test('the opcode is echoed', async (t) => {
  for (const opcode of [0, 2, 4, 5]) {
    const wire = encodeQuery({ name: 'example.com', flags: opcode << 11 })
    const out = malformedReply(wire, PARSE_NOTIMP, findQuestionEnd(wire))
    const p = decode(out)
    t.equal(p.opcode, dnsOpcodes.toString(opcode), `opcode ${opcode}`)
    t.equal(p.rcode, 'NOTIMP')
  }
})

t.test('optLength matches what writeOpt writes, and dns-packet reads it back', async (t) => {
  const edes = [undefined, makeEde(15), makeEde(15, 'Blocked'), makeEde(3, 'ø'.repeat(50)), makeEde(22, 'x'.repeat(200))]
  for (const ede of edes) {
    for (const rcode of [0, 3, 16, 23]) {
      for (const dnssecOk of [false, true]) {
        const what = `ede ${ede ? `${ede.code}/${ede.text.length}` : 'none'} rcode ${rcode} do ${dnssecOk}`
        const len = optLength(ede)
        const buf = Buffer.alloc(len + 12)
        buf.writeUInt16BE(0x8000 | (rcode & 0xf), 2)
        buf.writeUInt16BE(1, 10) // one additional record, no question
        const end = writeOpt(buf, 12, rcode, dnssecOk, ede)
        t.equal(end, 12 + len, `${what}: returns the end`)
        const p = decode(buf)
        t.equal(decodedBytes(), buf.length, `${what}: exact length`)
        const opt = optOf(p)!
        t.equal(fullRcode(buf, p), rcode, `${what}: extended rcode`)
        t.equal(opt.flag_do, dnssecOk, `${what}: DO`)
        t.same(edeOf(opt), ede ? { infoCode: ede.code, text: ede.text.toString('utf8') } : undefined, `${what}: EDE`)
      }
    }
  }
})

t.test('replyFlags keeps opcode, RD and CD, sets QR and RA, clears AA/TC/AD/Z, writes the rcode', async (t) => {
  for (let requestFlags = 0; requestFlags < 0x10000; requestFlags += 0x0131) {
    for (const rcode of [0, 3, 5, 16 + 2]) {
      const f = replyFlags(requestFlags, rcode)
      const hdr = Buffer.alloc(12)
      hdr.writeUInt16BE(f, 2)
      const p = decode(hdr)
      const req = Buffer.alloc(12)
      req.writeUInt16BE(requestFlags, 2)
      const r = decode(req)
      const what = `flags 0x${requestFlags.toString(16)} rcode ${rcode}`
      if (
        p.flag_qr !== true || p.flag_ra !== true || p.opcode !== r.opcode || p.flag_rd !== r.flag_rd || p.flag_cd !== r.flag_cd ||
        p.flag_aa || p.flag_tc || p.flag_ad || p.flag_z || p.rcode !== dnsRcodes.toString(rcode & 0xf)
      ) {
        t.fail(`${what}: ${JSON.stringify(p)}`)
      }
    }
  }
  t.pass('all combinations checked')
})

t.test('truncatedReply: TC set, same rcode, records dropped, OPT iff EDNS', async (t) => {
  const answers = Array.from({ length: 40 }, (_, i) => rr('A', 'big.example', 300, `192.0.2.${i}`))
  const fulls: Array<[string, number, Buffer]> = [
    ['NOERROR with 40 A records', 0, encodeResponse({ name: 'big.example', answers, additionals: [rr('A', 'ns.example', 5, '192.0.2.200')] })],
    ['NXDOMAIN with SOA', 3, encodeResponse({ name: 'big.example', rcode: 3, authorities: [soa('example', 900, 300)] })],
  ]
  for (const [clientName, opts] of CLIENTS) {
    const q = makeQuery({ ...opts, name: 'Big.Example' })
    const request = encodeQuery({ ...opts, name: 'Big.Example' })
    for (const [what, rcode, full] of fulls) {
      const out = truncatedReply(q, full)
      const p = decode(out)
      t.equal(decodedBytes(), out.length, `${clientName} ${what}: exact length`)
      t.equal(p.flag_tc, true, `${clientName} ${what}: TC`)
      t.equal(p.flag_qr, true, `${clientName} ${what}: QR`)
      t.equal(p.rcode, dnsRcodes.toString(rcode), `${clientName} ${what}: rcode kept`)
      t.equal(p.id, opts.id, `${clientName} ${what}: the client's id`)
      t.same(out.subarray(12, q.questionEnd), request.subarray(12, q.questionEnd), `${clientName} ${what}: question echoed`)
      t.equal(p.answers!.length + p.authorities!.length, 0, `${clientName} ${what}: records dropped`)
      t.equal(optOf(p) !== undefined, q.edns, `${clientName} ${what}: OPT iff EDNS`)
      t.equal(p.additionals!.length, q.edns ? 1 : 0, `${clientName} ${what}: no other additional`)
      t.ok(out.length <= 512, `${clientName} ${what}: fits any client`)
    }
  }
})

t.test('malformedReply', async (t) => {
  t.test('BADVERS: extended rcode 16 carried in an OPT (RFC 6891 s6.1.3), question echoed', async (t) => {
    for (const version of [1, 2, 255]) {
      for (const dnssecOk of [false, true]) {
        const request = encodeQuery({ id: 0x2a2a, name: 'WwW.Example.Com', type: 'AAAA', edns: { version, do: dnssecOk } })
        const parsed = parseQuery(request, '10.0.0.1', 1, 'udp', 0)
        t.equal(parsed, PARSE_BADVERS, `version ${version}: parse says BADVERS`)
        const qEnd = findQuestionEnd(request)
        const out = malformedReply(request, PARSE_BADVERS, qEnd)
        const p = decode(out)
        const what = `version ${version} do ${dnssecOk}`
        t.equal(decodedBytes(), out.length, `${what}: exact length`)
        t.equal(fullRcode(out, p), 16, `${what}: rcode 16 (BADVERS)`)
        const opt = optOf(p)!
        t.ok(opt, `${what}: has an OPT`)
        t.equal(opt.ednsVersion, 0, `${what}: answers with the version we speak`)
        t.equal(p.id, 0x2a2a, `${what}: id`)
        t.equal(p.flag_qr, true, `${what}: QR`)
        t.same(p.questions, decode(request).questions, `${what}: question echoed`)
        t.same(out.subarray(12, qEnd), request.subarray(12, qEnd), `${what}: byte for byte`)
        t.equal(p.answers!.length + p.authorities!.length, 0, `${what}: no records`)
      }
    }
  })

  t.test('FORMERR and NOTIMP, with and without a usable question', async (t) => {
    const twoQuestions = dnsPacket.encode({
      type: 'query',
      id: 99,
      questions: [{ name: 'a.example', type: 'A' }, { name: 'b.example', type: 'A' }],
    })
    const badLabel = Buffer.concat([encodeQuery({ id: 98, name: 'x' }).subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])])
    const cut = encodeQuery({ id: 97, name: 'example.com' }).subarray(0, 20)
    const notimp = encodeQuery({ id: 96, name: 'example.com', flags: 2 << 11 })
    const extraOpt = dnsPacket.encode({
      type: 'query',
      id: 95,
      questions: [{ name: 'Two.Opts', type: 'A' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer,
        { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer,
      ],
    })
    // [what, wire, rcode, question expected]
    const cases: Array<[string, Buffer, number, boolean]> = [
      ['qdcount 2', twoQuestions, PARSE_FORMERR, false],
      ['pointer in question', badLabel, PARSE_FORMERR, false],
      ['truncated question', cut, PARSE_FORMERR, false],
      ['two OPTs', extraOpt, PARSE_FORMERR, true],
      ['opcode STATUS', notimp, PARSE_NOTIMP, true],
    ]
    for (const [what, wire, rcode, withQuestion] of cases) {
      t.equal(parseQuery(wire, '10.0.0.1', 1, 'udp', 0), rcode, `${what}: parse result`)
      const out = malformedReply(wire, rcode, findQuestionEnd(wire))
      const p = decode(out)
      t.equal(decodedBytes(), out.length, `${what}: exact length`)
      t.equal(p.id, wire.readUInt16BE(0), `${what}: id`)
      t.equal(p.flag_qr, true, `${what}: QR`)
      t.equal(p.rcode, dnsRcodes.toString(rcode), `${what}: rcode`)
      t.equal(p.questions!.length, withQuestion ? 1 : 0, `${what}: question echoed only when well formed`)
      if (withQuestion) t.same(p.questions, decode(wire).questions!.slice(0, 1), `${what}: the question`)
      t.equal(p.answers!.length + p.authorities!.length + p.additionals!.length, 0, `${what}: no records, no OPT`)
    }
  })
})

t.test('findQuestionEnd agrees with parseQuery and with dns-packet', async (t) => {
  const names = ['example.com', 'ExAmPlE.CoM', '.', 'a.b.c.d.e.f', 'x'.repeat(63) + '.com']
  for (const name of names) {
    for (const edns of [false, true]) {
      const wire = encodeQuery({ name, type: 'MX', edns: edns ? { udpSize: 1232 } : false })
      const q = makeQuery({ name, type: 'MX', edns: edns ? { udpSize: 1232 } : false })
      const alone = dnsPacket.encode({ type: 'query', questions: [{ name, type: 'MX' }] }).length
      t.equal(findQuestionEnd(wire), alone, `${name} edns ${edns}`)
      t.equal(findQuestionEnd(wire), q.questionEnd, `${name} edns ${edns}: same as parseQuery`)
    }
  }
  const ok = encodeQuery({ name: 'example.com' })
  const cases: Array<[string, Buffer]> = [
    ['shorter than a header', ok.subarray(0, 11)],
    ['cut in the name', ok.subarray(0, 16)],
    ['cut in qtype/qclass', ok.subarray(0, ok.length - 1)],
    ['qdcount 0', dnsPacket.encode({ type: 'query', questions: [] })],
    ['pointer', Buffer.concat([ok.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])])],
    ['label 64', Buffer.concat([ok.subarray(0, 12), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0, 0, 1, 0, 1])])],
  ]
  for (const [what, wire] of cases) t.equal(findQuestionEnd(wire), -1, what)
})
