import t from 'tap'
import dnsPacket from 'dns-packet'
import { PARSE_BADVERS, PARSE_DROP, PARSE_FORMERR, PARSE_NOTIMP, parseQuery } from '../../src/dns/parse-query.js'
import { Query } from '../../src/pipeline/query.js'
import {
  asciiLower,
  decode,
  dnsClasses,
  dnsTypes,
  encodeQuery,
  optRecord,
  prng,
  rawQuery,
  rr,
  unescapeName,
  wireLabels,
} from '../fixtures/dns-wire.js'

const parse = (wire: Buffer, now = 5_000) => parseQuery(wire, '192.0.2.7', 53001, 'udp', now)
const PARSE_CODES = new Set<number>([PARSE_DROP, PARSE_FORMERR, PARSE_NOTIMP, PARSE_BADVERS])

/** The question as dns-packet would write it alone: its length tells where the question ends. */
const questionLength = (name: string, type: string): number =>
  dnsPacket.encode({ type: 'query', id: 0, questions: [{ name, type: type as dnsPacket.RecordType }] }).length

t.test('question types: qtype, qclass, id and questionEnd as dns-packet encoded them', async (t) => {
  const types = ['A', 'AAAA', 'MX', 'TXT', 'NS', 'SOA', 'PTR', 'SRV', 'CNAME', 'DS', 'DNSKEY', 'NAPTR', 'ANY', 'UNKNOWN_65', 'UNKNOWN_64', 'UNKNOWN_4000']
  for (const type of types) {
    for (const edns of [false, true]) {
      const wire = encodeQuery({ id: 0xbeef, name: 'example.com', type, edns: edns ? { udpSize: 1400 } : false })
      const q = parse(wire)
      if (!(q instanceof Query)) {
        t.fail(`${type} edns=${edns}: parse failed with ${q}`)
        continue
      }
      const decoded = decode(wire)
      t.equal(q.id, decoded.id, `${type}: id`)
      t.equal(q.qtype, dnsTypes.toType(type), `${type}: qtype`)
      t.equal(dnsTypes.toString(q.qtype), decoded.questions![0].type, `${type}: qtype agrees with dns-packet's decode`)
      t.equal(q.qclass, dnsClasses.toClass('IN'), `${type}: qclass`)
      t.equal(q.name, 'example.com', `${type}: name`)
      t.equal(q.questionEnd, questionLength('example.com', type), `${type} edns=${edns}: questionEnd`)
      t.equal(q.edns, edns, `${type}: edns`)
      t.equal(q.wire, wire, `${type}: keeps the request buffer`)
    }
  }
})

t.test('client fields and header bits are carried over', async (t) => {
  const wire = encodeQuery({ name: 'example.org', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED })
  const q = parseQuery(wire, '2001:db8::5', 5353, 'tcp', 123_456)
  t.ok(q instanceof Query)
  if (!(q instanceof Query)) return
  t.equal(q.clientAddress, '2001:db8::5')
  t.equal(q.clientPort, 5353)
  t.equal(q.transport, 'tcp')
  t.equal(q.arrivedAt, 123_456)
  t.equal(q.checkingDisabled, true)
  t.equal(q.udpSize, 512, 'no EDNS: 512 (RFC 1035 s4.2.1)')
  t.equal(q.dnssecOk, false)
  const plain = parse(encodeQuery({ name: 'example.org', flags: 0 }))
  t.equal((plain as Query).checkingDisabled, false)
})

t.test('0x20 letter case: the name is lower-cased, the question bytes are untouched', async (t) => {
  const names = ['ExAmPlE.CoM', 'WWW.TIKTOK.COM', 'wWw.TikTok.cOm', 'a.B.c.D.e', 'XN--BCHER-KVA.example', 'UPPER_case-1.Example']
  for (const name of names) {
    const wire = encodeQuery({ name, type: 'AAAA' })
    const before = Buffer.from(wire)
    const q = parse(wire) as Query
    t.equal(q.name, asciiLower(name), `${name}: lower-cased`)
    t.same(wireLabels(q.wire, 12).map((l) => l.toString('latin1')), name.split('.'), `${name}: question keeps the client's case`)
    t.ok(wire.equals(before), `${name}: the request buffer is not modified`)
  }
})

t.test('root name', async (t) => {
  const wire = encodeQuery({ name: '.', type: 'NS' })
  const q = parse(wire) as Query
  t.ok(q instanceof Query)
  t.equal(q.name, '', 'the root is the empty name')
  t.equal(q.qtype, dnsTypes.toType('NS'))
  t.equal(q.questionEnd, 12 + 1 + 4)
})

t.test('longest legal name (255 octets) passes, one more octet is FORMERR', async (t) => {
  const l63 = 'a'.repeat(63)
  const longest = [l63, l63, l63, 'b'.repeat(61)].join('.') // 3*64 + 62 + 1 = 255 octets
  const wire = encodeQuery({ name: longest })
  t.equal(wire.length - 12 - 4, 255, 'test setup: 255 octets on the wire')
  t.doesNotThrow(() => decode(wire), 'dns-packet accepts it too')
  const q = parse(wire)
  t.ok(q instanceof Query)
  t.equal((q as Query).name, longest)
  const tooLong = encodeQuery({ name: [l63, l63, l63, 'b'.repeat(62)].join('.') })
  t.throws(() => decode(tooLong), 'dns-packet refuses 256 octets')
  t.equal(parse(tooLong), PARSE_FORMERR)
})

t.test('EDNS: DO bit and UDP size', async (t) => {
  // [udp size sent, DO, expected udpSize]
  const cases: Array<[number, boolean, number]> = [
    [0, false, 512],
    [100, true, 512],
    [511, false, 512],
    [512, true, 512],
    [513, false, 513],
    [1232, true, 1232],
    [4096, false, 4096],
    [65535, true, 65535],
  ]
  for (const [size, dnssecOk, expected] of cases) {
    const wire = encodeQuery({ name: 'example.com', edns: { udpSize: size, do: dnssecOk } })
    // dns-packet writes 4096 for a size of 0; put the size into the OPT (the last 11 bytes) ourselves.
    wire.writeUInt16BE(size, wire.length - 11 + 3)
    const opt = decode(wire).additionals![0] as unknown as { udpPayloadSize: number; flag_do: boolean }
    t.equal(opt.udpPayloadSize, size, 'test setup: dns-packet wrote the size')
    const q = parse(wire) as Query
    t.ok(q instanceof Query, `size ${size}`)
    t.equal(q.edns, true, `size ${size}: edns`)
    t.equal(q.udpSize, expected, `size ${size}: below 512 counts as 512 (RFC 6891 s6.2.5)`)
    t.equal(q.dnssecOk, opt.flag_do, `size ${size}: DO bit as dns-packet reads it`)
  }
})

t.test('EDNS with options, and records before the OPT, are read through', async (t) => {
  const cookie = { code: 10, data: Buffer.from('0123456789abcdef', 'hex') }
  const padding = { code: 12, data: Buffer.alloc(40) }
  const cases: Array<[string, Buffer]> = [
    ['cookie and padding options', encodeQuery({ name: 'example.com', edns: { udpSize: 1400, do: true, options: [cookie, padding] } })],
    [
      'an answer and an authority record before the OPT',
      dnsPacket.encode({
        type: 'query',
        id: 9,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ name: 'example.com', type: 'A' }],
        answers: [rr('A', 'example.com', 60, '192.0.2.1')],
        authorities: [rr('NS', 'example.com', 60, 'ns.example.com')],
        additionals: [optRecord({ udpSize: 1400, do: true })],
      }),
    ],
    [
      'a non-OPT additional record before the OPT',
      dnsPacket.encode({
        type: 'query',
        id: 9,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ name: 'example.com', type: 'A' }],
        additionals: [rr('TXT', 'extra.example.com', 0, 'hello'), optRecord({ udpSize: 1400, do: true })],
      }),
    ],
  ]
  for (const [what, wire] of cases) {
    const q = parse(wire) as Query
    t.ok(q instanceof Query, what)
    t.equal(q.edns, true, `${what}: edns`)
    t.equal(q.udpSize, 1400, `${what}: udp size`)
    t.equal(q.dnssecOk, true, `${what}: DO`)
    t.equal(q.questionEnd, questionLength('example.com', 'A'), `${what}: questionEnd`)
  }
})

t.test('failures: each answers with its own code', async (t) => {
  const base = { name: 'example.com' }
  const twoOpts = dnsPacket.encode({
    type: 'query',
    id: 1,
    questions: [{ name: 'example.com', type: 'A' }],
    additionals: [optRecord({ udpSize: 1232 }), optRecord({ udpSize: 4096 })],
  })
  const noQuestion = dnsPacket.encode({ type: 'query', id: 1, questions: [] })
  const twoQuestions = dnsPacket.encode({
    type: 'query',
    id: 1,
    questions: [{ name: 'example.com', type: 'A' }, { name: 'example.net', type: 'A' }],
  })
  const cases: Array<[string, Buffer, number]> = [
    ['EDNS version 1', encodeQuery({ ...base, edns: { version: 1 } }), PARSE_BADVERS],
    ['EDNS version 255 with DO', encodeQuery({ ...base, edns: { version: 255, do: true } }), PARSE_BADVERS],
    ['two OPT records', twoOpts, PARSE_FORMERR],
    ['a response (QR=1)', dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'example.com', type: 'A' }] }), PARSE_DROP],
    ['opcode 1 (IQUERY)', encodeQuery({ ...base, flags: 1 << 11 }), PARSE_NOTIMP],
    ['opcode 2 (STATUS)', encodeQuery({ ...base, flags: 2 << 11 }), PARSE_NOTIMP],
    ['opcode 4 (NOTIFY)', encodeQuery({ ...base, flags: 4 << 11 }), PARSE_NOTIMP],
    ['opcode 5 (UPDATE)', encodeQuery({ ...base, flags: 5 << 11 }), PARSE_NOTIMP],
    ['qdcount 0', noQuestion, PARSE_FORMERR],
    ['qdcount 2', twoQuestions, PARSE_FORMERR],
    ['label of 64 octets', rawQuery([Buffer.alloc(64, 0x61), Buffer.from('com')]), PARSE_FORMERR],
    ['compression pointer as the name', Buffer.concat([rawQuery([]).subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]), PARSE_FORMERR],
    ['compression pointer after a label', Buffer.concat([rawQuery([]).subarray(0, 12), Buffer.from([3, 0x77, 0x77, 0x77, 0xc0, 0x0c, 0, 1, 0, 1])]), PARSE_FORMERR],
    ['reserved label type 0x40', Buffer.concat([rawQuery([]).subarray(0, 12), Buffer.from([0x41, 0x61, 0, 0, 1, 0, 1])]), PARSE_FORMERR],
    ['reserved label type 0x80', Buffer.concat([rawQuery([]).subarray(0, 12), Buffer.from([0x81, 0x61, 0, 0, 1, 0, 1])]), PARSE_FORMERR],
  ]
  // A response is dropped, whatever else is wrong with it.
  const responseWithOpcode = encodeQuery({ ...base, flags: 2 << 11 })
  responseWithOpcode[2] |= 0x80
  cases.push(['a response with opcode 2', responseWithOpcode, PARSE_DROP])
  // ancount says one record but none follows.
  const missingAnswer = encodeQuery(base)
  missingAnswer.writeUInt16BE(1, 6)
  cases.push(['ancount 1 without the record', missingAnswer, PARSE_FORMERR])
  const missingAdditional = encodeQuery(base)
  missingAdditional.writeUInt16BE(1, 10)
  cases.push(['arcount 1 without the record', missingAdditional, PARSE_FORMERR])
  const cutOpt = encodeQuery({ ...base, edns: { options: [{ code: 10, data: Buffer.alloc(8) }] } })
  cases.push(['OPT rdata cut short', cutOpt.subarray(0, cutOpt.length - 3), PARSE_FORMERR])

  for (const [what, wire, expected] of cases) t.equal(parse(wire), expected, what)
})

t.test('fewer than 12 bytes are dropped', async (t) => {
  const full = encodeQuery({ name: 'example.com' })
  for (let n = 0; n < 12; n++) t.equal(parse(full.subarray(0, n)), PARSE_DROP, `${n} bytes`)
})

t.test('every truncation inside the question is FORMERR', async (t) => {
  for (const name of ['example.com', 'a.b.c.d.e.f.g', '.']) {
    const full = encodeQuery({ name, type: 'MX' })
    for (let n = 12; n < full.length; n++) t.equal(parse(full.subarray(0, n)), PARSE_FORMERR, `${name}: cut at ${n} of ${full.length}`)
    t.ok(parse(full) instanceof Query, `${name}: whole packet parses`)
  }
})

t.test('odd bytes in labels: escaped, and never the same string as a different wire name', async (t) => {
  const L = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s))
  // [what, labels, a different wire name that reads the same when printed naively]
  const cases: Array<[string, Buffer[], Buffer[]]> = [
    ['a dot inside a label', [L('a.b'), L('com')], [L('a'), L('b'), L('com')]],
    ['a NUL byte inside a label', [L([0x61, 0x00, 0x62]), L('com')], [L('ab'), L('com')]],
    ['a backslash', [L('a\\.b'), L('com')], [L('a.b'), L('com')]],
    ['an escape-looking text', [L('\\065'), L('com')], [L('A'), L('com')]],
    ['a space', [L('a b'), L('com')], [L('ab'), L('com')]],
    ['byte 0xff', [L([0x61, 0xff]), L('com')], [L([0x61, 0x3f]), L('com')]],
    ['DEL 0x7f', [L([0x7f]), L('com')], [L('com')]],
    ['upper case next to an odd byte', [L('Tik.Tok'), L('COM')], [L('tik'), L('tok'), L('com')]],
    ['tiktok.com as one label', [L('tiktok.com')], [L('tiktok'), L('com')]],
  ]
  for (const [what, labels, other] of cases) {
    const wire = rawQuery(labels)
    const q = parse(wire) as Query
    t.ok(q instanceof Query, `${what}: parses`)
    const otherQ = parse(rawQuery(other)) as Query
    t.ok(otherQ instanceof Query, `${what}: the other name parses`)
    t.not(q.name, otherQ.name, `${what}: "${q.name}" differs from "${otherQ.name}"`)
    // The escapes are reversible: they give back the wire labels, ASCII letters lower-cased.
    const expected = labels.map((l) => Buffer.from([...l].map((b) => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b))))
    t.same(unescapeName(q.name).map((l) => [...l]), expected.map((l) => [...l]), `${what}: escapes decode back to the wire labels`)
    t.same(wireLabels(q.wire, 12), labels, `${what}: question bytes untouched`)
  }
  // The two escape forms the Query documents (RFC 1035 s5.1).
  t.equal((parse(rawQuery([L('a.b'), L('com')])) as Query).name, 'a\\.b.com')
  t.equal((parse(rawQuery([L([0x61, 0x00, 0x62]), L('com')])) as Query).name, 'a\\000b.com')
  t.equal((parse(rawQuery([L('A\\B'), L('com')])) as Query).name, 'a\\\\b.com')
})

// ---------------------------------------------------------------- fuzzing

/** What dns-packet thinks the question is, or null when it refuses the packet. */
function oracle(wire: Buffer): dnsPacket.Question | null {
  try {
    const p = decode(wire)
    return p.questions && p.questions.length > 0 ? p.questions[0] : null
  } catch {
    return null
  }
}

/** Checks a Query against dns-packet's reading of the same bytes. */
function agrees(t: Asserter, q: Query, wire: Buffer, what: string): boolean {
  const expected = oracle(wire)
  if (expected === null) return true
  // dns-packet prints each label as UTF-8 without escapes; do the same from our (unescaped) labels.
  const ours = unescapeName(q.name).map((l) => l.toString('utf8')).join('.')
  // dns-packet prints both the root and a one-label name "\." as "."; the first wire byte tells them apart.
  const theirs = expected.name === '.' && wire[12] === 0 ? '' : asciiLower(expected.name)
  let ok = true
  if (ours !== theirs) ok = t.equal(ours, theirs, `${what}: name`) && ok
  if (dnsTypes.toString(q.qtype) !== expected.type) ok = t.equal(dnsTypes.toString(q.qtype), expected.type, `${what}: qtype`) && ok
  if (dnsClasses.toString(q.qclass) !== expected.class) ok = t.equal(dnsClasses.toString(q.qclass), expected.class, `${what}: qclass`) && ok
  return ok
}

/** The two assertions the helpers below need (any tap Test has them). */
type Asserter = Pick<typeof t, 'equal' | 'fail'>

/** A result is a Query or one of the PARSE_* codes, and a Query's offsets lie inside the packet. */
function wellFormedResult(t: Asserter, r: unknown, wire: Buffer, what: string): boolean {
  if (typeof r === 'number') return PARSE_CODES.has(r) ? true : t.fail(`${what}: unknown result ${r}`)
  if (!(r instanceof Query)) return t.fail(`${what}: neither a Query nor a code`)
  if (r.questionEnd > wire.length || r.questionEnd < 17) return t.fail(`${what}: questionEnd ${r.questionEnd} outside the packet`)
  if (r.udpSize < 512) return t.fail(`${what}: udpSize ${r.udpSize}`)
  return true
}

const VALID_SEEDS: Buffer[] = [
  encodeQuery({ name: 'example.com' }),
  encodeQuery({ name: 'WwW.TikTok.CoM', type: 'AAAA', edns: { udpSize: 1232, do: true } }),
  encodeQuery({ name: 'a.b.c.d.example.net', type: 'MX', edns: { udpSize: 4096, options: [{ code: 10, data: Buffer.alloc(8, 7) }] } }),
  encodeQuery({ name: '.', type: 'NS' }),
  encodeQuery({ name: '_dns.resolver.arpa', type: 'UNKNOWN_64', edns: { udpSize: 100 } }),
  rawQuery([Buffer.from('a.b'), Buffer.from([0, 0x41, 0xff]), Buffer.from('com')], 28),
  dnsPacket.encode({
    type: 'query',
    id: 77,
    questions: [{ name: 'Mixed.Example', type: 'TXT' }],
    answers: [rr('A', 'x.example', 1, '192.0.2.9')],
    additionals: [rr('TXT', 'y.example', 1, 'z'), optRecord({ udpSize: 1400, do: true })],
  }),
]

t.test('fuzz: 20,000 random buffers never throw and give a Query or a code', async (t) => {
  const rnd = prng(0x5eed_0001)
  let queries = 0
  let failures = 0
  for (let i = 0; i < 20_000 && failures < 10; i++) {
    let wire: Buffer
    if (rnd() < 0.5) {
      const len = Math.floor(rnd() * 96)
      wire = Buffer.alloc(len)
      for (let j = 0; j < len; j++) wire[j] = Math.floor(rnd() * 256)
    } else {
      // Half are biased towards a plausible shape (header, random labels, random tail) so the
      // name and record paths are reached; the bytes themselves stay random.
      const bytes: number[] = [Math.floor(rnd() * 256), Math.floor(rnd() * 256), Math.floor(rnd() * 256) & 0x07, Math.floor(rnd() * 256), 0, 1]
      for (let j = 0; j < 6; j++) bytes.push(rnd() < 0.85 ? 0 : Math.floor(rnd() * 3))
      const labels = Math.floor(rnd() * 5)
      for (let l = 0; l < labels; l++) {
        const n = rnd() < 0.05 ? Math.floor(rnd() * 256) : Math.floor(rnd() * 12)
        bytes.push(n)
        for (let j = 0; j < n; j++) bytes.push(Math.floor(rnd() * 256))
      }
      bytes.push(0)
      const tail = Math.floor(rnd() * 30)
      for (let j = 0; j < tail; j++) bytes.push(Math.floor(rnd() * 256))
      wire = Buffer.from(bytes)
    }
    let r: unknown
    try {
      r = parse(wire)
    } catch (e) {
      failures++
      t.fail(`random #${i} threw: ${(e as Error).message} (${wire.toString('hex')})`)
      continue
    }
    if (!wellFormedResult(t, r, wire, `random #${i} ${wire.toString('hex')}`)) failures++
    else if (r instanceof Query) {
      queries++
      if (!agrees(t, r, wire, `random #${i} ${wire.toString('hex')}`)) failures++
    }
  }
  t.equal(failures, 0, 'no failures')
  t.ok(queries > 100, `the biased half reaches real queries (${queries})`)
})

t.test('fuzz: 20,000 mutations of valid queries agree with dns-packet', async (t) => {
  const rnd = prng(0x5eed_0002)
  const pick = (n: number) => Math.floor(rnd() * n)
  let compared = 0
  let failures = 0
  const outcomes = new Map<string, number>()
  for (let i = 0; i < 20_000 && failures < 10; i++) {
    const seed = VALID_SEEDS[pick(VALID_SEEDS.length)]
    let wire = Buffer.from(seed)
    const kind = pick(4)
    if (kind === 0 || kind === 3) {
      // byte flips (the header's QR/opcode bits are spared half of the time to reach deeper code)
      const flips = 1 + pick(4)
      for (let f = 0; f < flips; f++) {
        const at = pick(wire.length)
        if (at === 2 && rnd() < 0.5) continue
        wire[at] = pick(256)
      }
    }
    if (kind === 1 || kind === 3) wire = wire.subarray(0, pick(wire.length + 1)) // truncation
    if (kind === 2) {
      const extra = Buffer.alloc(1 + pick(40))
      for (let j = 0; j < extra.length; j++) extra[j] = pick(256)
      wire = Buffer.concat([wire, extra]) // extension
      if (rnd() < 0.5) wire.writeUInt16BE(wire.readUInt16BE(10) + 1, 10)
    }
    const what = `mutation #${i} (kind ${kind}) ${wire.toString('hex')}`
    let r: unknown
    try {
      r = parse(wire)
    } catch (e) {
      failures++
      t.fail(`${what} threw: ${(e as Error).message}`)
      continue
    }
    const label = r instanceof Query ? 'query' : String(r)
    outcomes.set(label, (outcomes.get(label) ?? 0) + 1)
    if (!wellFormedResult(t, r, wire, what)) failures++
    else if (r instanceof Query) {
      if (oracle(wire) !== null) compared++
      if (!agrees(t, r, wire, what)) failures++
    }
  }
  t.equal(failures, 0, 'no failures')
  t.ok(compared > 2000, `many Queries were compared with dns-packet (${compared})`)
  t.ok((outcomes.get(String(PARSE_FORMERR)) ?? 0) > 100, 'mutations reach FORMERR')
  t.ok((outcomes.get(String(PARSE_DROP)) ?? 0) > 100, 'mutations reach DROP')
})
