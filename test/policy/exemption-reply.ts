import t from 'tap'
import { readAnswer } from '../../src/dns/read-answer.js'
import type { AnswerReply, Reply } from '../../src/pipeline/types.js'
import { exemptionEnds, exemptionReason, withExemption } from '../../src/policy/exemption-reply.js'
import { decode, encodeResponse, rr, snapshotOf, soa } from '../fixtures/dns-wire.js'

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 0, 15, 12)
const SNAP = snapshotOf({ categories: [{ name: 'tiktok' }, { name: 'telegram' }, { name: 'doh-bypass' }] })
const bit = (n: string) => 1 << SNAP.categories.find((c) => c.name === n)!.bit
const client = {
  group: 'staff',
  enforced: -1,
  shadow: 0,
  exemptions: [
    { id: 'short', categories: ['tiktok'], expiresAt: NOW + HOUR },
    { id: 'long', categories: ['tiktok', 'telegram'], expiresAt: NOW + 5 * HOUR },
    { id: 'ended', categories: ['doh-bypass'], expiresAt: NOW - 1 },
    { id: 'tg-soon', categories: ['telegram'], expiresAt: NOW + 2 * HOUR },
  ],
}

t.test('exemptionReason: the valid exemption lasting longest', async (t) => {
  t.same(exemptionReason(client, 'tiktok', NOW), { categories: ['tiktok'], exemptionId: 'long' })
  t.same(exemptionReason(client, 'tiktok', NOW + 6 * HOUR), { categories: ['tiktok'], exemptionId: '' }, 'none valid')
  t.same(exemptionReason(client, 'doh-bypass', NOW), { categories: ['doh-bypass'], exemptionId: '' })
})

t.test('exemptionEnds: per category the last covering exemption, the earliest over categories', async (t) => {
  t.equal(exemptionEnds(SNAP, client, bit('tiktok'), NOW), NOW + 5 * HOUR, 'the longer of two tiktok exemptions')
  t.equal(exemptionEnds(SNAP, client, bit('tiktok'), NOW + 4 * HOUR), NOW + 5 * HOUR)
  t.equal(exemptionEnds(SNAP, client, bit('tiktok') | bit('telegram'), NOW), NOW + 5 * HOUR)
  const short = { ...client, exemptions: client.exemptions.filter((e) => e.id !== 'long') }
  t.equal(exemptionEnds(SNAP, short, bit('tiktok') | bit('telegram'), NOW), NOW + HOUR, 'both lifts are needed: the first to end')
  t.equal(exemptionEnds(SNAP, client, bit('doh-bypass'), NOW), NOW, 'an ended exemption lifts nothing: ends now')
  t.equal(exemptionEnds(SNAP, client, 0, NOW), Infinity, 'no category: nothing ends')
})

t.test('withExemption caps every TTL at the seconds left, in the reply only', async (t) => {
  const answer = readAnswer(encodeResponse({
    name: 'x.example',
    answers: [rr('A', 'x.example', 86_400, '192.0.2.1'), rr('A', 'x.example', 30, '192.0.2.2')],
    authorities: [soa('example', 7200, 300)],
  }))
  const reply = (): Reply => ({ kind: 'answer', wire: Buffer.from(answer.wire), source: 'forwarded', answer })
  const ttls = (r: Reply) => {
    const p = decode((r as AnswerReply).wire)
    return [...p.answers!, ...p.authorities!].map((x) => (x as { ttl: number }).ttl)
  }
  const reason = { categories: ['tiktok'], exemptionId: 'short' }
  const r = withExemption(reply(), reason, NOW + HOUR, NOW)
  t.same((r as AnswerReply).exempted, reason)
  t.same(ttls(r), [3600, 30, 3600], 'a day becomes the hour left; shorter TTLs stay')
  t.same(ttls(withExemption(reply(), reason, NOW + HOUR, NOW + HOUR - 1500)), [1, 1, 1], '1.5 s left: 1 s (rounded down)')
  t.same(ttls(withExemption(reply(), reason, NOW + HOUR, NOW + 2 * HOUR)), [0, 0, 0], 'already past: 0')
  t.same(ttls(withExemption(reply(), reason, Infinity, NOW)), [86_400, 30, 7200], 'no end: untouched')
  t.same(ttls({ kind: 'answer', wire: answer.wire, source: 'forwarded', answer }), [86_400, 30, 7200], 'the shared answer is never changed')
  const servfail: Reply = { kind: 'answer', wire: Buffer.alloc(12), source: 'servfail' }
  t.same((withExemption(servfail, reason, NOW, NOW) as AnswerReply).exempted, reason, 'no records: only marked')
  const drop: Reply = { kind: 'drop', source: 'rate-limited' }
  t.equal(withExemption(drop, reason, NOW, NOW), drop)
})
