/**
 * Personal data behind the admin token, tried against the built CLI as an
 * operator runs it: explain and status without the token give the decision
 * and counts but no exemption id, reason, approver or client network; with it
 * they do; a wrong token is refused. Every admin API call is one `audit` line
 * that never holds the token. The decision log's exempted line carries no
 * exemption id under the default address mode. An RD=0 query (cache
 * snooping) is REFUSED, even for a name the cache holds.
 */
import t from 'tap'
import { createSocket } from 'node:dgram'
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dnsPacket from 'dns-packet'
import { decode, type Decoded, edeOf, udpAsk } from '../fixtures/dns-client.js'
import { startCli, until } from '../fixtures/built-cli.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { SHIPPED_LISTS } from '../fixtures/gateway-harness.js'

t.setTimeout(120_000)

const TOKEN = 'an-admin-token-0f3a9c'
const ID = 'RA-TEST-0042'
const REASON = 'Crisis line to the county emergency staff'
const APPROVER = 'Information security officer Kari'

/** A query from a chosen loopback source address (Linux routes all of 127/8 to lo). */
function askFrom(source: string, port: number, name: string, flags = dnsPacket.RECURSION_DESIRED): Promise<Decoded> {
  const s = createSocket('udp4')
  const wire = dnsPacket.encode({
    id: 4242, type: 'query', flags, questions: [{ name, type: 'A', class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer],
  } as dnsPacket.Packet)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (s.close(), reject(new Error(`no answer for ${name}`))), 4000)
    s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(decode(m))))
    s.bind(0, source, () => s.send(wire, port, '127.0.0.1'))
  })
}

t.test('explain, status, audit lines and RD=0 against a running gateway', async (t) => {
  const up = await startFakeUpstream()
  t.teardown(() => up.close())
  const lists = mkdtempSync(join(tmpdir(), 'dnsvakt-privacy-'))
  cpSync(SHIPPED_LISTS, lists, { recursive: true })
  const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10)
  writeFileSync(join(lists, 'exemptions.yaml'), [
    'exemptions:', `  - id: ${ID}`, '    client: 127.0.0.2/32', '    categories: [telegram]', `    reason: "${REASON}"`, `    approvedBy: "${APPROVER}"`, `    expires: ${expires}`, '',
  ].join('\n'))
  const cli = await startCli(t, [
    'workers: 1', 'listen:', '  dns: ["127.0.0.1:0"]', '  admin: "127.0.0.1:0"', 'upstream:', `  servers: ["127.0.0.1:${up.port}"]`, 'blocking:', `  dir: "${lists}"`, '',
  ].join('\n'), { DNSVAKT_ADMIN_TOKEN: TOKEN })
  const get = (path: string, token?: string) => fetch(`${cli.admin}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
  const explainPath = '/v1/explain?name=telegram.org&client=127.0.0.2'

  const open = await get(explainPath)
  t.equal(open.status, 200)
  const openText = await open.text()
  const openBody = JSON.parse(openText) as Record<string, unknown>
  t.match(openBody, { decision: 'exempted', group: 'default', listVersion: String, name: 'telegram.org' }, 'the decision, without the token')
  t.match(openBody.exemptions, /withheld/)
  for (const secret of [ID, REASON, APPROVER]) t.notOk(openText.includes(secret), `no "${secret}" without the token`)
  const blocked = JSON.parse(await (await get('/v1/explain?name=www.tiktok.com&client=10.1.2.3')).text()) as { decision: string; matches: Array<{ file: string; line: number }> }
  t.match(blocked, { decision: 'blocked', matches: [{ file: 'tiktok.txt' }] }, 'list file and line need no token')
  t.ok(blocked.matches[0]!.line > 0)

  const full = await get(explainPath, TOKEN)
  t.equal(full.status, 200)
  t.match(await full.json(), { decision: 'exempted', exemptions: [{ id: ID, reason: REASON, approvedBy: APPROVER, status: 'applied' }] }, 'everything with the token')
  t.equal((await get(explainPath, 'not-the-token')).status, 401, 'a wrong token is refused, not answered with less')

  const statusOpen = await (await get('/v1/status')).text()
  t.match(JSON.parse(statusOpen), { exemptions: { total: 1, active: 1, items: /withheld/ } }, 'status without the token: counts')
  for (const secret of [ID, REASON, APPROVER, '127.0.0.2/32']) t.notOk(statusOpen.includes(secret), `status: no "${secret}" without the token`)
  t.match(await (await get('/v1/status', TOKEN)).json(), { exemptions: { total: 1, active: 1, items: [{ id: ID, client: '127.0.0.2/32', reason: REASON, approvedBy: APPROVER, active: true }] } })
  t.equal((await get('/v1/status', 'not-the-token')).status, 401)
  t.equal((await get('/metrics')).status, 200)
  t.equal((await get('/healthz')).status, 200)

  // The decision log: the exempted client's line names no exemption under the default (truncate) mode.
  t.equal((await askFrom('127.0.0.2', cli.dnsPort, 'telegram.org')).rcode, 'NOERROR', 'the exempt client reaches telegram.org')
  t.ok(await until(() => cli.logs().some((l) => l.event === 'exempted')), 'an exempted line')
  const exempted = cli.logs().find((l) => l.event === 'exempted')!
  t.match(exempted, { client: '127.0.0.0/24', categories: ['telegram'] })
  t.notOk('exemptionId' in exempted, 'no exemption id next to the truncated address')

  // RD=0: no look into the cache, for a cached name or any other.
  t.equal((await udpAsk(cli.dnsPort, { name: 'cached.example.test' })).rcode, 'NOERROR')
  const snoop = await askFrom('127.0.0.1', cli.dnsPort, 'cached.example.test', 0)
  t.equal(snoop.rcode, 'REFUSED', 'RD=0 for a cached name: REFUSED')
  t.equal(snoop.answers?.length ?? 0, 0, 'no records')
  t.same(edeOf(snoop), { code: 20, text: '' }, 'EDE 20 Not Authoritative')
  t.equal((await askFrom('127.0.0.1', cli.dnsPort, 'other.example.test', 0)).rcode, 'REFUSED')
  t.equal(up.countFor('other.example.test'), 0, 'nothing was forwarded for it')
  t.equal((await askFrom('127.0.0.1', cli.dnsPort, 'cached.example.test')).rcode, 'NOERROR', 'with RD the same name is answered')

  // One audit line per admin API call; probes and the scrape are not audited; the token nowhere.
  t.ok(await until(() => cli.logs().filter((l) => l.action === 'admin-api').length >= 7), 'audit lines written')
  const audits = cli.logs().filter((l) => l.event === 'audit' && l.action === 'admin-api')
  t.same(audits.map((a) => [a.method, a.endpoint, a.status, a.token]), [
    ['GET', '/v1/explain', 200, 'none'],
    ['GET', '/v1/explain', 200, 'none'],
    ['GET', '/v1/explain', 200, 'valid'],
    ['GET', '/v1/explain', 401, 'invalid'],
    ['GET', '/v1/status', 200, 'none'],
    ['GET', '/v1/status', 200, 'valid'],
    ['GET', '/v1/status', 401, 'invalid'],
  ], 'endpoint, result and token state of each call, in order')
  t.equal(audits.length, 7, 'seven calls, seven lines (no line for /metrics or /healthz)')
  t.ok(audits.every((a) => a.remote === '127.0.0.1'), 'the caller')
  t.notOk(cli.output().includes(TOKEN), 'the token appears nowhere in the output')
  t.notOk(cli.output().includes('not-the-token'), 'nor a wrong one')
})
