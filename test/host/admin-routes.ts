/** The host's admin answers that do not need a socket: the token rule and the merged status parts. */
import t from 'tap'
import { validate } from '../../src/config/load-config.js'
import { adminToken, mergeUpstreams } from '../../src/host/admin-routes.js'

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
