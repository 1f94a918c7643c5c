/**
 * GET /v1/firewall/<category>.txt through the real admin listener and
 * service, and the feed-change metric across reloads.
 */
import t from 'tap'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { Registry } from 'prom-client'
import { validate } from '../../src/config/load-config.js'
import { loadLists } from '../../src/lists/load-lists.js'
import { startService } from '../../src/host/single-process.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { mkdtempSync, cpSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { SHIPPED_LISTS } from '../fixtures/gateway-harness.js'

t.test('the plain feed per enforced category, with version, ETag and change time', async (t) => {
  const up = await startFakeUpstream()
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-route-'))
  cpSync(SHIPPED_LISTS, dir, { recursive: true })
  const clock = { ms: Date.UTC(2026, 10, 23, 12) }
  const config = validate({ listen: { dns: ['127.0.0.1:0'], admin: '127.0.0.1:0' }, upstream: { servers: [`127.0.0.1:${up.port}`] }, blocking: { dir } }, 'test')
  const svc = await startService({ config, file: null, blocklistDir: dir, exemptionsFile: join(dir, 'exemptions.yaml') }, { logger: pino({ level: 'silent' }), registry: new Registry(), now: () => clock.ms, listLoader: loadLists })
  t.teardown(async () => { await svc.stop(200); await up.close() })
  const base = `http://127.0.0.1:${svc.admin!.port}`
  const r = await fetch(`${base}/v1/firewall/telegram.txt`)
  t.equal(r.status, 200)
  t.match(r.headers.get('content-type'), /^text\/plain/)
  const body = await r.text()
  t.match(body, /^149\.154\.160\.0\/20$/m)
  t.ok(body.split('\n').filter(Boolean).every((l) => /^[0-9a-f.:]+\/\d+$/.test(l)), 'one CIDR per line, nothing else')
  const version = svc.gateway.store.snapshot.version
  t.equal(r.headers.get('x-dnsvakt-list-version'), version)
  t.equal(r.headers.get('last-modified'), new Date(clock.ms).toUTCString())
  t.equal((await fetch(`${base}/v1/firewall/telegram.txt`, { headers: { 'if-none-match': `"${version}"` } })).status, 304)
  t.equal((await fetch(`${base}/v1/firewall/tiktok.txt`)).status, 200, 'an enforced category without ranges: an empty list')
  t.equal(await (await fetch(`${base}/v1/firewall/tiktok.txt`)).text(), '')
  t.equal((await fetch(`${base}/v1/firewall/nope.txt`)).status, 404)
  t.equal((await fetch(`${base}/v1/firewall/telegram.txt`, { method: 'POST' })).status, 405)

  const gauge = async () => (await svc.gateway.metrics.registry.getSingleMetricAsString('dnsvakt_firewall_feed_last_change_timestamp_seconds'))
  t.match(await gauge(), new RegExp(`category="telegram"} ${clock.ms / 1000}`))
  clock.ms += 60_000
  appendFileSync(join(dir, 'tiktok.txt'), 'example-tiktok-test.com\n')
  t.ok((await svc.gateway.reload('test')).ok)
  t.match(await gauge(), new RegExp(`category="telegram"} ${(clock.ms - 60_000) / 1000}`), 'a reload that leaves the ranges alone')
  clock.ms += 60_000
  appendFileSync(join(dir, 'telegram.cidrs.txt'), '203.0.113.0/24\n')
  t.ok((await svc.gateway.reload('test')).ok)
  t.match(await gauge(), new RegExp(`category="telegram"} ${clock.ms / 1000}`), 'new ranges: new time')
  t.match(await (await fetch(`${base}/v1/firewall/telegram.txt`)).text(), /^203\.0\.113\.0\/24$/m)
})
