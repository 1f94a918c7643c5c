/**
 * GET /v1/candidate through the service host as an operator runs it (one
 * process, real HTTP): the candidate's summary without a token (names and
 * list entries only), shadow facts in the public explain, the reload that
 * compares again, and 404 without blocking.candidate.
 */
import t from 'tap'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { validate } from '../../src/config/load-config.js'
import { startService } from '../../src/host/single-process.js'
import { loadLists } from '../../src/lists/load-lists.js'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { SHIPPED_LISTS } from '../fixtures/gateway-harness.js'

async function service(t: { teardown(fn: () => unknown): void }, blocking: Record<string, unknown>, groups?: Record<string, unknown>) {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const raw = { listen: { dns: ['127.0.0.1:0'], admin: '127.0.0.1:0' }, upstream: { servers: [`127.0.0.1:${up.port}`] }, admin: { token: 's3cret-token' }, blocking, ...(groups && { groups }) }
  const config = validate(raw, 'test')
  const svc = await startService({ config, file: null, blocklistDir: SHIPPED_LISTS, exemptionsFile: join(SHIPPED_LISTS, 'exemptions.yaml'), candidateDir: (blocking.candidate as { dir: string } | undefined)?.dir ?? null }, { logger: pino({ level: 'silent' }), listLoader: loadLists })
  t.teardown(() => svc.stop(100))
  return { svc, base: `http://127.0.0.1:${svc.admin!.port}` }
}

t.test('the candidate summary over HTTP, and explain with a shadow category', async (t) => {
  const next = mkdtempSync(join(tmpdir(), 'dnsvakt-next-'))
  cpSync(SHIPPED_LISTS, next, { recursive: true })
  writeFileSync(join(next, 'telegram.txt'), `${readFileSync(join(SHIPPED_LISTS, 'telegram.txt'), 'utf8')}\nnewly.example\n`)
  const groups = { default: { enforce: ['tiktok', 'doh-bypass'], shadow: ['telegram'] } }
  const { svc, base } = await service(t, { candidate: { dir: next } }, groups)
  // telegram is in shadow for the default group: the candidate's new name would not block either.
  t.equal((await udpAsk(svc.gateway.dns[0].port, { name: 'newly.example' })).rcode, 'NOERROR')
  const res = await fetch(`${base}/v1/candidate`)
  t.equal(res.status, 200, 'no token needed: names and list entries only')
  const body = (await res.json()) as { entries: { added: number; removed: number }; newlyBlocked: { queries: number } }
  t.same(body.entries, { added: 1, removed: 0 })
  t.equal(body.newlyBlocked.queries, 0, 'telegram is enforced by no group, so the candidate blocks nothing more')
  const why = (await (await fetch(`${base}/v1/explain?name=web.telegram.org&client=10.1.2.3`)).json()) as Record<string, unknown>
  t.equal(why.decision, 'allowed')
  t.same(why.groupShadows, ['telegram'], 'public explain shows the shadow categories')
  t.match(why.wouldBlock, { category: 'telegram', caughtBy: 'name', entry: 'telegram.org', file: 'telegram.txt' })
})

t.test('without blocking.candidate: 404', async (t) => {
  const { base } = await service(t, {})
  const res = await fetch(`${base}/v1/candidate`)
  t.equal(res.status, 404)
  t.match(await res.json(), { error: /blocking\.candidate/ })
})
