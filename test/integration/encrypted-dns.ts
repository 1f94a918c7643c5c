/**
 * DoT and DoH served by a whole gateway, asked by real clients: `kdig +tls`,
 * `kdig +https`, `curl --http2` and `curl --http1.1`, with a certificate made
 * by openssl. Blocked names get NXDOMAIN + EDE 15, other names the upstream's
 * answer, and DDR (`_dns.resolver.arpa` SVCB) designates the listeners.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import dnsPacket from 'dns-packet'
import { startHarness } from '../fixtures/gateway-harness.js'
import { makeCert } from '../fixtures/test-certs.js'
import { encodeQuery, udpAsk } from '../fixtures/dns-client.js'
import { parseSvcb } from '../fixtures/svcb-reader.js'
import { requireTool } from '../fixtures/tool.js'

// The real tools this file runs (listed in scripts/ensure-test-tools.sh): fail at once when one is missing.
requireTool('kdig')
requireTool('curl')

const run = promisify(execFile)
/** dns-packet has no SVCB mnemonic: its name for type 64. */
const SVCB = 'UNKNOWN_64'
const cert = makeCert()

async function start(t: { teardown(f: () => unknown): void }, extra: Record<string, unknown> = {}) {
  const h = await startHarness({
    listen: { dns: ['127.0.0.1:0'], admin: '', dot: ['127.0.0.1:0'], doh: ['127.0.0.1:0'] },
    tls: { certFile: cert.certFile, keyFile: cert.keyFile, serverName: 'dns.test' },
    ...extra,
  })
  t.teardown(() => h.close())
  const dot = h.gw.encrypted.find((e) => e.transport === 'dot')!.port
  const doh = h.gw.encrypted.find((e) => e.transport === 'doh')!.port
  return { h, dot, doh }
}

const kdig = async (args: string[]) => (await run('kdig', ['+tls-ca=' + cert.certFile, '+tls-hostname=dns.test', '+timeout=5', '+retry=0', ...args])).stdout

t.test('kdig over DoT and DoH: blocked with EDE 15, forwarded otherwise', async (t) => {
  const { h, dot, doh } = await start(t)
  const blockedTls = await kdig(['@127.0.0.1', '-p', String(dot), '+tls', 'tiktok.com', 'A'])
  t.match(blockedTls, /status: NXDOMAIN/)
  t.match(blockedTls, /EDE: 15 \(Blocked\)/)
  t.match(blockedTls, /PADDING: \d+ B/, 'the answer is padded')
  t.match(blockedTls, /Received 468 B/, 'to the 468-byte block (RFC 8467)')
  const fwdTls = await kdig(['@127.0.0.1', '-p', String(dot), '+tls', 'example.org', 'A'])
  t.match(fwdTls, /status: NOERROR/)
  t.match(fwdTls, /example\.org\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1/)
  const blockedHttps = await kdig(['@127.0.0.1', '-p', String(doh), '+https=/dns-query', 'www.tiktok.com', 'A'])
  t.match(blockedHttps, /status: NXDOMAIN/)
  t.match(blockedHttps, /EDE: 15 \(Blocked\)/)
  const fwdHttps = await kdig(['@127.0.0.1', '-p', String(doh), '+https-get=/dns-query', 'example.net', 'A'])
  t.match(fwdHttps, /example\.net\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1/)
  const metrics = await h.gw.metrics.registry.getSingleMetricAsString('dnsvakt_dns_queries_total')
  t.match(metrics, /transport="dot",qtype="A",result="blocked"} 1/)
  t.match(metrics, /transport="doh",qtype="A",result="blocked"} 1/)
  t.match(metrics, /transport="doh",qtype="A",result="forwarded"} 1/)
  t.ok(h.logs.some((l) => l.includes('"transport":"dot"') && l.includes('"event":"blocked"')), 'the decision log names the transport')
})

t.test('curl over HTTP/2 and HTTP/1.1, GET and POST; HTTP errors', async (t) => {
  const { doh } = await start(t)
  const base = `https://dns.test:${doh}/dns-query`
  const curl = async (args: string[]) => {
    const r = await run('curl', ['-s', '--cacert', cert.certFile, '--resolve', `dns.test:${doh}:127.0.0.1`, '-o', '-', '-w', '\n%{http_code} %{http_version} %{content_type}', ...args], { encoding: 'buffer' })
    const out = r.stdout as Buffer
    const nl = out.lastIndexOf(0x0a)
    return { body: out.subarray(0, nl), meta: out.subarray(nl + 1).toString() }
  }
  const get = (name: string) => `${base}?dns=${encodeQuery({ name, id: 0 }).toString('base64url')}`
  const h2 = await curl(['--http2', get('tiktok.com')])
  t.match(h2.meta, /^200 2 application\/dns-message/)
  const d = dnsPacket.decode(h2.body)
  t.equal((d as unknown as { rcode: string }).rcode, 'NXDOMAIN')
  t.equal(h2.body.length % 468, 0)
  const r = await new Promise<Buffer>((resolve, reject) => {
    const child = execFile('curl', ['-s', '--http1.1', '--cacert', cert.certFile, '--resolve', `dns.test:${doh}:127.0.0.1`, '-H', 'content-type: application/dns-message', '--data-binary', '@-', base], { encoding: 'buffer' }, (e, out) => (e ? reject(e) : resolve(out as Buffer)))
    child.stdin!.end(encodeQuery({ name: 'example.org', id: 99 }))
  })
  const fwd = dnsPacket.decode(r)
  t.equal(fwd.id, 99)
  t.equal((fwd.answers![0] as { data: string }).data, '192.0.2.1')
  t.match((await curl(['--http2', `${base}?dns=***`])).meta, /^400/)
  t.match((await curl(['--http2', `https://dns.test:${doh}/other`])).meta, /^404/)
  t.match((await curl(['--http2', '-X', 'PUT', base])).meta, /^405/)
  t.match((await curl(['--http2', '-H', 'content-type: text/plain', '--data', 'x', base])).meta, /^415/)
  t.match((await curl(['--http2', get('example.org')])).meta, /^200 2/)
})

t.test('DDR: _dns.resolver.arpa and _dns.<serverName> designate the DoT and DoH listeners', async (t) => {
  const { h, dot, doh } = await start(t)
  for (const name of ['_dns.resolver.arpa', '_dns.dns.test']) {
    const r = await udpAsk(h.port, { name, type: SVCB })
    t.equal(r.rcode, 'NOERROR', name)
    const recs = r.answers!.map((a) => parseSvcb((a as unknown as { data: Buffer }).data))
    t.same(recs, [
      { priority: 1, target: 'dns.test', alpn: ['dot'], port: dot, ipv4hint: ['127.0.0.1'] },
      { priority: 2, target: 'dns.test', alpn: ['h2'], port: doh, ipv4hint: ['127.0.0.1'], dohpath: '/dns-query{?dns}' },
    ], `${name} designates dnsvakt`)
  }
  const a = await udpAsk(h.port, { name: '_dns.resolver.arpa', type: 'A' })
  t.equal(a.rcode, 'NOERROR')
  t.same(a.answers, [], 'other types: NODATA as before')
  const shown = await run('kdig', ['@127.0.0.1', '-p', String(h.port), '_dns.resolver.arpa', 'SVCB'])
  t.match(shown.stdout, new RegExp(`SVCB\\s+1 dns\\.test\\. alpn=dot port=${dot} ipv4hint=127\\.0\\.0\\.1`), 'kdig reads our SVCB the same way')
  t.match(shown.stdout, new RegExp(`SVCB\\s+2 dns\\.test\\. alpn=h2 port=${doh} ipv4hint=127\\.0\\.0\\.1 key7="/dns-query\\{\\?dns\\}"`), 'knot 3.2 prints dohpath (key 7) by number')
})

t.test('without tls.serverName: encrypted listeners serve, DDR stays NODATA', async (t) => {
  const { h, dot } = await start(t, { tls: { certFile: cert.certFile, keyFile: cert.keyFile } })
  const r = await udpAsk(h.port, { name: '_dns.resolver.arpa', type: SVCB })
  t.same(r.answers, [])
  t.match(await kdig(['@127.0.0.1', '-p', String(dot), '+tls', 'telegram.org']), /status: NXDOMAIN/)
})
