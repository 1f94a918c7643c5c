import t from 'tap'
import { validate } from '../../src/config/load-config.js'
import { isDnsvaktError } from '../../src/errors.js'

const problemsOf = (nat64Prefixes: unknown): string[] => {
  try {
    validate({ blocking: { nat64Prefixes } }, 'test')
    return []
  } catch (e) {
    if (!isDnsvaktError(e)) throw e
    return [...e.problems]
  }
}

t.test('blocking.nat64Prefixes: IPv6 prefixes of an RFC 6052 length', async (t) => {
  t.same(validate({}, 'test').blocking.nat64Prefixes, [], 'none by default')
  t.same(validate({ blocking: { nat64Prefixes: ['2001:db8:64::/96', '2001:db8::/32'] } }, 'test').blocking.nat64Prefixes, ['2001:db8:64::/96', '2001:db8::/32'])
  for (const bad of ['2001:db8::/33', '10.0.0.0/8', 'nat64']) {
    const problems = problemsOf([bad])
    t.equal(problems.length, 1, `${bad}: refused`)
    t.match(problems[0], /blocking\.nat64Prefixes.*RFC 6052/, `${bad}: the key and the expected form`)
  }
})
