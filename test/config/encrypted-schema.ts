/** Config forms of encrypted DNS: tls:// and https:// upstreams, the tls section, listen.dot/doh. */
import t from 'tap'
import { validate } from '../../src/config/load-config.js'
import { ddrServerName } from '../../src/config/encrypted-schema.js'

const servers = (list: string[]) => validate({ upstream: { servers: list } }, 'test').upstream.servers
const problems = (raw: unknown) => {
  try {
    validate(raw, 'test')
    return []
  } catch (e) {
    return (e as { problems: string[] }).problems
  }
}
const PIN = 'sha256/' + Buffer.alloc(32, 7).toString('base64')

t.test('tls:// upstreams', async (t) => {
  t.same(servers(['tls://9.9.9.9#dns.quad9.net']), [{ address: '9.9.9.9', port: 853, protocol: 'tls', serverName: 'dns.quad9.net', pins: [], path: '' }])
  t.same(servers([`tls://[2620:fe::fe]:8853#dns.quad9.net?pin=${PIN}`])[0], { address: '2620:fe::fe', port: 8853, protocol: 'tls', serverName: 'dns.quad9.net', pins: [PIN.slice(7)], path: '' })
  t.same(servers(['tls://1.1.1.1'])[0], { address: '1.1.1.1', port: 853, protocol: 'tls', serverName: null, pins: [], path: '' }, 'no name: the certificate must carry the IP')
  t.match(problems({ upstream: { servers: ['tls://dns.quad9.net'] } }), [/a DoT upstream is an IP address/])
  t.match(problems({ upstream: { servers: ['tls://9.9.9.9#x?pin=md5/abc'] } }), [/pin=sha256/])
  t.match(problems({ upstream: { servers: ['tls://9.9.9.9:99999'] } }), [/expected tls:\/\/IP/])
})

t.test('https:// upstreams', async (t) => {
  t.same(servers(['https://dns.example.net/dns-query'])[0], { address: 'dns.example.net', port: 443, protocol: 'https', serverName: 'dns.example.net', pins: [], path: '/dns-query' })
  t.same(servers(['https://127.0.0.1:8443/q#dns.test'])[0], { address: '127.0.0.1', port: 8443, protocol: 'https', serverName: 'dns.test', pins: [], path: '/q' })
  t.same((servers(['https://dns.example.net'])[0] as { path: string }).path, '/dns-query', 'the RFC 8484 path by default')
  t.match(problems({ upstream: { servers: ['https://bad_host!/dns-query'] } }), [/expected https|neither an IP/])
})

t.test('listen.dot/doh need the certificate; tls keys are checked', async (t) => {
  t.match(problems({ listen: { dot: ['127.0.0.1:853'] } }), [/tls: listen.dot and listen.doh need tls.certFile and tls.keyFile/])
  const c = validate({ listen: { dot: ['127.0.0.1'], doh: ['[::1]'] }, tls: { certFile: 'a.crt', keyFile: 'a.key', serverName: 'dns.kommune.no' } }, 'test')
  t.same(c.listen.dot, [{ address: '127.0.0.1', port: 853 }])
  t.same(c.listen.doh, [{ address: '::1', port: 443 }])
  t.equal(c.tls.reloadInterval, 30_000)
  t.match(problems({ tls: { serverName: 'Not A Name' } }), [/tls.serverName/])
  t.match(problems({ tls: { certFile: 'a', bogus: 1 } }), [/tls/])
  t.same(validate({}, 'test').listen.dot, [], 'off by default')
})

t.test('ddrServerName: DDR designates only with a DoT or DoH listener, the certificate and tls.serverName', async (t) => {
  const tls = { certFile: 'a.crt', keyFile: 'a.key', serverName: 'dns.kommune.no' }
  t.equal(ddrServerName(validate({ listen: { dot: ['127.0.0.1:853'] }, tls }, 'test')), 'dns.kommune.no')
  t.equal(ddrServerName(validate({ listen: { doh: ['127.0.0.1:443'] }, tls }, 'test')), 'dns.kommune.no')
  t.equal(ddrServerName(validate({ tls }, 'test')), null, 'no encrypted listener: nothing to designate')
  t.equal(ddrServerName(validate({ listen: { dot: ['127.0.0.1:853'] }, tls: { ...tls, serverName: null } }, 'test')), null, 'no name: no designation')
  t.equal(ddrServerName(validate({}, 'test')), null, 'off by default')
})
