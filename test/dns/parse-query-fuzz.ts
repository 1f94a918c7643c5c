/**
 * Property: parseQuery takes any packet and returns a usable Query or a
 * ParseFailure code; it never throws and never reads past the packet.
 */
import t from 'tap'
import fc from 'fast-check'
import { parseQuery, PARSE_BADVERS, PARSE_DROP, PARSE_FORMERR, PARSE_NOTIMP } from '../../src/dns/parse-query.js'
import { Query } from '../../src/pipeline/query.js'
import { hostilePacket } from '../fixtures/fuzz-arbitraries.js'

t.test('any packet: a Query or a failure code, never an exception', async (t) => {
  const codes = new Set<number>([PARSE_DROP, PARSE_FORMERR, PARSE_NOTIMP, PARSE_BADVERS])
  const seen = new Map<string, number>()
  fc.assert(
    fc.property(hostilePacket, fc.constantFrom('udp' as const, 'tcp' as const), (wire, transport) => {
      const q = parseQuery(wire, '10.0.0.1', 4000, transport, 0)
      if (typeof q === 'number') {
        seen.set(String(q), (seen.get(String(q)) ?? 0) + 1)
        return codes.has(q)
      }
      seen.set('query', (seen.get('query') ?? 0) + 1)
      return q instanceof Query && q.questionEnd <= wire.length && q.questionEnd >= 17 && q.udpSize >= 512 && q.name.length <= 1020 && q.id === wire.readUInt16BE(0)
    }),
    { numRuns: 20_000, seed: 10 },
  )
  // The generator must reach both outcomes, or the property proves little.
  t.ok((seen.get('query') ?? 0) > 1000, `queries: ${seen.get('query')}`)
  t.ok((seen.get(String(PARSE_FORMERR)) ?? 0) > 1000, `FORMERR: ${seen.get(String(PARSE_FORMERR))}`)
  t.ok((seen.get(String(PARSE_DROP)) ?? 0) > 100, 'drops')
})
