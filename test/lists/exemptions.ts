import t from 'tap'
import { parseExemptions } from '../../src/lists/exemptions.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 0, 15, 9, 30)
const OPTS = { knownCategories: new Set(['tiktok', 'telegram', 'doh-bypass']), maxDurationMs: 90 * DAY, now: NOW }
const parse = (text: string, opts = OPTS) => parseExemptions(text, 'exemptions.yaml', opts)

const GOOD = {
  id: 'ex-1',
  client: '10.20.0.99',
  categories: '[tiktok]',
  reason: 'communications department runs the municipal account',
  approvedBy: 'CISO Kari Nordmann',
  expires: '2026-03-01',
}
type Fields = Partial<Record<keyof typeof GOOD, string | null>>

/** One exemption in YAML, fields overridden (null: left out). */
function entry(fields: Fields = {}): string {
  const all = { ...GOOD, ...fields }
  const lines = Object.entries(all).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`)
  return `  - ${lines.join('\n    ')}\n`
}
const file = (...entries: string[]) => `exemptions:\n${entries.join('')}`

t.test('a valid exemption, every field carried over', async (t) => {
  const { exemptions, problems } = parse(`# header comment\n${file(entry(), entry({ id: 'ex-2', client: 'fd00:20::/64', categories: '[telegram, doh-bypass]', expires: '2026-02-01T12:00:00Z' }))}`)
  t.same(problems, [])
  t.equal(exemptions.length, 2)
  const [a, b] = exemptions
  t.equal(a.id, 'ex-1')
  t.equal(a.client, '10.20.0.99')
  t.same(a.categories, ['tiktok'])
  t.equal(a.reason, GOOD.reason)
  t.equal(a.approvedBy, GOOD.approvedBy)
  t.equal(a.line, 3, 'line of the first entry')
  t.ok(a.network.check('10.20.0.99', 'ipv4'))
  t.notOk(a.network.check('10.20.0.98', 'ipv4'), 'a bare address is a single host')
  t.same(b.categories, ['telegram', 'doh-bypass'])
  t.equal(b.expiresAt, Date.UTC(2026, 1, 1, 12), 'a timestamp is taken as written')
  t.ok(b.network.check('fd00:20::ffff', 'ipv6'))
  t.notOk(b.network.check('fd00:20:0:1::1', 'ipv6'))
  t.equal(b.line, 9, 'line of the second entry')
})

t.test('a date alone means through that day, UTC', async (t) => {
  const cases: Array<[string, number]> = [
    ['2026-03-01', Date.UTC(2026, 2, 2)],
    ['"2026-03-01"', Date.UTC(2026, 2, 2)],
    ['2026-01-15', Date.UTC(2026, 0, 16)],
    ['2026-01-14', Date.UTC(2026, 0, 15)],
    ['2026-02-28T23:59:59Z', Date.UTC(2026, 1, 28, 23, 59, 59)],
    ['2026-02-28T10:00:00+01:00', Date.UTC(2026, 1, 28, 9)],
  ]
  for (const [expires, at] of cases) {
    const { exemptions, problems } = parse(file(entry({ expires })))
    t.same(problems, [], expires)
    t.equal(exemptions[0]?.expiresAt, at, expires)
  }
})

t.test('bad entries are reported with file and line, and left out; the others still load', async (t) => {
  // [what, the bad entry's fields, message pattern]
  const cases: Array<[string, Fields, RegExp]> = [
    ['id missing', { id: null }, /"id" is required/],
    ['client missing', { client: null }, /"client" is required/],
    ['reason missing', { reason: null }, /"reason" is required/],
    ['approvedBy missing', { approvedBy: null }, /"approvedBy" is required/],
    ['reason blank', { reason: '"   "' }, /"reason" is required/],
    ['id not text', { id: '42' }, /"id" is required and must be text/],
    ['categories missing', { categories: null }, /"categories" must be a non-empty list/],
    ['categories empty', { categories: '[]' }, /"categories" must be a non-empty list/],
    ['categories not a list', { categories: 'tiktok' }, /"categories" must be a non-empty list/],
    ['unknown category', { categories: '[tiktok, instagram]' }, /unknown category instagram/],
    ['two unknown categories', { categories: '[facebook, instagram]' }, /unknown categories facebook, instagram/],
    ['expiry missing', { expires: null }, /"expires" is required/],
    ['expiry null', { expires: 'null' }, /"expires" is required/],
    ['expiry not a date', { expires: 'next-week' }, /"expires" must be a date/],
    ['expiry a number', { expires: '1767225600000' }, /"expires" must be a date/],
    ['expiry beyond maxDuration', { expires: '2026-06-01' }, /more than 90 days ahead/],
    ['client not an address', { client: 'laptop-042' }, /"client" must be an IP address or a CIDR/],
    ['client prefix too long', { client: '10.0.0.0/33' }, /"client" must be an IP address or a CIDR/],
    ['client prefix not a number', { client: '10.0.0.0/x' }, /"client" must be an IP address or a CIDR/],
    ['client with an empty prefix', { client: '10.20.0.99/' }, /"client" must be an IP address or a CIDR/],
    ['client with two prefixes', { client: '10.0.0.0/8/8' }, /"client" must be an IP address or a CIDR/],
  ]
  for (const [what, fields, message] of cases) {
    const text = `# comment\n${file(entry({ id: 'ok-before' }), entry({ id: 'bad', ...fields }), entry({ id: 'ok-after' }))}`
    const { exemptions, problems } = parse(text)
    t.equal(problems.length, 1, `${what}: one problem (${JSON.stringify(problems)})`)
    const p = problems[0]
    if (!p) continue
    t.match(p.message, message, `${what}: message`)
    t.equal(p.file, 'exemptions.yaml', `${what}: file`)
    t.equal(p.line, 9, `${what}: line of the bad entry`)
    t.equal(p.text, 'exemption #2', `${what}: which entry`)
    t.same(exemptions.map((e) => e.id), ['ok-before', 'ok-after'], `${what}: the good ones still load`)
  }
})

t.test('maxDuration boundary', async (t) => {
  const at = (ms: number) => new Date(ms).toISOString()
  t.same(parse(file(entry({ expires: at(NOW + 90 * DAY) }))).problems, [], 'exactly maxDuration ahead is allowed')
  t.equal(parse(file(entry({ expires: at(NOW + 90 * DAY + 1000) }))).problems.length, 1, 'one second more is refused')
  t.same(parse(file(entry({ expires: at(NOW - DAY) }))).problems, [], 'an exemption that already ended is not an error (it just never applies)')
})

t.test('unknown keys in an entry are refused', async (t) => {
  const { exemptions, problems } = parse(file(entry().replace('id: ex-1', 'id: ex-1\n    expiry: 2026-02-01')))
  t.equal(exemptions.length, 0)
  t.match(problems[0]?.message, /unknown key\(s\) expiry/)
})

t.test('duplicate id: the second is reported, the first kept', async (t) => {
  const { exemptions, problems } = parse(file(entry({ client: '10.0.0.1' }), entry({ client: '10.0.0.2' })))
  t.same(exemptions.map((e) => e.client), ['10.0.0.1'])
  t.equal(problems.length, 1)
  t.match(problems[0]?.message, /duplicate id "ex-1"/)
  t.equal(problems[0]?.line, 8)
})

t.test('a file that is not valid YAML is one problem with its line', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['unclosed bracket', 'exemptions:\n  - id: a\n    categories: [tiktok\n    reason: x\n', 4],
    ['duplicate key in an entry', 'exemptions:\n  - id: a\n    client: 10.0.0.1\n    id: b\n', 4],
    ['tab indentation', 'exemptions:\n\t- id: a\n', 2],
  ]
  for (const [what, text, line] of cases) {
    const { exemptions, problems } = parse(text)
    t.equal(exemptions.length, 0, `${what}: nothing loaded`)
    t.equal(problems.length, 1, `${what}: one problem`)
    t.match(problems[0]?.message, /not valid YAML/, `${what}: message`)
    t.equal(problems[0]?.line, line, `${what}: line`)
  }
})

t.test('empty and wrongly shaped files', async (t) => {
  t.same(parse(''), { exemptions: [], problems: [] }, 'empty file: nothing, no problem')
  t.same(parse('# only comments\n'), { exemptions: [], problems: [] }, 'only comments')
  t.same(parse('exemptions: []\n'), { exemptions: [], problems: [] }, 'empty list')
  t.equal(parse('exemptions: not-a-list\n').problems.length, 1, 'exemptions must be a list')
  t.equal(parse('just a string\n').problems.length, 1, 'a bare scalar')
  t.equal(parse('exemptions:\n  - just-text\n').problems.length, 1, 'an entry that is not a mapping')
  // Written without the top-level key, every entry would be silently ignored.
  t.equal(parse(entry()).problems.length, 1, 'a top-level list (no "exemptions:" key) is reported')
})

t.test('a trailing "/" must not turn a host into the whole internet', async (t) => {
  // Number('') is 0: "10.20.0.99/" would otherwise become 10.20.0.99/0 and exempt every IPv4 client.
  const { exemptions } = parse(file(entry({ client: '10.20.0.99/' })))
  for (const e of exemptions) t.notOk(e.network.check('8.8.8.8', 'ipv4'), `exemption "${e.client}" must not cover 8.8.8.8`)
  t.equal(exemptions.length, 0, 'the entry is refused')
})
