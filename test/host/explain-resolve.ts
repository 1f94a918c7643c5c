/**
 * GET /v1/explain?resolve=1 on a running service: a name no list holds is
 * reported blocked through its answer (a CNAME into a blocked name, an
 * address in a blocked range), asked of the upstream on explain's own
 * sockets; without resolve=1 the upstream is not asked at all.
 */
import t from 'tap'
import { join } from 'node:path'
import pino from 'pino'
import { validate } from '../../src/config/load-config.js'
import { startService } from '../../src/host/single-process.js'
import { loadLists } from '../../src/lists/load-lists.js'
import { udpAsk } from '../fixtures/dns-client.js'
import { startFakeUpstream } from '../fixtures/fake-upstream.js'
import { SHIPPED_LISTS } from '../fixtures/gateway-harness.js'

t.test('explain resolve=1 reports catches through the answer and agrees with the gateway', async (t) => {
  const up = await startFakeUpstream({ rules: { 'cloaked.example': { cname: ['t.me'], a: ['192.0.2.7'] }, 'plain.example': { a: ['192.0.2.8'] } } })
  t.teardown(() => up.close())
  const config = validate({ listen: { dns: ['127.0.0.1:0'], admin: '127.0.0.1:0' }, upstream: { servers: [up.label] } }, 'test')
  const svc = await startService({ config, file: null, blocklistDir: SHIPPED_LISTS, exemptionsFile: join(SHIPPED_LISTS, 'exemptions.yaml') }, { logger: pino({ level: 'silent' }), listLoader: loadLists })
  t.teardown(() => svc.stop(100))
  const explain = async (q: string) => (await fetch(`http://127.0.0.1:${svc.admin!.port}/v1/explain?${q}`)).json() as Promise<Record<string, any>>

  const byName = await explain('name=cloaked.example')
  t.equal(byName.decision, 'allowed', 'by name alone it is not blocked')
  t.equal(up.countFor('cloaked.example'), 0, 'and the upstream was not asked')

  const resolved = await explain('name=cloaked.example&resolve=1')
  t.equal(resolved.decision, 'blocked')
  t.match(resolved.resolved, { caught: { category: 'telegram', caughtBy: 'cname', entry: 't.me' } })
  const answer = await udpAsk(svc.gateway.dns[0].port, { name: 'cloaked.example' })
  t.equal(answer.rcode, 'NXDOMAIN', 'the gateway answers what explain said')

  const plain = await explain('name=plain.example&resolve=1')
  t.equal(plain.decision, 'allowed')
  t.match(plain.resolved, { caught: null })
})
