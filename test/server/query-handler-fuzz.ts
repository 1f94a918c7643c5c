/**
 * Property over the whole chain in process: the real gateway's
 * QueryHandler.handle (acl, policy, cache, forward to a fake upstream) with
 * a recording sink. Any packet gets exactly one well-formed reply or one
 * drop, within the upstream deadline: never an exception, never a hang.
 */
import t from 'tap'
import fc from 'fast-check'
import dnsPacket from 'dns-packet'
import { startHarness } from '../fixtures/gateway-harness.js'
import { hostilePacket } from '../fixtures/fuzz-arbitraries.js'
import type { Transport } from '../../src/pipeline/transport.js'

type Outcome = { kind: 'reply'; wire: Buffer } | { kind: 'drop' } | { kind: 'hang' } | { kind: 'twice' }

t.test('any packet through the whole chain: one well-formed reply or a drop', async (t) => {
  // Half the misses go to a dead upstream (a closed port): failures must be answered too.
  const h = await startHarness()
  const dead = await startHarness({ upstream: { servers: ['127.0.0.1:1'], tryTimeout: '100ms', deadline: '250ms', probeInterval: '1s' } })
  t.teardown(() => dead.close())
  t.teardown(() => h.close())
  const counts: Record<string, number> = {}
  const run = (wire: Buffer, transport: Transport) =>
    new Promise<Outcome>((resolve) => {
      let outcome: Outcome | undefined
      const settle = (o: Outcome) => {
        if (outcome !== undefined) return resolve({ kind: 'twice' })
        outcome = o
        setTimeout(() => resolve(outcome!), 0)
      }
      const timer = setTimeout(() => resolve({ kind: 'hang' }), 2000)
      const gw = wire.length % 2 === 0 ? h.gw : dead.gw
      gw.handler.handle(wire, '127.0.0.1', 40000, transport, {
        send: (w) => (clearTimeout(timer), settle({ kind: 'reply', wire: Buffer.from(w) })),
        dropped: () => (clearTimeout(timer), settle({ kind: 'drop' })),
      })
    })
  await fc.assert(
    fc.asyncProperty(hostilePacket, fc.constantFrom<Transport>('udp', 'tcp'), async (wire, transport) => {
      const o = await run(wire, transport)
      counts[o.kind] = (counts[o.kind] ?? 0) + 1
      if (o.kind !== 'reply') return o.kind === 'drop'
      const r = o.wire
      if (r.length < 12 || (r[2] & 0x80) === 0 || r.readUInt16BE(0) !== wire.readUInt16BE(0)) return false
      if (transport === 'udp' && r.length > 1232) return false
      dnsPacket.decode(r) // throws on a malformed reply, failing the property
      return true
    }),
    { numRuns: 1000, seed: 12 },
  )
  t.ok((counts.reply ?? 0) > 300, `replies: ${counts.reply}, drops: ${counts.drop ?? 0}`)
  t.equal(counts.hang ?? 0, 0)
})
