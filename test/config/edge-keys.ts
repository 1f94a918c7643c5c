/**
 * The config keys of the edge hardening (issue 10): defaults, checks, and
 * the durations that must be above zero.
 */
import t from 'tap'
import { validate } from '../../src/config/load-config.js'
import { isDnsvaktError } from '../../src/errors.js'

const problems = (raw: unknown): string[] => {
  try {
    validate(raw, 'test')
    return []
  } catch (e) {
    return isDnsvaktError(e) ? [...e.problems] : [String(e)]
  }
}

t.test('defaults', async (t) => {
  const c = validate({}, 'test')
  t.equal(c.listen.udpMaxPayload, 1232, 'DNS Flag Day 2020')
  t.equal(c.listen.tcpMaxConnectionsPerClient, 100)
  t.equal(c.upstream.maxPending, 10_000)
  t.same(c.upstream.sourceAddress, {})
  t.equal(c.upstream.randomizeCase, true)
  t.same(c.upstream.randomizeCaseExcept, [])
  t.same({ ...c.rateLimit, groups: undefined }, { queriesPerSecond: 0, burst: 200, ipv4Prefix: 32, ipv6Prefix: 56, maxClients: 100_000, logInterval: 60_000, groups: undefined })
})

t.test('values are turned into their structures', async (t) => {
  const c = validate({
    listen: { udpMaxPayload: 4096, tcpMaxConnectionsPerClient: 8 },
    upstream: { maxPending: 500, sourceAddress: ['192.0.2.10', '2001:db8::10'], randomizeCase: true, randomizeCaseExcept: ['10.0.0.53', '[2001:db8::53]:5353'] },
    rateLimit: { queriesPerSecond: 50, ipv6Prefix: 64, groups: { vpn: { queriesPerSecond: 2000, burst: 4000 } } },
  }, 'test')
  t.same(c.upstream.sourceAddress, { v4: '192.0.2.10', v6: '2001:db8::10' })
  t.same(c.upstream.randomizeCaseExcept, [{ address: '10.0.0.53', port: 53 }, { address: '2001:db8::53', port: 5353 }])
  t.same(c.rateLimit.groups, { vpn: { queriesPerSecond: 2000, burst: 4000 } })
  t.same(validate({ upstream: { sourceAddress: '192.0.2.10' } }, 'test').upstream.sourceAddress, { v4: '192.0.2.10' }, 'one address as a string')
})

t.test('refused values', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['udpMaxPayload below 512', { listen: { udpMaxPayload: 100 } }, /udpMaxPayload/],
    ['two IPv4 source addresses', { upstream: { sourceAddress: ['192.0.2.1', '192.0.2.2'] } }, /at most one IPv4/],
    ['a source name', { upstream: { sourceAddress: 'dns.example' } }, /sourceAddress/],
    ['maxPending 0', { upstream: { maxPending: 0 } }, /maxPending/],
    ['ipv6Prefix 129', { rateLimit: { ipv6Prefix: 129 } }, /ipv6Prefix/],
    ['a group limit without burst', { rateLimit: { groups: { vpn: { queriesPerSecond: 5 } } } }, /groups/],
  ]
  for (const [what, raw, want] of cases) t.match(problems(raw).join('\n'), want, what)
})

t.test('durations where zero makes no sense must be above zero', async (t) => {
  // tcpIdleTimeout: 0s and tryTimeout: 0s used to pass validation.
  const cases: Array<[string, unknown]> = [
    ['listen.tcpIdleTimeout', { listen: { tcpIdleTimeout: '0s' } }],
    ['upstream.tryTimeout', { upstream: { tryTimeout: '0s' } }],
    ['upstream.deadline', { upstream: { deadline: '0ms' } }],
    ['upstream.probeInterval', { upstream: { probeInterval: '0s' } }],
    ['blocking.watchInterval', { blocking: { watchInterval: '0s' } }],
    ['rateLimit.logInterval', { rateLimit: { logInterval: '0s' } }],
  ]
  for (const [key, raw] of cases) {
    const p = problems(raw).join('\n')
    t.match(p, /above zero/, key)
    t.match(p, key.split('.').at(-1)!, `${key} named`)
  }
  t.same(problems({ cache: { minTtl: '0s' } }), [], 'cache.minTtl 0 still means "no minimum"')
})
