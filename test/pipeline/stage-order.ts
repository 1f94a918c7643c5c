import t from 'tap'
import { compose } from '../../src/pipeline/compose.js'
import { STAGE_ORDER, orderStages } from '../../src/pipeline/stage-order.js'
import type { Reply, Stage, StageName } from '../../src/pipeline/types.js'
import { makeQuery, prng } from '../fixtures/dns-wire.js'

const stage = (name: StageName, log: string[] = []): Stage => ({
  name,
  handle: (q, next) => {
    log.push(name)
    return name === 'forward' ? ({ kind: 'answer', wire: Buffer.alloc(12), source: 'forwarded' } as Reply) : next(q)
  },
})

t.test('the order is the one the architecture gives, with reasons', async (t) => {
  // ARCHITECTURE.md "Stage order, and why" had rate-limit before client-group; per-group limits need the group first (docs/architecture.md).
  t.same(STAGE_ORDER, ['acl', 'client-group', 'rate-limit', 'policy', 'inspect-answer', 'cache', 'forward'])
  t.ok(STAGE_ORDER.indexOf('client-group') < STAGE_ORDER.indexOf('rate-limit'), 'the group is known before its rate limit')
  t.ok(STAGE_ORDER.indexOf('inspect-answer') < STAGE_ORDER.indexOf('cache'), 'inspection above the cache: cached answers are re-checked per client')
  t.ok(STAGE_ORDER.indexOf('rate-limit') < STAGE_ORDER.indexOf('cache'), 'rate limit above the cache')
  t.equal(STAGE_ORDER.at(-1), 'forward', 'forward is terminal')
})

t.test('any input order comes out in STAGE_ORDER, optional stages left out', async (t) => {
  const rnd = prng(7)
  const optional = STAGE_ORDER.filter((n) => n !== 'forward')
  for (let i = 0; i < 200; i++) {
    const chosen = optional.filter(() => rnd() < 0.6)
    const given = [...chosen, 'forward' as StageName].map((n) => stage(n))
    for (let j = given.length - 1; j > 0; j--) {
      const k = Math.floor(rnd() * (j + 1))
      ;[given[j], given[k]] = [given[k], given[j]]
    }
    const ordered = orderStages(given).map((s) => s.name)
    const expected = STAGE_ORDER.filter((n) => n === 'forward' || chosen.includes(n))
    if (JSON.stringify(ordered) !== JSON.stringify(expected)) t.fail(`${given.map((s) => s.name)} -> ${ordered}, expected ${expected}`)
  }
  t.pass('200 shuffles ordered correctly')
})

t.test('the same stage objects are returned', async (t) => {
  const given = [stage('forward'), stage('acl')]
  const ordered = orderStages(given)
  t.equal(ordered[0], given[1])
  t.equal(ordered[1], given[0])
})

t.test('forward is required, duplicates are refused', async (t) => {
  t.throws(() => orderStages([]), /forward/)
  t.throws(() => orderStages([stage('acl'), stage('policy'), stage('cache')]), /forward/)
  t.throws(() => orderStages([stage('acl'), stage('forward'), stage('acl')]), /acl.*twice|twice.*acl/)
  t.throws(() => orderStages([stage('forward'), stage('forward')]), /twice/)
})

t.test('composed after ordering, the stages run in STAGE_ORDER', async (t) => {
  const log: string[] = []
  const given = [...STAGE_ORDER].reverse().map((n) => stage(n, log))
  compose(orderStages(given))(makeQuery({ name: 'example.com' }))
  t.same(log, STAGE_ORDER)
})
