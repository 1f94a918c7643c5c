/**
 * Faults, end to end on loopback: every upstream dead, an upstream that
 * answers garbage or only over TCP, a slow upstream with many queries
 * waiting (pending bounded, counted), lists reloaded while queries flow,
 * the edge bounds through the real gateway (UDP size, TCP access at accept),
 * and SIGTERM while busy (the built CLI).
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decode, edeOf, encodeQuery, tcpAskMany, udpAsk, udpRaw } from '../fixtures/dns-client.js'
import { SHIPPED_LISTS, startHarness } from '../fixtures/gateway-harness.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { ensureBuilt } from '../fixtures/built-cli.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const metric = async (h: { gw: { metrics: { registry: { metrics(): Promise<string> } } } }, name: string) =>
  Number(new RegExp(`^${name} (\\S+)`, 'm').exec(await h.gw.metrics.registry.metrics())?.[1] ?? NaN)

/** A UDP socket that reads queries and never answers. */
async function blackHole() {
  const s = createSocket('udp4')
  let got = 0
  s.on('message', () => void got++)
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r))
  return { port: s.address().port, got: () => got, close: () => new Promise<void>((r) => s.close(() => r())) }
}

t.test('every upstream dead (black holes and a closed port): SERVFAIL with EDE 22 within the deadline', async (t) => {
  const holes = [await blackHole(), await blackHole()]
  t.teardown(() => Promise.all(holes.map((x) => x.close())))
  const h = await startHarness({
    upstream: { servers: [...holes.map((x) => `127.0.0.1:${x.port}`), '127.0.0.1:1'], tryTimeout: '200ms', deadline: '700ms', probeInterval: '1s' },
  })
  t.teardown(() => h.close())
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now()
    const r = await udpAsk(h.port, { name: `dead${i}.example.test` })
    t.equal(r.rcode, 'SERVFAIL')
    t.equal(edeOf(r)?.code, 22, 'EDE 22 No Reachable Authority')
    t.ok(Date.now() - t0 < 3000, `answered near the 700 ms deadline (${Date.now() - t0} ms)`)
  }
  t.ok(holes[0].got() > 0 && holes[1].got() > 0, 'both black holes were tried')
  t.equal((await udpAsk(h.port, { name: 'tiktok.com' })).rcode, 'NXDOMAIN', 'local answers do not wait on dead upstreams')
})

t.test('an upstream answering garbage: SERVFAIL, and the spoof counter moves', async (t) => {
  const up = await startFakeUpstream({ defaultRule: { garbage: true } })
  t.teardown(() => up.close())
  const h = await startHarness({ upstream: { servers: [`127.0.0.1:${up.port}`], tryTimeout: '200ms', deadline: '500ms' } })
  t.teardown(() => h.close())
  t.equal((await udpAsk(h.port, { name: 'junk.example.test' })).rcode, 'SERVFAIL')
  t.match(await h.gw.metrics.registry.metrics(), /dnsvakt_upstream_ignored_replies_total\{[^}]*\} [1-9]/)
})

t.test('an upstream that answers only over TCP (tcp://) is used over TCP, with 0x20', async (t) => {
  const up = await startFakeUpstream({ defaultRule: (q) => (q.transport === 'udp' ? { drop: true } : undefined) })
  t.teardown(() => up.close())
  const h = await startHarness({ upstream: { servers: [`tcp://127.0.0.1:${up.port}`], tryTimeout: '300ms', deadline: '800ms' } })
  t.teardown(() => h.close())
  const r = await udpAsk(h.port, { name: 'Over.Tcp.Example.Test', id: 99 })
  t.equal(r.rcode, 'NOERROR')
  t.equal(r.questions?.[0].name, 'Over.Tcp.Example.Test', "the client's letter case comes back")
  t.same(up.queries.map((q) => q.transport), ['tcp'])
  t.not(decode(up.queries[0].wire).questions?.[0].name, 'Over.Tcp.Example.Test', 'upstream saw another case (0x20)')
})

t.test('a slow upstream with many queries waiting: pending bounded by upstream.maxPending, the rest SERVFAIL at once', async (t) => {
  const up = await startFakeUpstream({ defaultRule: { delay: 1500 } })
  t.teardown(() => up.close())
  const h = await startHarness({ upstream: { servers: [`127.0.0.1:${up.port}`], tryTimeout: '2s', deadline: '3s', maxPending: 20 } })
  t.teardown(() => h.close())
  const asks = Array.from({ length: 120 }, (_, i) => udpAsk(h.port, { name: `slow${i}.example.test` }, 6000).then((r) => r.rcode, () => 'lost'))
  await sleep(700)
  t.ok((await metric(h, 'dnsvakt_upstream_pending')) <= 20, 'never more than 20 exchanges in flight')
  const rcodes = await Promise.all(asks)
  const count = (c: string) => rcodes.filter((x) => x === c).length
  t.equal(count('lost'), 0, 'every query answered')
  t.equal(count('NOERROR'), 20, 'twenty waited for the slow upstream')
  t.equal(count('SERVFAIL'), 100, 'the rest were refused at once')
  t.equal(up.queries.length, 20, 'only twenty reached the upstream')
  t.equal(await metric(h, 'dnsvakt_upstream_overload_total'), 100, 'counted')
  t.equal(await metric(h, 'dnsvakt_upstream_pending'), 0)
})

t.test('lists reloaded while queries flow: every query answered, policy right before and after', async (t) => {
  const h = await startHarness()
  t.teardown(() => h.close())
  let stop = false
  const wrong: string[] = []
  let answered = 0
  const flow = (async () => {
    for (let i = 0; !stop; i++) {
      const [blocked, allowed] = await Promise.all([udpAsk(h.port, { name: 'tiktok.com' }), udpAsk(h.port, { name: `flow${i % 50}.example.test` })])
      if (blocked.rcode !== 'NXDOMAIN') wrong.push(`tiktok.com ${blocked.rcode}`)
      if (allowed.rcode !== 'NOERROR') wrong.push(`flow${i} ${allowed.rcode}`)
      answered += 2
    }
  })()
  for (let n = 0; n < 5; n++) {
    appendFileSync(join(h.dir, 'tiktok.txt'), `\nreload-${n}.example.test\n`)
    const r = await h.gw.reload('test')
    t.ok(r.ok, `reload ${n}`)
    t.equal((await udpAsk(h.port, { name: `reload-${n}.example.test` })).rcode, 'NXDOMAIN', `the name added by reload ${n} is blocked`)
  }
  stop = true
  await flow
  t.same(wrong, [], `${answered} answers, none wrong`)
})

t.test('through the gateway: a UDP query advertising 65,000 bytes gets at most 1232 (TC=1)', async (t) => {
  const h = await startHarness()
  t.teardown(() => h.close())
  h.up.setRule('amp.example.test', { answers: Array.from({ length: 12 }, (_, i) => ({ type: 'TXT' as const, data: `${i}`.repeat(200) })) })
  const raw = await udpRaw(h.port, encodeQuery({ name: 'amp.example.test', type: 'TXT', udpSize: 65000 }))
  t.ok(raw !== null && raw.length <= 1232, `${raw?.length} bytes`)
  t.ok(decode(raw!).flag_tc, 'TC=1')
  const full = await tcpAskMany(h.port, [encodeQuery({ name: 'amp.example.test', type: 'TXT' })])
  t.ok(full[0].length > 2400, `TCP gets the whole answer (${full[0].length} bytes)`)
})

t.test('through the gateway: TCP from outside access.allow is cut at accept', async (t) => {
  const h = await startHarness({ access: { allow: ['127.0.0.1/32'] } })
  t.teardown(() => h.close())
  const s = connect({ host: '127.0.0.1', port: h.port, localAddress: '127.0.0.2' })
  s.on('error', () => {})
  await new Promise<void>((r) => s.on('close', () => r()))
  t.match(await h.gw.metrics.registry.metrics(), /dnsvakt_tcp_closed_connections_total\{reason="access"\} 1/)
  t.equal((await tcpAskMany(h.port, [encodeQuery({ name: 'tiktok.com' })])).length, 1, 'an allowed client is served')
})

t.test('SIGTERM while busy: queries in flight over UDP and TCP are answered, exit 0', async (t) => {
  const cli = ensureBuilt()
  const up = await startFakeUpstream({ defaultRule: { delay: 400 } })
  t.teardown(() => up.close())
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-faults-'))
  const port = 20000 + Math.floor(Math.random() * 10000)
  const cfg = join(dir, 'dnsvakt.yaml')
  writeFileSync(cfg, `workers: 1\nlisten:\n  dns: ["127.0.0.1:${port}"]\n  admin: ""\nupstream:\n  servers: ["127.0.0.1:${up.port}"]\nblocking:\n  dir: ${SHIPPED_LISTS}\n`)
  const child = spawn(process.execPath, [cli, 'serve', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')))
  for (let i = 0; i < 200 && !out.includes('dnsvakt is serving'); i++) await sleep(50)
  const udp = Array.from({ length: 40 }, (_, i) => udpAsk(port, { name: `busy${i}.example.test` }, 5000).then((r) => r.rcode, () => 'lost'))
  const tcp = tcpAskMany(port, Array.from({ length: 10 }, (_, i) => encodeQuery({ name: `busytcp${i}.example.test`, id: i }))).then((rs) => rs.map((r) => decode(r).rcode), () => ['lost'])
  for (let i = 0; i < 100 && up.queries.length < 50; i++) await sleep(20)
  child.kill('SIGTERM')
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
  t.equal(code, 0, 'exit 0')
  const rcodes = [...(await Promise.all(udp)), ...(await tcp)]
  t.same(rcodes.filter((r) => r !== 'NOERROR'), [], `all ${rcodes.length} in-flight queries answered`)
})
