/** The host's admin answers that do not need a socket: the token rule, the merged status parts, what is shown without the token. */
import t from 'tap'
import { validate } from '../../src/config/load-config.js'
import { adminToken, mergeUpstreams, publicExplanation, statusBody, WITHHELD } from '../../src/host/admin-routes.js'
import type { Explanation } from '../../src/policy/explain.js'
import { tokenState } from '../../src/server/admin-http.js'

const loaded = (admin: object) => ({ config: validate({ admin }, 'test'), file: null, blocklistDir: '/x', exemptionsFile: '/x/e.yaml' })

t.test('token: the config, else the variable it names; empty means none', async (t) => {
  t.equal(adminToken(loaded({ token: 'in-config' }), { DNSVAKT_ADMIN_TOKEN: 'in-env' }), 'in-config')
  t.equal(adminToken(loaded({}), { DNSVAKT_ADMIN_TOKEN: 'in-env' }), 'in-env')
  t.equal(adminToken(loaded({ tokenEnv: 'OTHER' }), { DNSVAKT_ADMIN_TOKEN: 'in-env', OTHER: 'other' }), 'other')
  t.equal(adminToken(loaded({}), { DNSVAKT_ADMIN_TOKEN: '' }), null, 'an empty variable is no token')
  t.equal(adminToken(loaded({}), {}), null)
})

t.test('an upstream is up for the host only if every worker sees it up', async (t) => {
  const w = (upstreams: Array<[string, boolean, number]>) => ({ pid: 1, listVersion: 'v', cache: null, inFlight: 0, upstreams: upstreams.map(([upstream, up, consecutiveFailures]) => ({ upstream, up, consecutiveFailures })) })
  t.same(mergeUpstreams([w([['a', true, 0], ['b', true, 1]]), w([['a', false, 3], ['b', true, 0]])]), [
    { upstream: 'a', up: false, consecutiveFailures: 3 },
    { upstream: 'b', up: true, consecutiveFailures: 1 },
  ])
  t.same(mergeUpstreams([]), [])
})

t.test('explain without the token: the decision and list facts, no exemption id, reason or approver anywhere', async (t) => {
  const exemption = { id: 'RA-9', categories: ['telegram'], reason: 'Crisis line', approvedBy: 'CISO Kari', expires: '2027-01-01T00:00:00.000Z', status: 'applied' as const }
  const e = {
    name: 'telegram.org', type: 'A', client: '10.0.0.7', access: 'allowed' as const, group: 'staff', groupEnforces: ['telegram'], listVersion: 'v1',
    allowListEntry: null, matches: [{ category: 'telegram', enforced: true, entry: 'telegram.org', file: 'telegram.txt', line: 3 }],
    exemptions: [exemption], decision: 'exempted' as const, answer: 'forwarded upstream',
    summary: 'Allowed by exemption RA-9 (Crisis line, approved by CISO Kari): without it, "telegram" would block this name.',
    somethingNew: 'a field added later',
  }
  const shown = publicExplanation(e as unknown as Explanation)
  t.match(shown, { name: 'telegram.org', decision: 'exempted', group: 'staff', listVersion: 'v1', matches: [{ file: 'telegram.txt', line: 3 }], exemptions: WITHHELD })
  t.equal(shown.summary, 'Allowed by exemption [withheld] ([withheld], approved by [withheld]): without it, "telegram" would block this name.')
  t.notMatch(JSON.stringify(shown), /RA-9|Crisis line|Kari/)
  t.notOk('somethingNew' in shown, 'a field not named as public stays hidden')
})

t.test('status: exemption counts without the token, the details with it', async (t) => {
  const now = Date.UTC(2026, 5, 1)
  const ex = (id: string, expiresAt: number) => ({ id, client: '10.20.31.17/32', categories: ['telegram'], reason: 'r', approvedBy: 'a', expiresAt, line: 1 })
  const engine = { listeners: [], listsStatus: () => ({}), snapshot: { exemptions: [ex('A', now + 1000), ex('B', now - 1000)] } } as unknown as Parameters<typeof statusBody>[0]
  t.same(statusBody(engine, [], now).exemptions, { total: 2, active: 1, items: WITHHELD })
  t.match(statusBody(engine, [], now, true).exemptions, { total: 2, active: 1, items: [{ id: 'A', client: '10.20.31.17/32', reason: 'r', approvedBy: 'a', active: true }, { id: 'B', active: false }] })
})

t.test('tokenState: none without a header, valid only for the exact token, invalid when no token is configured', async (t) => {
  t.equal(tokenState(undefined, 'tok'), 'none')
  t.equal(tokenState('Bearer tok', 'tok'), 'valid')
  t.equal(tokenState('Bearer tok2', 'tok'), 'invalid')
  t.equal(tokenState('tok', 'tok'), 'invalid', 'the Bearer scheme is required')
  t.equal(tokenState('Bearer ', null), 'invalid')
  t.equal(tokenState('Bearer tok', null), 'invalid')
})
