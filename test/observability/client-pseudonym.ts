import t from 'tap'
import {
  ADDRESS_MODES, ClientPseudonymizer, addressBytes, localDay, truncateAddress,
} from '../../src/observability/client-pseudonym.js'
import { isDnsvaktError } from '../../src/errors.js'

const SECRET = 'a-test-secret-of-32-bytes-length'
const at = (y: number, mo: number, d: number, h = 12, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime()

t.test('truncateAddress: IPv4 /24, IPv6 /56, IPv4-mapped as IPv4', async (t) => {
  const cases: [string, string | undefined][] = [
    ['192.0.2.1', '192.0.2.0/24'],
    ['10.20.30.255', '10.20.30.0/24'],
    ['2001:db8:aa:bb12:1:2:3:4', '2001:db8:aa:bb00::/56'],
    ['2001:0DB8:00AA:BBCC::1', '2001:db8:aa:bb00::/56'],
    ['fe80::1%eth0', 'fe80::/56'],
    ['::1', '::/56'],
    ['::ffff:192.0.2.1', '192.0.2.0/24'],
    ['::ffff:c000:0201', '192.0.2.0/24'],
    ['2001:db8:0:0:1::', '2001:db8::/56'],
    ['not an address', undefined],
    ['', undefined],
  ]
  for (const [input, want] of cases) t.equal(truncateAddress(input), want, input)
})

t.test('addressBytes parses embedded IPv4 and zero runs', async (t) => {
  t.same([...(addressBytes('64:ff9b::192.0.2.1') ?? [])], [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1])
  t.same([...(addressBytes('::ffff:10.0.0.1') ?? [])], [10, 0, 0, 1])
  t.equal(addressBytes('1.2.3'), undefined)
})

t.test('hash mode: stable within a local day, different the next day', async (t) => {
  const clock = { t: at(2024, 3, 10, 8) }
  const p = new ClientPseudonymizer({ mode: 'hash', secret: SECRET, now: () => clock.t })
  const morning = p.forLog('192.0.2.1')
  t.match(morning, /^[0-9a-f]{16}$/)
  clock.t = at(2024, 3, 10, 23, 59)
  t.equal(p.forLog('192.0.2.1'), morning, 'same day, same pseudonym')
  t.equal(p.pseudonymForCounting('::ffff:192.0.2.1'), morning, 'v4-mapped is the same client')
  t.not(p.forLog('192.0.2.2'), morning, 'another client differs')
  clock.t = at(2024, 3, 11, 0, 1)
  t.not(p.forLog('192.0.2.1'), morning, 'the key rotated at midnight')
  clock.t = at(2024, 3, 10, 9)
  t.equal(p.forLog('192.0.2.1'), morning, 'derived from secret and date only, not from history')
  const other = new ClientPseudonymizer({ mode: 'hash', secret: `${SECRET}-other`, now: () => clock.t })
  t.not(other.forLog('192.0.2.1'), morning, 'depends on the secret')
  const same = new ClientPseudonymizer({ mode: 'hash', secret: Buffer.from(SECRET), now: () => clock.t })
  t.equal(same.forLog('192.0.2.1'), morning, 'same secret, same day: linkable across restarts')
})

t.test('the secret is random per process unless configured, and must be long enough', async (t) => {
  const now = () => at(2024, 3, 10)
  let calls = 0
  const a = new ClientPseudonymizer({ mode: 'hash', now, randomBytes: (n) => { calls++; return Buffer.alloc(n, 1) } })
  const b = new ClientPseudonymizer({ mode: 'hash', now, randomBytes: (n) => Buffer.alloc(n, 2) })
  t.equal(calls, 1)
  t.not(a.forLog('192.0.2.1'), b.forLog('192.0.2.1'))
  t.not(new ClientPseudonymizer({ mode: 'hash', now }).forLog('192.0.2.1'), new ClientPseudonymizer({ mode: 'hash', now }).forLog('192.0.2.1'))
  let err: unknown
  try { new ClientPseudonymizer({ secret: 'short' }) } catch (e) { err = e }
  t.ok(isDnsvaktError(err, 'DNSVAKT_ERR_CONFIG'), 'a short secret is a config error')
})

t.test('modes: truncate is the default; full; omit; counting is always the pseudonym', async (t) => {
  const now = () => at(2024, 3, 10)
  t.same(ADDRESS_MODES, ['truncate', 'hash', 'full', 'omit'])
  const def = new ClientPseudonymizer({ secret: SECRET, now })
  t.equal(def.mode, 'truncate')
  t.equal(def.forLog('2001:db8:aa:bb12::9'), '2001:db8:aa:bb00::/56')
  t.equal(new ClientPseudonymizer({ mode: 'full', now }).forLog('192.0.2.1'), '192.0.2.1')
  t.equal(new ClientPseudonymizer({ mode: 'omit', now }).forLog('192.0.2.1'), undefined)
  const hashed = new ClientPseudonymizer({ mode: 'hash', secret: SECRET, now }).forLog('192.0.2.1')
  for (const mode of ADDRESS_MODES) {
    const c = new ClientPseudonymizer({ mode, secret: SECRET, now }).pseudonymForCounting('192.0.2.1')
    t.equal(c, hashed, `${mode}: counting pseudonym`)
    t.notMatch(c, /192/, 'never the address')
  }
})

t.test('the memo is bounded and does not change results', async (t) => {
  const now = () => at(2024, 3, 10)
  const small = new ClientPseudonymizer({ secret: SECRET, now, memoLimit: 2 })
  const big = new ClientPseudonymizer({ secret: SECRET, now })
  for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1', 'garbage']) {
    t.equal(small.pseudonymForCounting(a), big.pseudonymForCounting(a), a)
  }
})

t.test('localDay handles DST days and keys by local date', async (t) => {
  const d = localDay(at(2024, 3, 31, 12))
  t.equal(d.key, '2024-03-31')
  t.equal(d.start, at(2024, 3, 31, 0))
  t.equal(d.end, at(2024, 4, 1, 0))
  t.ok(d.end - d.start <= 25 * 3600_000 && d.end - d.start >= 23 * 3600_000)
})
