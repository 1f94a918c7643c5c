import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isDnsvaktError } from '../../src/errors.js'
import { parseResolvConf, readResolvConf } from '../../src/upstream/resolv-conf.js'

const SYSTEMD = `# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
# Do not edit.
nameserver 127.0.0.53
options edns0 trust-ad
search lan
`

t.test('parseResolvConf: nameserver lines only, in order, port 53', async (t) => {
  const cases: Array<[string, string, string[]]> = [
    ['systemd-resolved stub', SYSTEMD, ['127.0.0.53']],
    ['several, v4 and v6', 'nameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver 198.51.100.53\nnameserver 203.0.113.53\n', ['192.0.2.53', '2001:db8::53', '198.51.100.53', '203.0.113.53']],
    ['link-local keeps its scope', 'nameserver fe80::1%eth0\n', ['fe80::1%eth0']],
    ['comments: # and ; anywhere, tabs, CRLF', '; old\n#nameserver 10.9.9.9\nnameserver\t192.0.2.1   # primary\r\n  nameserver 192.0.2.2;x\n', ['192.0.2.1', '192.0.2.2']],
    ['other keywords ignored', 'domain example.test\nsearch a.test b.test\noptions ndots:2 timeout:1\nsortlist 10.0.0.0/8\nnameserver 192.0.2.9\n', ['192.0.2.9']],
    ['duplicates dropped', 'nameserver 192.0.2.1\nnameserver 192.0.2.1\n', ['192.0.2.1']],
    ['keyword must be exact', 'nameservers 192.0.2.1\nNAMESERVER 192.0.2.2\n', []],
    ['empty', '', []],
  ]
  for (const [name, text, want] of cases) {
    const { upstreams } = parseResolvConf(text)
    t.same(upstreams, want.map((address) => ({ address, port: 53 })), name)
  }
  const { upstreams, skipped } = parseResolvConf('nameserver dns.example\nnameserver\nnameserver 300.1.1.1\nnameserver 192.0.2.1\n', 'x.conf')
  t.same(upstreams, [{ address: '192.0.2.1', port: 53 }])
  t.same(skipped.map((s) => s.split(':')[1]), ['1', '2', '3'], 'each skipped line named with its number')
  t.match(skipped[0], /^x\.conf:1: "nameserver dns\.example" does not name an IP address$/)
})

t.test('readResolvConf: reads the file; refuses no file and no nameserver', async (t) => {
  const dir = t.testdir({ 'ok.conf': SYSTEMD, 'none.conf': 'search lan\noptions edns0\n', 'bad.conf': 'nameserver resolver.lan\n' })
  t.same(readResolvConf(join(dir, 'ok.conf')), [{ address: '127.0.0.53', port: 53 }])

  const none = (() => { try { readResolvConf(join(dir, 'none.conf')) } catch (e) { return e } })()
  t.ok(isDnsvaktError(none, 'DNSVAKT_ERR_CONFIG'))
  t.match(String((none as Error).message), /no usable nameserver line; list upstream.servers explicitly/)

  const bad = (() => { try { readResolvConf(join(dir, 'bad.conf')) } catch (e) { return e } })()
  t.ok(isDnsvaktError(bad, 'DNSVAKT_ERR_CONFIG'))
  t.equal(isDnsvaktError(bad) ? bad.problems.length : -1, 1, 'the skipped line is among the problems')

  t.throws(() => readResolvConf(join(dir, 'missing.conf')), { code: 'DNSVAKT_ERR_CONFIG', message: /cannot be read/ })

  writeFileSync(join(dir, 'mixed.conf'), 'nameserver resolver.lan\nnameserver 192.0.2.1\n')
  const warned: string[] = []
  t.same(readResolvConf(join(dir, 'mixed.conf'), (w) => warned.push(w)), [{ address: '192.0.2.1', port: 53 }])
  t.equal(warned.length, 1, 'skipped lines are reported')
})
