/**
 * The cache stage on its own, with a scripted stage below it: a miss is
 * rendered once (the forward stage's bytes are served unless the cache
 * clamped a TTL), coalesced queries each get their own ID, and a failure
 * below lets the next query go down again.
 */
import t from 'tap'
import { AnswerCache, type AnswerCacheOptions } from '../../src/cache/answer-cache.js'
import { CacheEntry, renderEntry } from '../../src/cache/cache-entry.js'
import { readAnswer } from '../../src/dns/read-answer.js'
import type { Query } from '../../src/pipeline/query.js'
import type { Reply } from '../../src/pipeline/types.js'
import { CacheStage } from '../../src/stages/cache.js'
import { decode, encodeResponse, makeQuery, rr } from '../fixtures/dns-wire.js'

const OPTS: AnswerCacheOptions = { maxEntries: 100, maxBytes: 1 << 20, minTtl: 0, maxTtl: 86_400_000, negativeMaxTtl: 3_600_000, maxStale: 0 }
const NOW = 5_000_000

/** A stage below that answers like the forward stage (rendered for the query, with the answer), after a turn; counts its calls. */
function below(ttl: number) {
  const sent: Reply[] = []
  const next = (q: Query): Promise<Reply> =>
    new Promise((resolve) => setImmediate(() => {
      const entry = new CacheEntry(readAnswer(encodeResponse({ name: q.name, answers: [rr('A', q.name, ttl, '192.0.2.1')] })), NOW, NOW, NOW)
      const r: Reply = { kind: 'answer', wire: renderEntry(entry, q, NOW), source: 'forwarded', answer: entry.answer }
      sent.push(r)
      resolve(r)
    }))
  return { next, sent }
}

const stage = (o: Partial<AnswerCacheOptions> = {}) => new CacheStage(new AnswerCache({ ...OPTS, ...o }), { serveStale: false, staleAnswerTtl: 30, now: () => NOW })
const ttlOf = (wire: Buffer) => (decode(wire).answers![0] as { ttl: number }).ttl

t.test('a miss is served with the bytes rendered below, once, when no TTL was clamped', async (t) => {
  const { next, sent } = below(300)
  const r = await stage().handle(makeQuery({ name: 'a.example', type: 'A', id: 7 }), next)
  t.equal(r.kind, 'answer')
  if (r.kind !== 'answer') return
  t.equal(r.wire, sent[0].kind === 'answer' ? sent[0].wire : null, 'the same buffer: not rendered a second time')
  t.equal(ttlOf(r.wire), 300)
  t.equal(decode(r.wire).id, 7)
})

t.test('a clamped TTL is rendered again, so the first client sees what the cache serves', async (t) => {
  const { next, sent } = below(300)
  const s = stage({ maxTtl: 60_000 })
  const r = await s.handle(makeQuery({ name: 'b.example', type: 'A' }), next)
  if (r.kind !== 'answer' || sent[0].kind !== 'answer') return t.fail('answers expected')
  t.not(r.wire, sent[0].wire)
  t.equal(ttlOf(r.wire), 60)
  const hit = s.handle(makeQuery({ name: 'b.example', type: 'A' }), next) as Reply
  t.equal(hit.kind === 'answer' && ttlOf(hit.wire), 60, 'the cached copy agrees')
  t.equal(sent.length, 1)
})

t.test('concurrent misses for one name share one trip below and each get their own ID and case', async (t) => {
  const { next, sent } = below(300)
  const s = stage()
  const asks = [1, 2, 3].map((id) => s.handle(makeQuery({ name: id === 2 ? 'C.Example' : 'c.example', type: 'A', id }), next))
  const replies = await Promise.all(asks)
  t.equal(sent.length, 1, 'one trip below')
  t.same(replies.map((r) => r.kind === 'answer' && decode(r.wire).id), [1, 2, 3])
  t.equal(replies[1].kind === 'answer' && decode(replies[1].wire).questions![0].name, 'C.Example')
})

t.test('a failure below is passed up, and the next query for the name goes down again', async (t) => {
  const s = stage()
  let calls = 0
  const failing = (): Promise<Reply> => {
    calls++
    return Promise.reject(new Error('boom'))
  }
  await t.rejects(Promise.resolve(s.handle(makeQuery({ name: 'd.example', type: 'A' }), failing)), { message: 'boom' })
  await t.rejects(Promise.resolve(s.handle(makeQuery({ name: 'd.example', type: 'A' }), failing)), { message: 'boom' })
  t.equal(calls, 2, 'not stuck on the failed exchange')
})
