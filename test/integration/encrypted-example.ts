/**
 * As a new user would, from deploy/dnsvakt.example.yaml: make a certificate
 * with openssl, fill in the DoT/DoH and tls keys the example shows, point the
 * upstream at a DoT resolver (a local Unbound-like fake with its own
 * certificate), start the built `dnsvakt serve`, and ask with `kdig +tls` and
 * `kdig +https`. Then `dnsvakt export-firewall --format nftables` from the
 * same config loads in `nft -c`.
 */
import t from 'tap'
import { execFile, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import dnsPacket from 'dns-packet'
import { ensureBuilt, ROOT } from '../fixtures/built-cli.js'
import { makeCert } from '../fixtures/test-certs.js'
import { startFakeDot } from '../fixtures/fake-encrypted-upstream.js'
import { parseSvcb } from '../fixtures/svcb-reader.js'
import { requireTool } from '../fixtures/tool.js'

// The real tools this file runs (listed in scripts/ensure-test-tools.sh): fail at once when one is missing.
requireTool('kdig')
requireTool('nft')

const run = promisify(execFile)
const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port
    s.close(() => resolve(p))
  })
})

t.test('the example config with certificates: kdig +tls / +https, DDR, a DoT upstream, the nftables feed', async (t) => {
  const cli = ensureBuilt()
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-example-'))
  const cert = makeCert('DNS:dns.test,IP:127.0.0.1', 'dns.test', dir)
  const upstreamCert = makeCert('DNS:resolver.test,IP:127.0.0.1', 'resolver.test')
  const upstream = await startFakeDot(upstreamCert)
  t.teardown(() => upstream.close())
  const [dns, dot, doh, admin] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const edits: Array<[string, string]> = [
    ['dns: ["127.0.0.1:5353", "[::1]:5353"]', `dns: ["127.0.0.1:${dns}"]`],
    ['admin: "127.0.0.1:9153"', `admin: "127.0.0.1:${admin}"`],
    ['dot: []', `dot: ["127.0.0.1:${dot}"]`],
    ['doh: []', `doh: ["127.0.0.1:${doh}"]`],
    ['servers: ["resolv.conf"]', `servers: ["tls://127.0.0.1:${upstream.port}#resolver.test"]`],
    ['caFile: null', `caFile: ${upstreamCert.certFile}`],
    ['certFile: null', `certFile: ${cert.certFile}`],
    ['keyFile: null', `keyFile: ${cert.keyFile}`],
    ['serverName: null', 'serverName: dns.test'],
    ['dir: ../blocklists', `dir: ${join(ROOT, 'blocklists')}`],
  ]
  let text = readFileSync(join(ROOT, 'deploy', 'dnsvakt.example.yaml'), 'utf8')
  for (const [from, to] of edits) {
    t.ok(text.includes(from), `the example has ${from}`)
    text = text.replace(from, to)
  }
  const file = join(dir, 'dnsvakt.yaml')
  writeFileSync(file, text)
  t.equal(spawnSync(process.execPath, [cli, 'check-config', file], { encoding: 'utf8' }).status, 0, 'check-config accepts it')

  const child = spawn(process.execPath, [cli, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGTERM'))
  let log = ''
  child.stdout.on('data', (c) => (log += c))
  for (let i = 0; i < 200 && !log.includes('"event":"started"'); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(log, /"event":"started"/, 'dnsvakt is serving')

  const kdig = async (...args: string[]) => (await run('kdig', ['@127.0.0.1', `+tls-ca=${cert.certFile}`, '+tls-hostname=dns.test', '+timeout=5', '+retry=0', ...args])).stdout
  const blocked = await kdig('-p', String(dot), '+tls', 'tiktok.com')
  t.match(blocked, /status: NXDOMAIN/)
  t.match(blocked, /EDE: 15 \(Blocked\): 'Blocked by municipal ICT rules \(NSM 2023\)'/)
  const forwarded = await kdig('-p', String(doh), '+https', 'example.org')
  t.match(forwarded, /example\.org\.\s+\d+\s+IN\s+A\s+192\.0\.2\.53/, 'forwarded over DoH, answered by the DoT upstream')
  t.same(upstream.names, ['example.org'], 'the miss went to the DoT upstream; the blocked name never did')
  const blockedHttps = await kdig('-p', String(doh), '+https', 'www.tiktok.com')
  t.match(blockedHttps, /EDE: 15 \(Blocked\)/)

  const ddr = dnsPacket.decode(await udp(dns))
  const recs = ddr.answers!.map((a) => parseSvcb((a as unknown as { data: Buffer }).data))
  t.same(recs.map((r) => [r.alpn, r.port, r.target]), [[['dot'], dot, 'dns.test'], [['h2'], doh, 'dns.test']], '_dns.resolver.arpa designates dnsvakt')

  const nft = spawnSync(process.execPath, [cli, 'export-firewall', '--format', 'nftables', '--config', file], { encoding: 'utf8' })
  t.equal(nft.status, 0, nft.stderr)
  const check = spawnSync('nft', ['-c', '-f', '-'], { input: nft.stdout, encoding: 'utf8' })
  t.equal(check.status, 0, check.stderr)
})

/** The DDR query over plain UDP, encoded by dns-packet. */
async function udp(port: number): Promise<Buffer> {
  const { createSocket } = await import('node:dgram')
  const s = createSocket('udp4')
  const q = dnsPacket.encode({ id: 1, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: '_dns.resolver.arpa', type: 'UNKNOWN_64' as dnsPacket.RecordType, class: 'IN' }] })
  return new Promise((resolve) => {
    s.on('message', (m) => { s.close(); resolve(m) })
    s.send(q, port, '127.0.0.1')
  })
}
