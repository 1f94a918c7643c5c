/**
 * The cross-field checks of config/check-config.ts (the whole gateway is exercised end to end in
 * test/integration/): forwarding loops are refused at start.
 */
import t from 'tap'
import { forwardingLoops } from '../../src/config/check-config.js'

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
