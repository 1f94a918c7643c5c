import t from 'tap'
import { BlockList, isIP } from 'node:net'
import { getHeapSpaceStatistics } from 'node:v8'
import { PerformanceObserver } from 'node:perf_hooks'
import { IpRangeSet, parseAddress, parseCidr } from '../../src/lists/ip-ranges.js'
import { prng } from '../fixtures/dns-wire.js'

t.test('parseCidr accepts, normalises and rejects', async (t) => {
  const cases: Array<[text: string, expected: { family: 4 | 6; bytes: number[]; prefix: number } | null]> = [
    ['149.154.160.0/20', { family: 4, bytes: [149, 154, 160, 0], prefix: 20 }],
    ['10.1.2.3/8', { family: 4, bytes: [10, 0, 0, 0], prefix: 8 }],
    ['255.255.255.255/31', { family: 4, bytes: [255, 255, 255, 254], prefix: 31 }],
    ['0.0.0.0/0', { family: 4, bytes: [0, 0, 0, 0], prefix: 0 }],
    ['1.2.3.4', { family: 4, bytes: [1, 2, 3, 4], prefix: 32 }],
    ['2001:67c:4e8::/48', { family: 6, bytes: [0x20, 1, 6, 0x7c, 4, 0xe8, ...Array(10).fill(0)], prefix: 48 }],
    ['2001:DB8::1/33', { family: 6, bytes: [0x20, 1, 0x0d, 0xb8, ...Array(12).fill(0)], prefix: 33 }],
    ['2001:db8:ffff::/33', { family: 6, bytes: [0x20, 1, 0x0d, 0xb8, 0x80, ...Array(11).fill(0)], prefix: 33 }],
    ['::/0', { family: 6, bytes: Array(16).fill(0), prefix: 0 }],
    ['::1', { family: 6, bytes: [...Array(15).fill(0), 1], prefix: 128 }],
    ['1:2:3:4:5:6:7:8/128', { family: 6, bytes: [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], prefix: 128 }],
    ['::ffff:1.2.3.4/128', { family: 6, bytes: [...Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4], prefix: 128 }],
    ['1:2:3:4:5:6:1.2.3.4', { family: 6, bytes: [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4], prefix: 128 }],
    ['1.2.3.4/33', null],
    ['1.2.3.4/-1', null],
    ['1.2.3.4/08', null],
    ['1.2.3.4/', null],
    ['1.2.3.4/8/8', null],
    ['/8', null],
    ['01.2.3.4/8', null],
    ['256.0.0.0/8', null],
    ['1.2.3/24', null],
    ['1.2.3.4.5', null],
    [' 1.2.3.4/8', null],
    ['2001:db8::/129', null],
    ['fe80::1%eth0/64', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4:5:6:7', null],
    ['1:2:3:4::5:6:7:8', null],
    ['1::2::3', null],
    [':::/0', null],
    [':1::', null],
    ['1::2:', null],
    ['12345::/16', null],
    ['1.2.3.4::', null],
    ['g::', null],
    ['', null],
    ['garbage', null],
  ]
  for (const [text, expected] of cases) {
    const parsed = parseCidr(text)
    t.same(parsed === null ? null : { ...parsed, bytes: [...parsed.bytes] }, expected, JSON.stringify(text))
  }
})

t.test('parseAddress agrees with node:net isIP on what is an address', async (t) => {
  const texts = ['1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '01.2.3.4', '::', '::1', '1::', '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3.4', '1::2::3', 'abcd::ef01', 'abcde::', 'x::', '']
  for (const text of texts) t.equal(parseAddress(text) !== null, isIP(text) !== 0, JSON.stringify(text))
})

t.test('lookups from wire bytes, at an offset, and from text', async (t) => {
  const set = IpRangeSet.fromCidrs(['149.154.160.0/20', '  2001:67c:4e8::/48 ', '10.0.0.0/8'])
  t.equal(set.size, 3)
  const wire = Buffer.alloc(40, 0xaa)
  Buffer.from([149, 154, 167, 50]).copy(wire, 7)
  t.equal(set.containsV4(wire, 7), '149.154.160.0/20')
  t.equal(set.containsV4(wire, 8), null, 'one byte off is a different address')
  Buffer.from(parseAddress('2001:67c:4e8::1') as Uint8Array).copy(wire, 13)
  t.equal(set.containsV6(wire, 13), '2001:67c:4e8::/48', 'returned as written, trimmed')
  const cases: Array<[string, string | null]> = [
    ['149.154.160.0', '149.154.160.0/20'],
    ['149.154.175.255', '149.154.160.0/20'],
    ['149.154.159.255', null],
    ['149.154.176.0', null],
    ['9.255.255.255', null],
    ['10.0.0.0', '10.0.0.0/8'],
    ['10.255.255.255', '10.0.0.0/8'],
    ['11.0.0.0', null],
    ['0.0.0.0', null],
    ['255.255.255.255', null],
    ['2001:67c:4e8:ffff:ffff:ffff:ffff:ffff', '2001:67c:4e8::/48'],
    ['2001:67c:4e7:ffff:ffff:ffff:ffff:ffff', null],
    ['2001:67c:4e9::', null],
    ['::', null],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
    ['::ffff:149.154.167.50', '149.154.160.0/20'], // IPv4-mapped: a dual-stack socket would reach the IPv4 address
    ['::ffff:8.8.8.8', null],
    [' 10.1.1.1 ', '10.0.0.0/8'],
    ['not an address', null],
    ['10.1.1', null],
  ]
  for (const [address, expected] of cases) t.equal(set.containsAddress(address), expected, address)
})

t.test('objects with a cidr field; nested ranges; empty sets; errors', async (t) => {
  const set = IpRangeSet.fromCidrs([{ cidr: '10.1.0.0/16' }, { cidr: '10.0.0.0/8' }, { cidr: '10.0.0.0/8' }, { cidr: '2a0a:f280:203::/48' }, { cidr: '2a0a:f280::/32' }])
  t.equal(set.size, 2, 'ranges inside a wider one are dropped')
  t.equal(set.containsAddress('10.2.0.0'), '10.0.0.0/8', 'a range after a dropped nested one')
  t.equal(set.containsAddress('10.1.2.3'), '10.0.0.0/8', 'the widest range is reported')
  t.equal(set.containsAddress('2a0a:f280:203::1'), '2a0a:f280::/32')
  t.equal(set.containsAddress('2a0a:f281::'), null)

  const empty = IpRangeSet.fromCidrs([])
  t.equal(empty.size, 0)
  t.equal(empty.containsAddress('1.2.3.4'), null)
  t.equal(empty.containsAddress('::1'), null)

  t.throws(() => IpRangeSet.fromCidrs(['1.2.3.4/8', 'nope', '::/129']), {
    code: 'DNSVAKT_ERR_BLOCKLIST',
    problems: ['not a CIDR: "nope"', 'not a CIDR: "::/129"'],
  })
  t.throws(() => set.containsV4(new Uint8Array(4), 1), { code: 'DNSVAKT_ERR_MALFORMED' })
  t.throws(() => set.containsV4(new Uint8Array(4), -1), { code: 'DNSVAKT_ERR_MALFORMED' })
  t.throws(() => set.containsV6(new Uint8Array(20), 5), { code: 'DNSVAKT_ERR_MALFORMED' })
})

t.test('agrees with node:net BlockList on random ranges and addresses', async (t) => {
  const random = prng(4242)
  const int = (n: number): number => Math.floor(random() * n)
  // Addresses are drawn from a small neighbourhood so ranges nest, touch and overlap the queries.
  const v4 = (): string => `10.${int(64)}.${int(256)}.${int(256)}`
  const v6 = (): string => `2001:db8:${int(64).toString(16)}:${Array.from({ length: 5 }, () => int(65536).toString(16)).join(':')}`
  const cidrs = [
    ...Array.from({ length: 300 }, () => `${v4()}/${18 + int(15)}`),
    ...Array.from({ length: 300 }, () => `${v6()}/${48 + int(50)}`),
  ]
  const set = IpRangeSet.fromCidrs(cidrs)
  const oracle = new BlockList()
  for (const c of cidrs) addToOracle(oracle, c)
  const hits = { ipv4: 0, ipv6: 0 }
  let mismatches = 0
  for (let i = 0; i < 10_000; i++) {
    const address = i % 2 === 0 ? v4() : v6()
    const family = address.includes(':') ? 'ipv6' : 'ipv4'
    const found = set.containsAddress(address)
    const expected = oracle.check(address, family)
    if (expected) hits[family]++
    // A reported CIDR must itself contain the address.
    const single = new BlockList()
    if (found !== null) addToOracle(single, found)
    const consistent = (found !== null) === expected && (found === null || single.check(address, family))
    if (!consistent && mismatches++ < 10) t.fail(`${address}: got ${found}, BlockList says ${expected}`)
  }
  t.equal(mismatches, 0, 'no address disagrees with BlockList')
  // Each family gets 5,000 queries: both must see hits and misses for the comparison to mean anything.
  t.ok(hits.ipv4 > 100 && hits.ipv4 < 4_800, `IPv4 hits and misses are exercised (${hits.ipv4} hits)`)
  t.ok(hits.ipv6 > 100 && hits.ipv6 < 4_800, `IPv6 hits and misses are exercised (${hits.ipv6} hits)`)
})

t.test('wire-bytes lookups allocate nothing, on a hit or a miss', async (t) => {
  // Measured, not timed: young-generation bytes and garbage collections across 200,000 calls each.
  const set = IpRangeSet.fromCidrs(['91.108.4.0/22', '149.154.160.0/20', '2001:67c:4e8::/48', '2a0a:f280::/32'])
  const records = ['149.154.167.50', '8.8.8.8', '2001:67c:4e8::1', '2001:db8::1', '::ffff:149.154.167.50', '2a0a:f281::1']
  const wire = Buffer.concat(records.map((a) => Buffer.from(parseAddress(a) ?? new Uint8Array(16)))) // a v4 record is 4 bytes
  const offsets = { v4: [0, 4], v6: [8, 24, 40, 56] }
  const expectedHits = { v4: 1, v6: 2 }
  let collections = 0
  const observer = new PerformanceObserver((list) => { collections += list.getEntries().length })
  observer.observe({ entryTypes: ['gc'] })
  const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20))
  for (const family of ['v4', 'v6'] as const) {
    const check = family === 'v4' ? (o: number) => set.containsV4(wire, o) : (o: number) => set.containsV6(wire, o)
    let found = 0
    const at = offsets[family]
    for (let r = 0; r < 20_000; r++) for (let i = 0; i < at.length; i++) if (check(at[i]) !== null) found++ // warm up
    await settle()
    const collectionsBefore = collections
    const before = newSpace()
    for (let r = 0; r < 50_000; r++) for (let i = 0; i < at.length; i++) if (check(at[i]) !== null) found++
    const grown = newSpace() - before
    await settle()
    // One stray collection can come from the test runner's own timers on a busy machine (seen in CI under
    // load); an allocation per call (200,000 calls) would cost several, and the growth check below.
    t.ok(collections - collectionsBefore <= 1, `${family}: no garbage collection beyond a stray one (${collections - collectionsBefore})`)
    t.ok(grown < 64 * 1024, `${family}: young generation grew ${grown} bytes`)
    t.equal(found, 70_000 * expectedHits[family], `${family}: hits and misses both ran`)
  }
  observer.disconnect()
})

/** BlockList wants the network address, so the host bits are cleared (by our parser) and rendered independently. */
function addToOracle(list: BlockList, cidr: string): void {
  const p = parseCidr(cidr)
  if (p === null) throw new Error(`generator made a bad CIDR ${cidr}`)
  const b = p.bytes
  const net = p.family === 4 ? [...b].join('.') : Array.from({ length: 8 }, (_, i) => ((b[i * 2] << 8) | b[i * 2 + 1]).toString(16)).join(':')
  list.addSubnet(net, p.prefix, p.family === 4 ? 'ipv4' : 'ipv6')
}
