import t from 'tap'
import { parseAddress } from '../../src/net/cidr.js'
import { EmbeddedIpv4, isNat64Prefix } from '../../src/net/embedded-ipv4.js'

const found = (e: EmbeddedIpv4, address: string): string[] => {
  const bytes = parseAddress(address)!
  const n = e.extract(Uint8Array.from([9, 9, ...bytes]), 2)
  return Array.from({ length: n }, (_, i) => [...e.found.subarray(i * 4, i * 4 + 4)].join('.'))
}

t.test('the well-known forms', async (t) => {
  const e = new EmbeddedIpv4()
  const cases: Array<[string, string[]]> = [
    ['64:ff9b::959a:a732', ['149.154.167.50']],
    ['64:ff9b::149.154.167.50', ['149.154.167.50']],
    ['2002:959a:a732::1', ['149.154.167.50']],
    ['2002:959a:a732:1234:5678::', ['149.154.167.50']],
    // 64:ff9b:1::/48 (RFC 8215): the operator picks the length, so every RFC 6052 layout from /48 is read.
    // Layouts in order /48, /56, /64, /96: the telegram address sits at one of them.
    ['64:ff9b:1:0:0:0:959a:a732', ['0.0.0.0', '0.0.0.0', '0.0.0.149', '149.154.167.50']],
    ['64:ff9b:1:959a:a7:3200::', ['149.154.167.50', '154.167.50.0', '167.50.0.0', '0.0.0.0']],
    ['64:ff9b:1:ab95:9a:a732::', ['171.149.154.167', '149.154.167.50', '154.167.50.0', '0.0.0.0']],
    ['64:ff9b::1:959a:a732', []],
    ['64:ff9c::959a:a732', []],
    ['2001:67c:4e8::1', []],
    ['2003:959a:a732::', []],
    ['::959a:a732', []],
  ]
  for (const [address, expected] of cases) t.same(found(e, address), expected, address)
})

t.test('an organisation\'s own NAT64 prefixes, at every RFC 6052 length', async (t) => {
  const e = new EmbeddedIpv4(['2001:db8:64::/96', '2001:db8:100::/40 ', '2001:db8:200::/64'])
  t.same(found(e, '2001:db8:64::959a:a732'), ['149.154.167.50'], '/96')
  t.same(found(e, '2001:db8:195:9aa7:32::'), ['149.154.167.50'], '/40: three bytes, the u octet, one byte')
  t.same(found(e, '2001:db8:200:0:95:9aa7:3200:0'), ['149.154.167.50'], '/64')
  t.same(found(e, '2001:db8:65::959a:a732'), [], 'outside every prefix')
  t.same(found(new EmbeddedIpv4(['2001:db8::/32']), '2001:db8:959a:a732::'), ['149.154.167.50'], '/32')
  t.same(found(new EmbeddedIpv4(['2001:db8:300::/56']), '2001:db8:300:95:9a:a732::'), ['149.154.167.50'], '/56')
})

t.test('which prefixes are NAT64 prefixes', async (t) => {
  for (const ok of ['2001:db8:64::/96', '2001:db8::/32', '2001:db8:1::/48', ' 64:ff9b::/96 ']) t.ok(isNat64Prefix(ok), ok)
  for (const bad of ['2001:db8::/33', '2001:db8::/128', '10.0.0.0/8', '2001:db8::', 'nonsense', '2001:db8::/96/1']) t.notOk(isNat64Prefix(bad), bad)
  t.throws(() => new EmbeddedIpv4(['10.0.0.0/8']), /not a NAT64 prefix/)
})
