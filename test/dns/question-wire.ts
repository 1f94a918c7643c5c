import t from 'tap'
import { encodeName, questionWire, typeCode } from '../../src/dns/question-wire.js'
import { decode } from '../fixtures/dns-wire.js'

t.test('questionWire: what dns-packet reads back', async (t) => {
  // dns-packet names types 64/65 UNKNOWN_64/65.
  for (const [name, type, code] of [['www.example.org', 'A', 1], ['Mixed.Case.example.', 'UNKNOWN_65', 65], ['_dns.resolver.arpa', 'UNKNOWN_64', 64]] as const) {
    const p = decode(questionWire(name, code, 4242))
    t.equal(p.id, 4242)
    t.same(p.questions, [{ name: name.replace(/\.$/, ''), type, class: 'IN' }], name)
    t.equal(p.flag_rd, true, 'recursion desired')
  }
})

t.test('encodeName refuses what is not a name', async (t) => {
  t.same([...encodeName('')], [0], 'the root')
  t.same([...encodeName('.')], [0], 'the root, dotted')
  t.same([...encodeName('a.bc.')], [1, 0x61, 2, 0x62, 0x63, 0])
  t.throws(() => encodeName('a..b'), /empty label/)
  t.throws(() => encodeName(`${'a'.repeat(64)}.example`), /longer than 63/)
  t.throws(() => encodeName(Array(130).fill('ab').join('.')), /longer than 255/)
})

t.test('typeCode', async (t) => {
  const cases: Array<[string, number | null]> = [['A', 1], ['aaaa', 28], ['HTTPS', 65], ['TYPE65', 65], ['type1', 1], ['TYPE65535', 65535], ['TYPE65536', null], ['TYPE0', null], ['TYPE01', null], ['NOPE', null], ['', null], ['toString', null]]
  for (const [text, code] of cases) t.equal(typeCode(text), code, text)
})
