import t from 'tap'
import { svcbRdata } from '../fixtures/svcb.js'
import dnsPacket from 'dns-packet'
import { readAnswer, readName } from '../../src/dns/read-answer.js'
import { isDnsvaktError } from '../../src/errors.js'
import {
  asciiLower,
  canonicalV6,
  decode,
  decodedBytes,
  encodeResponse,
  optRecord,
  prng,
  rr,
  soa,
} from '../fixtures/dns-wire.js'

const NOERROR = 0
const NXDOMAIN = 3
const SERVFAIL = 2

/** Every non-OPT record of a decoded packet, in wire order. */
const records = (p: dnsPacket.DecodedPacket) =>
  [...(p.answers ?? []), ...(p.authorities ?? []), ...(p.additionals ?? [])].filter((r) => r.type !== 'OPT') as Array<{
    type: string
    name: string
    ttl: number
    data: unknown
  }>

type Asserter = Pick<typeof t, 'ok' | 'fail'>

const throwsUpstreamAnswer = (t: Asserter, fn: () => unknown, what: string) => {
  try {
    fn()
    t.fail(`${what}: did not throw`)
  } catch (e) {
    t.ok(isDnsvaktError(e, 'DNSVAKT_ERR_UPSTREAM_ANSWER'), `${what}: DNSVAKT_ERR_UPSTREAM_ANSWER (${(e as Error).message})`)
  }
}

// A spread of realistic answers, all encoded by dns-packet.
const ANSWERS: Array<[string, Buffer]> = [
  [
    'A records with different TTLs + NS authority + glue',
    encodeResponse({
      name: 'example.com',
      answers: [rr('A', 'example.com', 300, '192.0.2.1'), rr('A', 'example.com', 60, '192.0.2.2'), rr('A', 'example.com', 3600, '192.0.2.3')],
      authorities: [rr('NS', 'example.com', 86400, 'ns1.example.com')],
      additionals: [rr('A', 'ns1.example.com', 7200, '192.0.2.53'), rr('AAAA', 'ns1.example.com', 7201, '2001:db8::53')],
    }),
  ],
  [
    'CNAME chain to AAAA, with OPT',
    encodeResponse({
      name: 'www.example.org',
      type: 'AAAA',
      answers: [
        rr('CNAME', 'www.example.org', 120, 'Edge.CDN.example.net'),
        rr('CNAME', 'edge.cdn.example.net', 20, 'X1.edge.example.net'),
        rr('AAAA', 'x1.edge.example.net', 45, '2001:db8::1'),
        rr('AAAA', 'x1.edge.example.net', 45, '2001:db8:ffff::2'),
      ],
      additionals: [optRecord({ udpSize: 1232, do: true })],
    }),
  ],
  [
    'NXDOMAIN with SOA and OPT',
    encodeResponse({ name: 'nope.example', rcode: NXDOMAIN, authorities: [soa('example', 900, 300)], additionals: [optRecord({ udpSize: 1232 })] }),
  ],
  ['NODATA with SOA', encodeResponse({ name: 'example.com', type: 'MX', authorities: [soa('example.com', 60, 3600)] })],
  ['MX and TXT', encodeResponse({ name: 'example.com', type: 'MX', answers: [rr('MX', 'example.com', 10, { preference: 10, exchange: 'mx.example.com' }), rr('TXT', 'example.com', 11, 'v=spf1 -all')] })],
]

t.test('ttlOffsets point at every TTL, in wire order: rewrite them and re-decode', async (t) => {
  for (const [what, wire] of ANSWERS) {
    const a = readAnswer(Buffer.from(wire))
    const before = records(decode(a.wire))
    t.equal(a.ttlOffsets.length, before.length, `${what}: one offset per non-OPT record`)
    const patched = Buffer.from(a.wire)
    a.ttlOffsets.forEach((off, i) => patched.writeUInt32BE(100_000 + i, off))
    const after = records(decode(patched))
    t.same(after.map((r) => r.ttl), before.map((_, i) => 100_000 + i), `${what}: each offset is a TTL`)
    t.same(after.map((r) => [r.type, r.name, r.data]), before.map((r) => [r.type, r.name, r.data]), `${what}: nothing else changed`)
  }
})

t.test('answer TTL: lowest of the answer section; negative TTL: min(SOA TTL, SOA MINIMUM)', async (t) => {
  // [what, wire, expected ttl, rcode]
  const cases: Array<[string, Buffer, number, number]> = [
    ['three A', ANSWERS[0][1], 60, NOERROR],
    ['CNAME chain', ANSWERS[1][1], 20, NOERROR],
    ['NXDOMAIN, SOA ttl 900 min 300', ANSWERS[2][1], 300, NXDOMAIN],
    ['NODATA, SOA ttl 60 min 3600', ANSWERS[3][1], 60, NOERROR],
    ['NXDOMAIN, no SOA', encodeResponse({ name: 'x.example', rcode: NXDOMAIN }), -1, NXDOMAIN],
    ['NODATA, no SOA', encodeResponse({ name: 'x.example' }), -1, NOERROR],
    ['NODATA, NS but no SOA in authority', encodeResponse({ name: 'x.example', authorities: [rr('NS', 'example', 10, 'ns.example')] }), -1, NOERROR],
    ['SERVFAIL', encodeResponse({ name: 'x.example', rcode: SERVFAIL }), -1, SERVFAIL],
    [
      'positive answer ignores the authority TTLs',
      encodeResponse({ name: 'x.example', answers: [rr('A', 'x.example', 500, '192.0.2.1')], authorities: [soa('example', 5, 5)] }),
      500,
      NOERROR,
    ],
    [
      'NXDOMAIN with a CNAME in the answer: SOA decides',
      encodeResponse({ name: 'x.example', rcode: NXDOMAIN, answers: [rr('CNAME', 'x.example', 999, 'gone.example')], authorities: [soa('example', 40, 50)] }),
      40,
      NXDOMAIN,
    ],
    ['TTL with the top bit set counts as 0 high bit (RFC 2181 s8)', encodeResponse({ name: 'x.example', answers: [rr('A', 'x.example', 0x80000007, '192.0.2.1')] }), 7, NOERROR],
    ['TTL 0', encodeResponse({ name: 'x.example', answers: [rr('A', 'x.example', 0, '192.0.2.1')] }), 0, NOERROR],
  ]
  for (const [what, wire, ttl, rcode] of cases) {
    const a = readAnswer(wire)
    t.equal(a.ttl, ttl, `${what}: ttl`)
    t.equal(a.rcode, rcode, `${what}: rcode`)
  }
})

t.test('OPT is stripped, arcount adjusted, extended rcode kept', async (t) => {
  const cases: Array<[string, Buffer, number]> = [
    ['OPT only', ANSWERS[1][1], 0],
    ['glue then OPT', encodeResponse({ name: 'example.com', additionals: [rr('A', 'ns.example.com', 5, '192.0.2.9'), optRecord({ udpSize: 4096 })] }), 1],
  ]
  for (const [what, wire, kept] of cases) {
    const a = readAnswer(wire)
    const p = decode(a.wire)
    t.equal(decodedBytes(), a.wire.length, `${what}: nothing after the last kept record`)
    t.equal(p.additionals!.filter((r) => r.type === 'OPT').length, 0, `${what}: no OPT left`)
    t.equal(p.additionals!.length, kept, `${what}: arcount = records kept`)
    t.same(p.answers, decode(wire).answers, `${what}: answers unchanged`)
    t.equal(a.wire.buffer.byteLength, a.wire.length, `${what}: own memory, not a slice of a shared pool the cache would keep alive`)
  }
  // Extended rcode: BADVERS = 16 is 1 in the OPT and 0 in the header.
  const badvers = dnsPacket.encode({
    type: 'response',
    id: 1,
    questions: [{ name: 'x.example', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 1, flags: 0, options: [] } as unknown as dnsPacket.Answer],
  })
  t.equal(readAnswer(badvers).rcode, 16, 'extended rcode from the OPT')
  // The upstream's buffer is left alone when the OPT is cut.
  const original = Buffer.from(ANSWERS[1][1])
  readAnswer(original)
  t.ok(original.equals(ANSWERS[1][1]), 'input not modified')
  // Without an OPT the wire is the same bytes.
  const plain = ANSWERS[0][1]
  t.ok(readAnswer(plain).wire.equals(plain), 'no OPT: same bytes')
})

t.test('TC flag', async (t) => {
  const tc = encodeResponse({ name: 'big.example', flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.RECURSION_AVAILABLE, answers: [rr('A', 'big.example', 5, '192.0.2.1')] })
  t.equal(readAnswer(tc).truncated, true)
  t.equal(readAnswer(ANSWERS[0][1]).truncated, false)
})

t.test('A/AAAA rdata offsets and CNAME targets, as dns-packet reads them', async (t) => {
  for (const [what, wire] of ANSWERS) {
    const a = readAnswer(wire)
    const p = decode(wire)
    const answers = p.answers! as Array<{ type: string; data: string }>
    t.same(a.v4Offsets.map((o) => [...a.wire.subarray(o, o + 4)].join('.')), answers.filter((r) => r.type === 'A').map((r) => r.data), `${what}: A`)
    const v6 = (o: number) => canonicalV6(a.wire.subarray(o, o + 16).toString('hex').match(/.{4}/g)!.join(':'))
    t.same(a.v6Offsets.map(v6), answers.filter((r) => r.type === 'AAAA').map((r) => canonicalV6(r.data)), `${what}: AAAA`)
    t.same(a.cnameTargets, answers.filter((r) => r.type === 'CNAME').map((r) => asciiLower(r.data)), `${what}: CNAME targets lower-cased`)
  }
  // Address records outside the answer section are not inspected; a wrong rdlength is not an address.
  const odd = encodeResponse({
    name: 'x.example',
    answers: [rr('A', 'x.example', 5, '192.0.2.1'), { type: 'UNKNOWN_1', name: 'x.example', ttl: 5, data: Buffer.alloc(5, 1) } as unknown as dnsPacket.Answer],
    additionals: [rr('A', 'glue.example', 5, '192.0.2.99'), rr('AAAA', 'glue.example', 5, '2001:db8::99')],
  })
  const a = readAnswer(odd)
  t.equal(a.v4Offsets.length, 1, 'one usable A record (the 5-byte one is skipped, glue is not an answer)')
  t.equal(a.v6Offsets.length, 0, 'AAAA glue is not an answer')
})

/**
 * A hand-compressed answer (dns-packet does not compress):
 *   WwW.Example.COM A?
 *   WwW.Example.COM   CNAME Cdn.<ptr Example.COM>
 *   <ptr Cdn...>      CNAME EDGE.<ptr to "COM" label>        (pointer to a pointer)
 *   <ptr EDGE...>     A 192.0.2.7
 *   <ptr EDGE...>     AAAA 2001:db8::7
 */
function compressedAnswer(): Buffer {
  const bytes: number[] = [0, 1, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0]
  const label = (s: string) => [s.length, ...Buffer.from(s, 'latin1')]
  const u16 = (n: number) => [n >> 8, n & 0xff]
  const u32 = (n: number) => [...u16(n >>> 16), ...u16(n & 0xffff)]
  bytes.push(...label('WwW'), ...label('Example'), ...label('COM'), 0, ...u16(1), ...u16(1))
  const example = 12 + 4
  const com = example + 8
  const record = (owner: number[], type: number, ttl: number, rdata: number[]) => {
    bytes.push(...owner, ...u16(type), ...u16(1), ...u32(ttl), ...u16(rdata.length))
    const at = bytes.length
    bytes.push(...rdata)
    return at
  }
  const cdn = record([0xc0, 12], 5, 300, [...label('Cdn'), 0xc0, example])
  const edge = record([0xc0, cdn], 5, 200, [...label('EDGE'), 0xc0, com])
  record([0xc0, edge], 1, 100, [192, 0, 2, 7])
  record([0xc0, edge], 28, 90, [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 7])
  return Buffer.from(bytes)
}

t.test('compressed CNAME chain', async (t) => {
  const wire = compressedAnswer()
  const p = decode(wire)
  t.equal(decodedBytes(), wire.length, 'test setup: dns-packet reads the whole packet')
  const a = readAnswer(wire)
  const answers = p.answers! as Array<{ type: string; data: string; ttl: number }>
  t.same(a.cnameTargets, answers.filter((r) => r.type === 'CNAME').map((r) => asciiLower(r.data)), 'targets through pointers, lower-cased')
  t.same(a.cnameTargets, ['cdn.example.com', 'edge.com'], 'test setup sanity: the chain is what the comment says')
  t.same(a.v4Offsets.map((o) => [...wire.subarray(o, o + 4)].join('.')), ['192.0.2.7'])
  t.equal(a.v6Offsets.length, 1)
  t.equal(a.ttl, Math.min(...answers.map((r) => r.ttl)))
  const patched = Buffer.from(a.wire)
  a.ttlOffsets.forEach((off, i) => patched.writeUInt32BE(7 + i, off))
  t.same((decode(patched).answers as Array<{ ttl: number }>).map((r) => r.ttl), [7, 8, 9, 10], 'TTL offsets with compressed owners')
})

t.test('readName follows backward pointers only', async (t) => {
  const wire = compressedAnswer()
  t.equal(readName(wire, 12), 'www.example.com', 'question name')
  // A pointer to itself, a pointer forward, a pointer loop between two names: all refused.
  const self = Buffer.concat([wire.subarray(0, 12), Buffer.from([0xc0, 12])])
  throwsUpstreamAnswer(t, () => readName(self, 12), 'pointer to itself')
  const forward = Buffer.from([...wire.subarray(0, 12), 0xc0, 14, 1, 0x61, 0])
  throwsUpstreamAnswer(t, () => readName(forward, 12), 'forward pointer')
  const loop = Buffer.from([...wire.subarray(0, 12), 1, 0x61, 0xc0, 16, 1, 0x62, 0xc0, 12])
  throwsUpstreamAnswer(t, () => readName(loop, 16), 'two names pointing at each other')
  throwsUpstreamAnswer(t, () => readName(Buffer.from([...wire.subarray(0, 12), 0xc0]), 12), 'half a pointer')
  throwsUpstreamAnswer(t, () => readName(Buffer.from([...wire.subarray(0, 12), 5, 0x61]), 12), 'label past the end')
  throwsUpstreamAnswer(t, () => readName(Buffer.from([...wire.subarray(0, 12), 0x41, 0x61]), 12), 'label type 0x40')
  throwsUpstreamAnswer(t, () => readName(wire.subarray(0, 14), 12), 'no terminating zero')
})

t.test('malformed answers throw DNSVAKT_ERR_UPSTREAM_ANSWER', async (t) => {
  throwsUpstreamAnswer(t, () => readAnswer(Buffer.alloc(11)), 'shorter than a header')
  // Every strict prefix of a valid answer is missing something its header promises.
  for (const [what, wire] of [...ANSWERS, ['compressed', compressedAnswer()] as [string, Buffer]]) {
    let bad = 0
    for (let n = 0; n < wire.length; n++) {
      try {
        readAnswer(wire.subarray(0, n))
        t.fail(`${what}: prefix of ${n} bytes was accepted`)
      } catch (e) {
        if (!isDnsvaktError(e, 'DNSVAKT_ERR_UPSTREAM_ANSWER')) t.fail(`${what}: prefix ${n} threw ${String(e)}`)
        else bad++
      }
    }
    t.equal(bad, wire.length, `${what}: every truncation refused with the coded error`)
  }
  // A CNAME whose target points forward.
  const wire = compressedAnswer()
  const cdnRdata = wire.indexOf(Buffer.from('Cdn', 'latin1')) - 1
  const fwd = Buffer.from(wire)
  fwd[cdnRdata + 4] = 0xc0
  fwd[cdnRdata + 5] = wire.length - 4 // somewhere later in the packet
  throwsUpstreamAnswer(t, () => readAnswer(fwd), 'CNAME target with a forward pointer')
  // ancount larger than the records present.
  const more = Buffer.from(ANSWERS[0][1])
  more.writeUInt16BE(more.readUInt16BE(6) + 1, 6)
  throwsUpstreamAnswer(t, () => readAnswer(more), 'ancount one too many')
  // rdlength past the end.
  const longRdata = Buffer.from(ANSWERS[0][1])
  const firstRdlength = longRdata.indexOf(Buffer.from([0, 4, 192, 0, 2, 1]))
  longRdata.writeUInt16BE(0xffff, firstRdlength)
  throwsUpstreamAnswer(t, () => readAnswer(longRdata), 'rdlength past the end')
})

t.test('fuzz: random bytes and mutations only ever give an UpstreamAnswer or the coded error', async (t) => {
  const rnd = prng(0xa11ce)
  const pick = (n: number) => Math.floor(rnd() * n)
  const service = encodeResponse({
    name: 'svc.example', type: 'HTTPS',
    answers: [rr('DNAME', 'svc.example', 60, 'x.example'), rr('UNKNOWN_65', 'svc.example', 60, svcbRdata({ priority: 1, target: 'a.example', ipv4hint: ['192.0.2.1'], ipv6hint: ['2001:db8::1'] }))],
    additionals: [rr('A', 'a.example', 60, '192.0.2.2')],
  })
  const seeds = [...ANSWERS.map(([, w]) => w), compressedAnswer(), service]
  let failures = 0
  let accepted = 0
  for (let i = 0; i < 30_000 && failures < 10; i++) {
    let wire: Buffer
    if (i < 10_000) {
      wire = Buffer.alloc(pick(200))
      for (let j = 0; j < wire.length; j++) wire[j] = pick(256)
      if (wire.length >= 12 && rnd() < 0.7) {
        for (let j = 4; j < 12; j += 2) wire.writeUInt16BE(pick(4), j)
      }
    } else {
      wire = Buffer.from(seeds[pick(seeds.length)])
      const flips = 1 + pick(6)
      for (let f = 0; f < flips; f++) wire[pick(wire.length)] = pick(256)
      if (rnd() < 0.3) wire = wire.subarray(0, pick(wire.length + 1))
      if (rnd() < 0.2) wire = Buffer.concat([wire, Buffer.from(Array.from({ length: 1 + pick(30) }, () => pick(256)))])
    }
    const what = `#${i} ${wire.toString('hex')}`
    try {
      const a = readAnswer(wire)
      accepted++
      // What it reports must lie inside the wire it returns.
      const inside = (off: number, len: number) => off >= 12 && off + len <= a.wire.length
      const v4s = [...a.v4Offsets, ...a.extraV4Offsets]
      const v6s = [...a.v6Offsets, ...a.extraV6Offsets]
      if (![...a.ttlOffsets].every((o) => inside(o, 4)) || !v4s.every((o) => inside(o, 4)) || !v6s.every((o) => inside(o, 16))) {
        failures++
        t.fail(`${what}: offsets outside the wire`)
      }
      if (a.ttl < -1 || !Number.isInteger(a.ttl) || a.ttl > 0x7fffffff) {
        failures++
        t.fail(`${what}: ttl ${a.ttl}`)
      }
    } catch (e) {
      if (!isDnsvaktError(e, 'DNSVAKT_ERR_UPSTREAM_ANSWER')) {
        failures++
        t.fail(`${what}: threw ${String(e)}`)
      }
    }
  }
  t.equal(failures, 0, 'no failures')
  t.ok(accepted > 1000, `some mutated answers are still accepted (${accepted})`)
})
