/**
 * The value readers of config/fields.ts on their own: how a given value is
 * quoted in an error, and host:port parsing (listeners require the port,
 * upstreams default to 53). Whole-config messages are in load-config.ts.
 */
import t from 'tap'
import { formatHostPort, given, readHostPort, Refusal } from '../../src/config/fields.js'

t.test('given() quotes what the operator wrote, by kind', async (t) => {
  t.equal(given('4'), '"4"')
  t.equal(given(300), 'the number 300')
  t.equal(given(null), 'an empty value (null)')
  t.equal(given(undefined), 'nothing')
  t.equal(given(true), 'true')
  t.equal(given(['a']), 'a list (["a"])')
  t.equal(given({ a: 1 }), 'a mapping')
  t.equal(given('y'.repeat(61)), `"${'y'.repeat(40)}"... (61 characters)`, 'long texts are cut')
})

t.test('readHostPort: addresses, ports, defaults and refusals', async (t) => {
  t.same(readHostPort('10.0.0.1:5353', null, 53), { address: '10.0.0.1', port: 5353 })
  t.same(readHostPort('[fe80::1%eth0]:53', null, 53), { address: 'fe80::1%eth0', port: 53 }, 'a scoped IPv6 address')
  t.same(readHostPort('10.0.0.1', 53, 53), { address: '10.0.0.1', port: 53 }, 'default port when one is given')
  t.same(readHostPort('2001:db8::1', 53, 53), { address: '2001:db8::1', port: 53 }, 'bare IPv6 with a default port')
  t.same(readHostPort('[::1]:0', null, 53), { address: '::1', port: 0 })
  const refused = (text: string, defaultPort: number | null = null) => {
    const r = readHostPort(text, defaultPort, 53)
    return r instanceof Refusal ? r.message : `(accepted ${JSON.stringify(r)})`
  }
  t.match(refused('10.0.0.1'), /the port is required.*"10\.0\.0\.1:53"/)
  t.match(refused('::1'), /the port is required.*"\[::1\]:53"/)
  t.match(refused('53'), /a port without an address: write "127\.0\.0\.1:53"/)
  t.match(refused('localhost:53'), /names are not resolved/)
  t.match(refused('10.0.0.1:65536'), /port from 0 to 65535/)
  t.match(refused('10.0.0.1:-1'), /port from 0 to 65535/)
  t.match(refused('10.0.0.1:'), /port from 0 to 65535/)
  t.match(refused('[10.0.0.1:53'), /names are not resolved/)
  t.match(refused(''), /names are not resolved/)
  t.match(refused('1.2.3.4:53:53'), /port from 0 to 65535/)
})

t.test('formatHostPort brackets IPv6 only', async (t) => {
  t.equal(formatHostPort({ address: '10.0.0.1', port: 53 }), '10.0.0.1:53')
  t.equal(formatHostPort({ address: '::1', port: 5353 }), '[::1]:5353')
  t.equal(formatHostPort({ address: 'fe80::1%eth0', port: 53 }), '[fe80::1%eth0]:53')
})
