/**
 * EDNS padding of encrypted answers (RFC 7830, RFC 8467 block length 468),
 * checked by decoding the result with dns-packet.
 */
import t from 'tap'
import dnsPacket from 'dns-packet'
import { padResponse } from '../../src/dns/edns-padding.js'

type Opt = { type: 'OPT'; options: Array<{ code: number; data?: Buffer; length?: number }> }
const answerWith = (additionals: unknown[], answers = 1) =>
  dnsPacket.encode({
    id: 7, type: 'response', flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: 'example.org', type: 'A', class: 'IN' }],
    answers: Array.from({ length: answers }, (_, i) => ({ name: 'example.org', type: 'A', ttl: 60, class: 'IN', data: `192.0.2.${i % 250}` })),
    additionals,
  } as dnsPacket.Packet)
const opt = (options: unknown[] = []) => ({ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options })
const optOf = (wire: Buffer) => dnsPacket.decode(wire).additionals!.find((a) => a.type === 'OPT') as unknown as Opt

t.test('an answer with an OPT is padded to a multiple of 468, records intact', async (t) => {
  const wire = answerWith([opt()])
  const padded = padResponse(wire)
  t.equal(padded.length, 468)
  const d = dnsPacket.decode(padded)
  t.same(d.answers!.map((a) => (a as { data: string }).data), ['192.0.2.0'])
  const pad = optOf(padded).options.find((o) => o.code === 12)!
  t.ok(pad, 'a padding option')
  t.ok(pad.data!.every((b) => b === 0), 'zero bytes')
  t.equal(wire.length < 100, true, 'the original was short')
})

t.test('longer answers go to the next block; existing padding and other options', async (t) => {
  const big = padResponse(answerWith([opt()], 40))
  t.equal(big.length % 468, 0)
  t.ok(big.length > 468)
  const withPad = answerWith([opt([{ code: 12, data: Buffer.alloc(5) }, { code: 10, data: Buffer.from('0123456789abcdef', 'hex') }])])
  const again = padResponse(withPad)
  t.equal(again.length, 468)
  const options = optOf(again).options
  t.same(options.map((o) => o.code), [10, 12], 'the old padding replaced, the cookie kept')
  t.equal(padResponse(again).length, 468, 'padding a padded answer changes nothing in size')
})

t.test('the OPT need not be last: records after it are carried over', async (t) => {
  const wire = answerWith([opt(), { name: 'ns.example.org', type: 'A', ttl: 5, class: 'IN', data: '198.51.100.1' }])
  const d = dnsPacket.decode(padResponse(wire))
  t.equal(d.additionals!.length, 2)
  t.equal((d.additionals![1] as { data: string }).data, '198.51.100.1')
})

t.test('left alone: no OPT, malformed, or too big to pad', async (t) => {
  const plain = answerWith([])
  t.equal(padResponse(plain), plain)
  const broken = answerWith([opt()]).subarray(0, 40)
  t.equal(padResponse(broken), broken)
  t.equal(padResponse(Buffer.alloc(5)).length, 5)
  // 65530 bytes: the next multiple of 468 (65988) would not fit a DNS message.
  const base = answerWith([opt()], 2415)
  const huge = Buffer.concat([base, Buffer.alloc(65530 - base.length)])
  huge.writeUInt16BE(huge.readUInt16BE(10) + 1, 10)
  huge.writeUInt16BE(65530 - base.length - 11, base.length + 9)
  huge[base.length] = 0
  huge.writeUInt16BE(16, base.length + 1)
  t.equal(dnsPacket.decode(huge).additionals!.length, 2, 'a well-formed 65530-byte answer')
  t.equal(padResponse(huge), huge)
})
