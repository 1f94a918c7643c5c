/**
 * build-stages.ts: which stages the config asks for, in STAGE_ORDER, and the
 * composed chain driven in process (queries in, answer bytes out) with a
 * scripted exchanger in place of the upstream pools: access, block mode
 * (including the zero-ip alias), the cache and its events, rate limiting and
 * zone routing each follow their config section.
 */
import t from 'tap'
import dnsPacket from 'dns-packet'
import { AnswerCache } from '../../src/cache/answer-cache.js'
import { buildCache } from '../../src/cache/build-cache.js'
import { validate } from '../../src/config/load-config.js'
import type { Reply } from '../../src/pipeline/types.js'
import { buildStageList, buildStages, type StageParts } from '../../src/stages/build-stages.js'
import type { Exchanger } from '../../src/stages/forward.js'
import { decode, encodeQuery, encodeResponse, queryOf, snapshotOf } from '../fixtures/dns-wire.js'
import pino from 'pino'

const SNAP = snapshotOf({ categories: [{ name: 'tiktok', domains: ['tiktok.com'] }] })
const NOW = 1_000_000

/** An exchanger answering every question with one A record (`data`), counting what it was asked. */
function upstream(data: string) {
  const asked: string[] = []
  const exchanger: Exchanger = {
    query(query: Buffer, done) {
      const q = dnsPacket.decode(query)
      const name = q.questions![0].name
      asked.push(name)
      setImmediate(() => done(null, { wire: encodeResponse({ name, answers: [{ type: 'A', name, ttl: 60, data }] }) }))
    },
  }
  return { exchanger, asked }
}

function setup(raw: Record<string, unknown> = {}, extra: Partial<StageParts> = {}) {
  const config = validate({ groups: { default: { enforce: ['tiktok'] } }, ...raw }, 'test')
  const main = upstream('192.0.2.1')
  const events: string[] = []
  const parts: StageParts = {
    pool: main.exchanger,
    zonePools: [],
    cache: buildCache(config.cache),
    now: () => NOW,
    log: pino({ level: 'silent' }),
    cacheEvents: { onHit: () => events.push('hit'), onMiss: () => events.push('miss'), onStale: () => events.push('stale') },
    ...extra,
  }
  const chain = buildStages(config, parts)
  const ask = async (name: string, client = '10.0.0.1', type = 'A') => {
    const q = queryOf(encodeQuery({ name, type }), { address: client, now: NOW })
    q.snapshot = SNAP
    const reply: Reply = await chain(q)
    return reply.kind === 'answer' ? { source: reply.source, answer: decode(reply.wire) } : { source: reply.source, answer: null }
  }
  return { config, parts, ask, asked: main.asked, events }
}

t.test('the stages the config asks for', async (t) => {
  const names = (raw: Record<string, unknown>) => {
    const { config, parts } = setup(raw)
    return buildStageList(config, parts).map((s) => s.name).sort()
  }
  t.same(names({}), ['acl', 'cache', 'client-group', 'forward', 'inspect-answer', 'policy'], 'rate limiting off by default')
  t.same(names({ rateLimit: { queriesPerSecond: 10 } }), ['acl', 'cache', 'client-group', 'forward', 'inspect-answer', 'policy', 'rate-limit'])
  t.same(names({ cache: { enabled: false } }), ['acl', 'client-group', 'forward', 'inspect-answer', 'policy'], 'no cache stage without a cache')
})

t.test('access, block mode and forwarding follow their sections', async (t) => {
  const { ask, asked } = setup({ access: { allow: ['10.0.0.0/8'] } })
  t.equal((await ask('example.test', '192.168.1.1')).answer?.rcode, 'REFUSED', 'a client outside access.allow')
  const blocked = await ask('www.tiktok.com')
  t.equal(blocked.source, 'blocked')
  t.equal(blocked.answer?.rcode, 'NXDOMAIN', 'the default mode')
  const forwarded = await ask('example.test')
  t.equal(forwarded.source, 'forwarded')
  t.same(asked, ['example.test'], 'only the allowed, unblocked name went upstream')

  const zero = setup({ blocking: { mode: 'zero-ip' } })
  const answer = (await zero.ask('tiktok.com')).answer
  t.equal(answer?.rcode, 'NOERROR')
  t.same(answer?.answers?.map((a) => (a as { data: string }).data), ['0.0.0.0'], 'zero-ip answers 0.0.0.0')
})

t.test('the cache answers repeats and reports hits and misses; cache off, every query goes upstream', async (t) => {
  const { ask, asked, events, parts } = setup()
  t.equal((await ask('cached.test')).source, 'forwarded')
  t.equal((await ask('cached.test')).source, 'cached')
  t.same(asked, ['cached.test'])
  t.same(events, ['miss', 'hit'])
  t.ok(parts.cache instanceof AnswerCache)
  t.equal(parts.cache?.entries, 1)
  const off = setup({ cache: { enabled: false } })
  await off.ask('x.test')
  await off.ask('x.test')
  t.same(off.asked, ['x.test', 'x.test'], 'cache off: every query goes upstream')
  t.same(off.events, [])
})

t.test('rate limiting: over the burst, UDP is dropped', async (t) => {
  const { ask } = setup({ rateLimit: { queriesPerSecond: 1, burst: 2 } })
  const sources = [await ask('a.test'), await ask('b.test'), await ask('c.test')].map((r) => r.source)
  t.same(sources, ['forwarded', 'forwarded', 'rate-limited'])
})

t.test('zone pools take the names under their zone', async (t) => {
  const ad = upstream('10.1.1.1')
  const { ask, asked } = setup({}, { zonePools: [{ zone: 'ad.example', pool: ad.exchanger }] })
  t.same((await ask('dc1.AD.example')).answer?.answers?.map((a) => (a as { data: string }).data), ['10.1.1.1'])
  await ask('example.test')
  t.same([ad.asked, asked], [['dc1.AD.example'], ['example.test']])
})
