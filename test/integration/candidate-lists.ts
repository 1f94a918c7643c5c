/**
 * A candidate list version against a running gateway: the candidate folder
 * differs from the served one by a known set of entries (a name moved, a
 * name and a range added, an allow entry removed), and the gateway's
 * would-block / would-allow counters and GET /v1/candidate match that
 * difference exactly, for names, CNAME chains and addresses, first and
 * cached, while every client answer stays the served lists' answer. A reload
 * compares again; a candidate that cannot be read evaluates nothing and
 * stops nothing.
 */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { udpAsk } from '../fixtures/dns-client.js'
import { startHarness } from '../fixtures/gateway-harness.js'
import { AdminHttp } from '../../src/server/admin-http.js'

const SERVED = {
  'tiktok.txt': 'tiktok.com\nold.example\n',
  'telegram.txt': 'telegram.org\n',
  'telegram.cidrs.txt': '149.154.160.0/20\n',
  'doh-bypass.txt': 'dns.google\n',
  'allow.txt': 'ok.tiktok.com\n',
}
// The known difference: old.example leaves tiktok, new.example and t.me arrive, 91.108.4.0/22 arrives, the allow entry goes.
const CANDIDATE = {
  'tiktok.txt': 'tiktok.com\nnew.example\n',
  'telegram.txt': 'telegram.org\nt.me\n',
  'telegram.cidrs.txt': '149.154.160.0/20\n91.108.4.0/22\n',
  'doh-bypass.txt': 'dns.google\n',
  'allow.txt': '',
}

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-candidate-'))
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
  return dir
}

async function counters(h: Awaited<ReturnType<typeof startHarness>>, metric: string): Promise<Record<string, number>> {
  const text = await h.gw.metrics.registry.metrics()
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${metric}\\{category="([^"]+)",group="([^"]+)"\\} (\\d+)`).exec(line)
    if (m) out[`${m[1]}/${m[2]}`] = Number(m[3])
  }
  return out
}

t.test("a candidate version's newly blocked and newly allowed counts match a known difference", async (t) => {
  const candidateDir = folder(CANDIDATE)
  const h = await startHarness({ blocking: { candidate: { dir: candidateDir, topNames: 10 } } }, SERVED)
  t.teardown(() => h.close())
  h.up.setRule('cloak.example', { cname: ['cdn.new.example'], a: ['192.0.2.7'] })
  h.up.setRule('ip.example', { a: ['91.108.4.10'] })

  // [name, times asked, the served lists' answer]
  const traffic: Array<[string, number, string]> = [
    ['old.example', 3, 'NXDOMAIN'], // newly allowed (tiktok)
    ['new.example', 2, 'NOERROR'], // newly blocked by name (tiktok)
    ['t.me', 1, 'NOERROR'], // newly blocked by name (telegram)
    ['ok.tiktok.com', 1, 'NOERROR'], // the allow entry goes: newly blocked (tiktok)
    ['cloak.example', 1, 'NOERROR'], // CNAME into new.example: newly blocked (tiktok)
    ['ip.example', 2, 'NOERROR'], // address in the new range, first and cached: newly blocked (telegram)
    ['tiktok.com', 2, 'NXDOMAIN'], // blocked by both
    ['telegram.org', 1, 'NXDOMAIN'],
    ['example.org', 2, 'NOERROR'], // allowed by both
  ]
  for (const [name, times, rcode] of traffic) {
    for (let i = 0; i < times; i++) t.equal((await udpAsk(h.port, { name })).rcode, rcode, `${name}: the served lists' answer`)
  }
  t.equal(h.up.countFor('ip.example'), 1, 'the second ip.example came from the cache')

  t.same(await counters(h, 'dnsvakt_candidate_would_block_total'), { 'tiktok/default': 4, 'telegram/default': 3 })
  t.same(await counters(h, 'dnsvakt_candidate_would_allow_total'), { 'tiktok/default': 3 })

  const admin = await AdminHttp.listen('127.0.0.1', 0, {
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    ready: () => true,
    status: () => ({}),
    explain: () => {
      throw new Error('unused')
    },
    reload: async () => ({ ok: true }),
    candidate: () => h.gw.candidate?.summary() ?? null,
    token: null,
  })
  t.teardown(() => admin.close())
  const res = await fetch(`http://127.0.0.1:${admin.port}/v1/candidate`)
  t.equal(res.status, 200)
  const body = (await res.json()) as Record<string, any>
  t.match(body, { dir: candidateDir, servedVersion: h.gw.store.snapshot.version, problem: null, entries: { added: 3, removed: 2 } })
  t.not(body.version, body.servedVersion, 'its own content version')
  t.equal(body.newlyBlocked.queries, 7)
  t.same(body.newlyBlocked.byCategoryGroup, [{ category: 'tiktok', group: 'default', queries: 4 }, { category: 'telegram', group: 'default', queries: 3 }])
  t.same(body.newlyBlocked.top, [
    { name: 'ip.example', queries: 2, overcount: 0, category: 'telegram', entry: '91.108.4.0/22' },
    { name: 'new.example', queries: 2, overcount: 0, category: 'tiktok', entry: 'new.example' },
    { name: 'cloak.example', queries: 1, overcount: 0, category: 'tiktok', entry: 'new.example' },
    { name: 'ok.tiktok.com', queries: 1, overcount: 0, category: 'tiktok', entry: 'tiktok.com' },
    { name: 't.me', queries: 1, overcount: 0, category: 'telegram', entry: 't.me' },
  ])
  t.same(body.newlyAllowed, { queries: 3, byCategoryGroup: [{ category: 'tiktok', group: 'default', queries: 3 }], top: [{ name: 'old.example', queries: 3, overcount: 0, category: 'tiktok', entry: 'old.example' }] })
  t.notMatch(JSON.stringify(body), /127\.0\.0\.1/, 'no client anywhere in the summary')

  // Promote the change into the served folder: the reload compares again, nothing differs any more.
  for (const [f, text] of Object.entries(CANDIDATE)) writeFileSync(join(h.dir, f), text)
  t.equal((await h.gw.reload('test')).ok, true)
  const after = h.gw.candidate!.summary()
  t.match(after, { entries: { added: 0, removed: 0 }, newlyBlocked: { queries: 0, top: [] }, newlyAllowed: { queries: 0 } })
  t.equal(after.version, after.servedVersion, 'the same lists on both sides')
  t.equal((await udpAsk(h.port, { name: 't.me' })).rcode, 'NXDOMAIN', 'served now')
  t.equal(h.gw.candidate!.summary().newlyBlocked.queries, 0)
})

t.test('a candidate folder that cannot be read evaluates nothing and stops nothing', async (t) => {
  const h = await startHarness({ blocking: { candidate: { dir: join(tmpdir(), 'dnsvakt-no-such-candidate') } } }, SERVED)
  t.teardown(() => h.close())
  t.equal((await udpAsk(h.port, { name: 'tiktok.com' })).rcode, 'NXDOMAIN', 'the gateway serves')
  t.match(h.gw.candidate!.summary(), { version: null, problem: /dnsvakt-no-such-candidate/, newlyBlocked: { queries: 0 } })
  t.ok(h.logs.some((l) => l.includes('"event":"candidate-load-failed"')), 'logged')
})

t.test('without blocking.candidate there is no candidate, and /v1/candidate answers 404', async (t) => {
  const h = await startHarness({}, SERVED)
  t.teardown(() => h.close())
  t.equal(h.gw.candidate, null)
  const admin = await AdminHttp.listen('127.0.0.1', 0, {
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    ready: () => true,
    status: () => ({}),
    explain: () => {
      throw new Error('unused')
    },
    reload: async () => ({ ok: true }),
    token: null,
  })
  t.teardown(() => admin.close())
  const res = await fetch(`http://127.0.0.1:${admin.port}/v1/candidate`)
  t.equal(res.status, 404)
  t.match(await res.json(), { error: /blocking\.candidate/ })
})
