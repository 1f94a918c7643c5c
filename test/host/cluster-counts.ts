/**
 * Counts that must hold for the host, not per worker, tried with the built
 * CLI and `workers: 2`: the compliance gauge counts each blocked client once
 * however its queries were spread over the workers (TCP connections go to
 * the workers in turn, so with one distinct set per worker and `max` it read
 * half), and one client's rate limit holds at about the configured rate
 * rather than twice it.
 */
import t from 'tap'
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import dnsPacket from 'dns-packet'
import { decode, encodeQuery } from '../fixtures/dns-client.js'
import { startCli, until } from '../fixtures/built-cli.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'

t.setTimeout(240_000)

/** One query over its own TCP connection from a chosen loopback source address; the rcode. */
function tcpFrom(source: string, port: number, name: string): Promise<string> {
  const wire = encodeQuery({ name })
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, localAddress: source })
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => (sock.destroy(), reject(new Error('no TCP answer'))), 5000)
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([wire.length >> 8, wire.length & 0xff]), wire])))
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return
      clearTimeout(timer)
      sock.end()
      resolve(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))).rcode)
    })
    sock.on('error', reject)
  })
}

const config = (upstream: number, extra: string[] = []) =>
  ['workers: 2', 'listen:', '  dns: ["127.0.0.1:0"]', '  admin: "127.0.0.1:0"', 'upstream:', `  servers: ["127.0.0.1:${upstream}"]`, ...extra, ''].join('\n')

const gauge = async (admin: string): Promise<number | null> => {
  const m = /dnsvakt_policy_blocked_clients_today\{category="tiktok",group="default"\} (\d+)/.exec(await (await fetch(`${admin}/metrics`)).text())
  return m ? Number(m[1]) : null
}

t.test('workers: 2, ten clients blocked: the gauge reads exactly ten', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const cli = await startCli(t, config(up.port))
  t.ok(await until(async () => (await fetch(`${cli.admin}/readyz`)).status === 200), 'both workers ready')
  const clients = Array.from({ length: 10 }, (_, i) => `127.0.0.${20 + i}`)
  for (const c of clients) t.equal(await tcpFrom(c, cli.dnsPort, 'www.tiktok.com'), 'NXDOMAIN', `${c} blocked`)
  t.ok(await until(async () => (await gauge(cli.admin)) === 10, 10_000), 'ten distinct clients')
  // The same clients again, three times each: still ten.
  for (const c of clients) for (let i = 0; i < 3; i++) t.equal(await tcpFrom(c, cli.dnsPort, 'tiktok.com'), 'NXDOMAIN')
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(await gauge(cli.admin), 10, 'a client blocked again is not counted again')
  // The bypass family is counted the same way: ten clients asking a DoH provider's name.
  for (const c of clients) t.equal(await tcpFrom(c, cli.dnsPort, 'dns.google'), 'NXDOMAIN')
  const bypass = async () => Number(/dnsvakt_policy_bypass_clients_today\{group="default"\} (\d+)/.exec(await (await fetch(`${cli.admin}/metrics`)).text())?.[1])
  t.ok(await until(async () => (await bypass()) === 10, 10_000), 'ten distinct clients tried a bypass')
  const blocked = /dnsvakt_policy_blocked_total\{category="tiktok",group="default",caught_by="name"\} (\d+)/.exec(await (await fetch(`${cli.admin}/metrics`)).text())
  t.equal(Number(blocked?.[1]), 40, 'the counters still sum over the workers')
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(await bypass(), 10, 'and stays ten')
})

t.test('workers: 2, one client over its limit: about the configured rate, not twice it', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const cli = await startCli(t, config(up.port, ['rateLimit:', '  queriesPerSecond: 50', '  burst: 50']))
  t.ok(await until(async () => (await fetch(`${cli.admin}/readyz`)).status === 200), 'both workers ready')
  const s = createSocket('udp4')
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r))
  t.teardown(() => s.close())
  let answers = 0
  s.on('message', () => answers++)
  const query = dnsPacket.encode({ id: 7, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'tiktok.com', type: 'A', class: 'IN' }] })
  // 300 queries a second for 4 s, paced; the limit allows the burst plus 50 a second.
  const rate = 300
  const start = Date.now()
  for (let i = 0; i < rate * 4; i++) {
    s.send(query, cli.dnsPort, '127.0.0.1')
    const wait = start + ((i + 1) * 1000) / rate - Date.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
  }
  const seconds = (Date.now() - start) / 1000
  await new Promise((r) => setTimeout(r, 1500))
  const allowed = 50 + 50 * seconds
  const ratio = answers / allowed
  t.comment(`${answers} answers in ${seconds.toFixed(2)} s; the configured limit allows ${Math.round(allowed)}: ratio ${ratio.toFixed(2)}`)
  t.ok(ratio > 0.75 && ratio < 1.25, `within 25 % of the configured limit (each worker alone would allow ${Math.round(allowed)}: twice that before)`)
})
