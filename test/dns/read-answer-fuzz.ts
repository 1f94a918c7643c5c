/**
 * Property: readAnswer takes any upstream reply and returns a parsed answer
 * whose offsets lie inside it, or throws DNSVAKT_ERR_UPSTREAM_ANSWER; no
 * other exception (a RangeError would escape as a bug), no hang on
 * compression loops.
 */
import t from 'tap'
import fc from 'fast-check'
import { readAnswer } from '../../src/dns/read-answer.js'
import { isDnsvaktError } from '../../src/errors.js'
import { hostileAnswer, hostilePacket } from '../fixtures/fuzz-arbitraries.js'

t.test('any reply: an answer inside its bounds, or a coded error', async (t) => {
  let parsed = 0
  let refused = 0
  fc.assert(
    fc.property(fc.oneof(hostileAnswer, hostilePacket), (wire) => {
      let a
      try {
        a = readAnswer(wire)
      } catch (e) {
        refused++
        return isDnsvaktError(e, 'DNSVAKT_ERR_UPSTREAM_ANSWER')
      }
      parsed++
      const inside = (o: number, n: number) => o >= 0 && o + n <= a.wire.length
      return [...a.ttlOffsets].every((o) => inside(o, 4)) && a.v4Offsets.every((o) => inside(o, 4)) && a.v6Offsets.every((o) => inside(o, 16))
    }),
    { numRuns: 20_000, seed: 11 },
  )
  t.ok(parsed > 1000 && refused > 1000, `parsed ${parsed}, refused ${refused}`)
})
