import t from 'tap'
import { readAnswer } from '../../src/dns/read-answer.js'
import { EmbeddedIpv4 } from '../../src/net/embedded-ipv4.js'
import { inspectAnswer } from '../../src/policy/answer-inspection.js'
import { encodeResponse, rr, snapshotOf } from '../fixtures/dns-wire.js'
import { svcbRdata } from '../fixtures/svcb.js'

const SNAP = snapshotOf({
  categories: [
    { name: 'tiktok', domains: ['tiktok.com'] },
    { name: 'telegram', domains: ['telegram.org'], cidrs: ['149.154.160.0/20', '2001:67c:4e8::/48'] },
  ],
  allow: ['ok.telegram.org'],
})
const TG = '149.154.160.0/20'
const https = (name: string, s: Parameters<typeof svcbRdata>[0]) => rr('UNKNOWN_65', name, 300, svcbRdata(s))
const embedded = new EmbeddedIpv4(['2001:db8:64::/96'])

t.test('each shape of answer, and what catches it', async (t) => {
  // [what, response, telegram hit or null]
  const cases: Array<[string, Parameters<typeof encodeResponse>[0], object | null]> = [
    ['HTTPS ipv4hint', { name: 's.example', type: 'HTTPS', answers: [https('s.example', { priority: 1, target: '.', ipv4hint: ['192.0.2.1', '149.154.167.50'] })] }, { caughtBy: 'ip', entry: TG }],
    ['HTTPS ipv6hint', { name: 's.example', type: 'HTTPS', answers: [https('s.example', { priority: 1, target: '.', ipv6hint: ['2001:67c:4e8:f002::a'] })] }, { caughtBy: 'ip', entry: '2001:67c:4e8::/48' }],
    ['HTTPS ipv6hint, NAT64', { name: 's.example', type: 'HTTPS', answers: [https('s.example', { priority: 1, target: '.', ipv6hint: ['64:ff9b::959a:a732'] })] }, { caughtBy: 'ip', entry: TG }],
    ['HTTPS alias mode into telegram.org', { name: 's.example', type: 'HTTPS', answers: [https('s.example', { priority: 0, target: 'web.telegram.org' })] }, { caughtBy: 'cname', entry: 'telegram.org' }],
    ['HTTPS service mode target', { name: 's.example', type: 'HTTPS', answers: [https('s.example', { priority: 1, target: 'telegram.org', alpn: ['h2'] })] }, { caughtBy: 'cname', entry: 'telegram.org' }],
    ['HTTPS target on the allow list', { name: 's.example', type: 'HTTPS', answers: [https('s.example', { priority: 1, target: 'ok.telegram.org' })] }, null],
    ['DNAME target', { name: 'chat.example', type: 'DNAME', answers: [rr('DNAME', 'chat.example', 300, 'telegram.org')] }, { caughtBy: 'cname', entry: 'telegram.org' }],
    ['DNAME owner', { name: 'x.example', answers: [rr('DNAME', 'telegram.org', 300, 'elsewhere.example')] }, { caughtBy: 'cname', entry: 'telegram.org' }],
    ['AAAA NAT64 well-known', { name: 'n.example', type: 'AAAA', answers: [rr('AAAA', 'n.example', 300, '64:ff9b::959a:a732')] }, { caughtBy: 'ip', entry: TG }],
    ['AAAA NAT64 local-use', { name: 'n.example', type: 'AAAA', answers: [rr('AAAA', 'n.example', 300, '64:ff9b:1::959a:a732')] }, { caughtBy: 'ip', entry: TG }],
    ['AAAA NAT64 organisation prefix', { name: 'n.example', type: 'AAAA', answers: [rr('AAAA', 'n.example', 300, '2001:db8:64::959a:a732')] }, { caughtBy: 'ip', entry: TG }],
    ['AAAA 6to4', { name: 'n.example', type: 'AAAA', answers: [rr('AAAA', 'n.example', 300, '2002:959a:a732::1')] }, { caughtBy: 'ip', entry: TG }],
    ['AAAA IPv4-mapped', { name: 'n.example', type: 'AAAA', answers: [rr('AAAA', 'n.example', 300, '::ffff:149.154.167.50')] }, { caughtBy: 'ip', entry: TG }],
    ['additional A', { name: 'mx.example', type: 'MX', answers: [rr('MX', 'mx.example', 300, { preference: 1, exchange: 'm.example' })], additionals: [rr('A', 'm.example', 300, '149.154.167.50')] }, { caughtBy: 'ip', entry: TG }],
    ['additional AAAA (NAT64)', { name: 'mx.example', type: 'MX', answers: [rr('MX', 'mx.example', 300, { preference: 1, exchange: 'm.example' })], additionals: [rr('AAAA', 'm.example', 300, '64:ff9b::959a:a732')] }, { caughtBy: 'ip', entry: TG }],
    ['clean: hints, NAT64 and glue outside every range', {
      name: 'c.example', type: 'HTTPS',
      answers: [https('c.example', { priority: 1, target: 'cdn.example', ipv4hint: ['192.0.2.1'], ipv6hint: ['64:ff9b::c000:201', '2002:c000:201::1'] })],
      additionals: [rr('A', 'cdn.example', 300, '192.0.2.2'), rr('AAAA', 'cdn.example', 300, '2001:db8:65::959a:a732')],
    }, null],
  ]
  const telegram = SNAP.categories[1].bit
  for (const [what, response, hit] of cases) {
    const memo = inspectAnswer(readAnswer(encodeResponse(response)), SNAP, embedded)
    t.same(memo.hits[telegram], hit, what)
    t.equal(memo.mask, hit === null ? 0 : 1 << telegram, `${what}: mask`)
  }
})

t.test('without the organisation prefix, its NAT64 form is not recognised', async (t) => {
  const answer = readAnswer(encodeResponse({ name: 'n.example', type: 'AAAA', answers: [rr('AAAA', 'n.example', 300, '2001:db8:64::959a:a732')] }))
  t.equal(inspectAnswer(answer, SNAP).mask, 0)
})
