/**
 * The cross-field checks of config/check-config.ts: forwarding loops and
 * groups enforcing a category with no list are refused at start (the gateway
 * and check-config call the same startProblems); the config-only rules run
 * on every load (more cases through validate() in load-config.ts).
 */
import t from 'tap'
import { configError, crossFieldProblems, forwardingLoops, groupCategoryProblems, refuseProblems, startProblems } from '../../src/config/check-config.js'
import { validate } from '../../src/config/load-config.js'
import { isDnsvaktError } from '../../src/errors.js'

const up = (address: string, port = 53) => ({ address, port, protocol: 'udp' as const })

t.test('an upstream that is one of our own listeners is a forwarding loop', async (t) => {
  t.equal(forwardingLoops([up('127.0.0.1')], [{ address: '127.0.0.1', port: 53 }]).length, 1, 'same address and port')
  t.equal(forwardingLoops([up('127.0.0.1')], [{ address: '0.0.0.0', port: 53 }]).length, 1, 'wildcard IPv4 listener, loopback upstream')
  t.equal(forwardingLoops([up('::1')], [{ address: '::', port: 53 }]).length, 1, 'wildcard IPv6 listener')
  t.match(forwardingLoops([up('127.0.0.1')], [{ address: '127.0.0.1', port: 53 }])[0], /127\.0\.0\.1:53 is dnsvakt's own listener/)
  t.same(forwardingLoops([up('127.0.0.53')], [{ address: '127.0.0.1', port: 53 }]), [], 'systemd-resolved on 127.0.0.53 is another server')
  t.same(forwardingLoops([up('127.0.0.1')], [{ address: '127.0.0.1', port: 5353 }]), [], 'same address, other port')
  t.same(forwardingLoops([up('10.0.0.53')], [{ address: '0.0.0.0', port: 53 }], ['10.0.0.7']), [], 'a remote resolver')
  t.equal(forwardingLoops([up('10.0.0.7')], [{ address: '0.0.0.0', port: 53 }], ['10.0.0.7']).length, 1, "this host's own address behind a wildcard listener")
  t.same(forwardingLoops([up('127.0.0.1', 0)], [{ address: '127.0.0.1', port: 0 }]), [], 'port 0 (tests) never loops')
})

t.test('a group enforcing a category with no list names the group, the category and the folder', async (t) => {
  const lists = new Set(['tiktok', 'telegram'])
  const groups = { staff: { networks: ['10.20.0.0/16'], enforce: ['tiktok', 'facebook'] }, default: { networks: [], enforce: ['telegram', 'snap'] } }
  t.same(groupCategoryProblems(groups, lists, '/srv/lists'), [
    'groups.staff.enforce: no list for category "facebook" in /srv/lists',
    'groups.default.enforce: no list for category "snap" in /srv/lists',
  ])
  t.same(groupCategoryProblems({ staff: { networks: [], enforce: ['tiktok'] } }, lists, '/x'), [])
})

t.test('a shadow category needs a list and must not be enforced too', async (t) => {
  const lists = new Set(['tiktok', 'telegram', 'gambling'])
  const groups = { default: { networks: [], enforce: ['tiktok', 'telegram'], shadow: ['gambling', 'telegram', 'betting'] } }
  t.same(groupCategoryProblems(groups, lists, '/srv/lists'), [
    'groups.default.shadow: no list for category "betting" in /srv/lists',
    'groups.default.shadow: "telegram" is also enforced; a category is either enforced or in shadow',
  ])
  t.same(groupCategoryProblems({ default: { networks: [], enforce: ['tiktok'], shadow: ['gambling'] } }, lists, '/x'), [])
  const config = validate({ groups: { default: { enforce: ['tiktok'], shadow: ['gambling'] } } }, 'test')
  t.same(config.groups.default.shadow, ['gambling'], 'groups.<name>.shadow is a config key')
  t.equal(validate({}, 'test').groups.default.shadow, undefined, 'absent by default: no shadow category')
})

t.test('startProblems: both start checks at once, from the config sections', async (t) => {
  const config = validate({ listen: { dns: ['127.0.0.1:53'] }, groups: { default: { enforce: ['tiktok', 'nope'] } } }, 'test')
  const problems = startProblems(config, { lists: new Set(['tiktok']), listDir: '/l', upstreams: [{ address: '127.0.0.1', port: 53 }, { address: '192.0.2.1', port: 53 }] })
  t.equal(problems.length, 2, JSON.stringify(problems))
  t.match(problems[0], /^groups\.default\.enforce: no list for category "nope"/)
  t.match(problems[1], /^upstream\.servers: 127\.0\.0\.1:53 is dnsvakt's own listener/)
  t.match(forwardingLoops([{ address: '::1', port: 53 }], [{ address: '::1', port: 53 }]), [/^upstream\.servers: \[::1\]:53 /], 'IPv6 written in brackets')
})

t.test('crossFieldProblems reads a parsed config; refuseProblems throws a config error listing every problem', async (t) => {
  const defaults = validate({}, 'test')
  t.same(crossFieldProblems(defaults), [], 'the defaults are consistent')
  const bad = { ...defaults, cache: { ...defaults.cache, minTtl: 2000, maxTtl: 1000 }, upstream: { ...defaults.upstream, tryTimeout: 5000 } }
  t.same(crossFieldProblems(bad), ['upstream.deadline: must be at least upstream.tryTimeout', 'cache.minTtl: must not exceed cache.maxTtl'])
  t.doesNotThrow(() => refuseProblems([]))
  const e = configError(['a: one', 'b: two'], 'config my.yaml')
  t.ok(isDnsvaktError(e, 'DNSVAKT_ERR_CONFIG'))
  t.equal(e.message, 'invalid config my.yaml:\n  - a: one\n  - b: two')
  t.same(e.problems, ['a: one', 'b: two'])
  t.throws(() => refuseProblems(['x: y']), { code: 'DNSVAKT_ERR_CONFIG', message: 'invalid config:\n  - x: y' })
})
