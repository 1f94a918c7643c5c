/** What readAnswer collects for inspection beyond CNAME/A/AAAA: DNAME, SVCB/HTTPS, the additional section. */
import t from 'tap'
import { readAnswer } from '../../src/dns/read-answer.js'
import { canonicalV6, encodeResponse, rr } from '../fixtures/dns-wire.js'
import { svcbRdata } from '../fixtures/svcb.js'

const v4 = (wire: Buffer, offsets: readonly number[]) => offsets.map((o) => [...wire.subarray(o, o + 4)].join('.'))
const v6 = (wire: Buffer, offsets: readonly number[]) =>
  offsets.map((o) => canonicalV6(Array.from({ length: 8 }, (_, i) => wire.readUInt16BE(o + 2 * i).toString(16)).join(':')))
const https = (name: string, ttl: number, rdata: Buffer) => rr('UNKNOWN_65', name, ttl, rdata)
const svcb = (name: string, ttl: number, rdata: Buffer) => rr('UNKNOWN_64', name, ttl, rdata)

t.test('HTTPS/SVCB: targets and address hints, in answer and additional sections', async (t) => {
  const wire = encodeResponse({
    name: 'svc.example', type: 'HTTPS',
    answers: [
      https('svc.example', 300, svcbRdata({ priority: 1, target: '.', alpn: ['h2', 'h3'], ipv4hint: ['149.154.167.50', '192.0.2.1'], ipv6hint: ['2001:67c:4e8:f002::a'] })),
      https('svc.example', 300, svcbRdata({ priority: 2, target: 'Pool.Telegram.ORG', port: 8443 })),
    ],
    additionals: [svcb('_dns.example', 60, svcbRdata({ priority: 1, target: 'dns.example', ipv4hint: ['198.51.100.7'] }))],
  })
  const a = readAnswer(wire)
  t.same(a.targetNames, ['pool.telegram.org', 'dns.example'], 'service-mode targets lower-cased; "." (the owner) is not a target')
  t.same(v4(a.wire, a.extraV4Offsets), ['149.154.167.50', '192.0.2.1', '198.51.100.7'])
  t.same(v6(a.wire, a.extraV6Offsets), ['2001:67c:4e8:f002::a'].map(canonicalV6))
  t.same(a.v4Offsets, [], 'hints are not A records')
  t.same(a.cnameTargets, [])
  const alias = readAnswer(encodeResponse({ name: 'alias.example', type: 'HTTPS', answers: [https('alias.example', 300, svcbRdata({ priority: 0, target: 'web.telegram.org' }))] }))
  t.same(alias.targetNames, ['web.telegram.org'], 'alias mode')
})

t.test('DNAME: owner and target', async (t) => {
  const a = readAnswer(encodeResponse({
    name: 'x.chat.example',
    answers: [rr('DNAME', 'Chat.Example', 300, 'Telegram.org'), rr('CNAME', 'x.chat.example', 300, 'x.telegram.org'), rr('A', 'x.telegram.org', 300, '192.0.2.9')],
  }))
  t.same(a.targetNames, ['chat.example', 'telegram.org'])
  t.same(a.cnameTargets, ['x.telegram.org'])
})

t.test('the additional section: A/AAAA are extra addresses; authority records are not', async (t) => {
  const a = readAnswer(encodeResponse({
    name: 'mx.example', type: 'MX',
    answers: [rr('MX', 'mx.example', 300, { preference: 10, exchange: 'mail.mx.example' })],
    authorities: [rr('NS', 'mx.example', 300, 'ns.mx.example'), rr('A', 'ns.mx.example', 300, '149.154.167.51')],
    additionals: [rr('A', 'mail.mx.example', 300, '149.154.167.50'), rr('AAAA', 'mail.mx.example', 300, '64:ff9b::959a:a732')],
  }))
  t.same(v4(a.wire, a.extraV4Offsets), ['149.154.167.50'])
  t.same(v6(a.wire, a.extraV6Offsets), ['64:ff9b::959a:a732'].map(canonicalV6))
  t.same(a.v4Offsets, [])
})

t.test('malformed SVCB/HTTPS rdata is a malformed answer (never half-inspected)', async (t) => {
  const good = svcbRdata({ priority: 1, target: 'x.example', ipv4hint: ['192.0.2.1'] })
  const cases: Array<[string, Buffer]> = [
    ['only a priority', good.subarray(0, 2)],
    ['target runs past the rdata', good.subarray(0, 6)],
    ['parameter header cut', good.subarray(0, good.length - 6)],
    ['parameter value cut', good.subarray(0, good.length - 1)],
    ['ipv4hint of 3 bytes', Buffer.concat([svcbRdata({ priority: 1, target: '.' }), Buffer.from([0, 4, 0, 3, 1, 2, 3])])],
    ['ipv6hint of 4 bytes', Buffer.concat([svcbRdata({ priority: 1, target: '.' }), Buffer.from([0, 6, 0, 4, 1, 2, 3, 4])])],
  ]
  for (const [what, rdata] of cases) {
    t.throws(() => readAnswer(encodeResponse({ name: 'svc.example', type: 'HTTPS', answers: [https('svc.example', 300, rdata)] })), { code: 'DNSVAKT_ERR_UPSTREAM_ANSWER' }, what)
  }
})
