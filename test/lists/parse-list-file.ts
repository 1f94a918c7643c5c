import t from 'tap'
import { isValidDomainName, parseCidrList, parseDomainList } from '../../src/lists/parse-list-file.js'

t.test('domain list: one line at a time', async (t) => {
  // [line, names it yields, pattern the problem message must match (null: no problem)]
  const cases: Array<[line: string, names: string[], problem: RegExp | null]> = [
    ['tiktok.com', ['tiktok.com'], null],
    ['  TikTok.COM.  ', ['tiktok.com'], null],
    ['*.tiktok.com', ['tiktok.com'], null],
    ['_dmarc.example.org', ['_dmarc.example.org'], null],
    ['xn--bcher-kva.example', ['xn--bcher-kva.example'], null],
    ['bücher.example', ['xn--bcher-kva.example'], null],
    ['tiktok.com # trailing comment', ['tiktok.com'], null],
    ['tiktok.com\t# tab then comment', ['tiktok.com'], null],
    ['# whole-line comment', [], null],
    ['   # indented comment', [], null],
    ['', [], null],
    ['   ', [], null],
    ['! adblock comment', [], null],
    ['[Adblock Plus 2.0]', [], null],
    ['||tiktok.com^', ['tiktok.com'], null],
    ['||TikTok.com^ # comment', ['tiktok.com'], null],
    ['0.0.0.0 tiktok.com', ['tiktok.com'], null],
    ['127.0.0.1\ta.tiktok.com   b.tiktok.com', ['a.tiktok.com', 'b.tiktok.com'], null],
    [':: tiktok.com', ['tiktok.com'], null],
    ['::1 localhost ip6-localhost ip6-loopback', [], null],
    ['127.0.0.1 localhost localhost.localdomain local', [], null],
    ['255.255.255.255 broadcasthost', [], null],
    ['fe80::1%lo0 localhost', [], null],
    ['0.0.0.0 0.0.0.0', [], null],
    ['0.0.0.0 localhost tiktok.com', ['tiktok.com'], null],
    ['1.2.3.4 tiktok.com', [], /not a sinkhole address/],
    ['0.0.0.0 com', [], /single label/],
    ['com', [], /single label/],
    ['localhost', [], /single label/],
    ['tiktok', [], /single label/],
    ['||tiktok.com^$important', [], /modifiers/],
    ['||tiktok.com^$third-party,important', [], /modifiers/],
    ['||*.tiktok.com^', [], /wildcards/],
    ['||tiktok.com', [], /only "\|\|name\^"/],
    ['||tiktok.com/path^', [], /only "\|\|name\^"/],
    ['@@||tiktok.com^', [], /allow\.txt/],
    ['tik*tok.com', [], /wildcards/],
    ['*.*.tiktok.com', [], /wildcards/],
    ['*', [], /wildcards/],
    ['p16-tiktok-*.ibyteimg.com', ['p16-tiktok-*.ibyteimg.com'], null],
    ['*.P16-TikTok-*.ibyteimg.com.', ['p16-tiktok-*.ibyteimg.com'], null],
    ['||p16-tiktok-*.ibyteimg.com^', ['p16-tiktok-*.ibyteimg.com'], null],
    ['0.0.0.0 v*-web.b*.example.org', ['v*-web.b*.example.org'], null],
    ['a.*.example.net', ['a.*.example.net'], null],
    ['*cdn*.media.example', ['*cdn*.media.example'], null],
    ['||p16-*.ibyteimg.com^$important', [], /modifiers/],
    ['tik*.com', [], /wildcards need at least two fixed labels.*single label "com"/],
    ['*.tik*.com', [], /wildcards need at least two fixed labels/],
    ['tiktok.co*', [], /wildcards need at least two fixed labels.*top-level label/],
    ['a.tiktok.*', [], /wildcards need at least two fixed labels/],
    ['-*.ibyteimg.com', [], /not a valid domain name \(wildcards/],
    ['p16*!.ibyteimg.com', [], /not a valid domain name \(wildcards/],
    ['bü*.ibyteimg.com', [], /wildcards need the name in its xn-- form/],
    ['tiktok.com telegram.org', [], /one name per line/],
    ['tiktok.com#comment', [], /not a valid domain name/],
    ['-tiktok.com', [], /not a valid domain name/],
    ['tiktok-.com', [], /not a valid domain name/],
    ['tik tok.com', [], /one name per line/],
    ['tik!tok.com', [], /not a valid domain name/],
    ['a..com', [], /not a valid domain name/],
    ['.tiktok.com', [], /not a valid domain name/],
    ['tiktok.com..', [], /not a valid domain name/],
    [`${'x'.repeat(64)}.com`, [], /not a valid domain name/],
    [`${'abcdefghi.'.repeat(26)}com`, [], /not a valid domain name/],
    ['1.2.3.4', [], /not a valid domain name/],
    ['2001:db8::1', [], /not a valid domain name/],
    ['https://tiktok.com/', [], /not a valid domain name/],
    ['bü cher.example', [], /one name per line/],
    ['xn--.example', [], /not a valid domain name/],
    ['xn--ü.example', [], /not a valid internationalised domain name/],
    ['ü/.example', [], /not a valid domain name/],
    ['ü%41.example', [], /not a valid domain name/],
    ['BÜCHER.example', ['xn--bcher-kva.example'], null],
  ]
  for (const [line, names, problem] of cases) {
    const result = parseDomainList(`${line}\n`, 'tiktok.txt')
    t.same(result.names, names, `${JSON.stringify(line)}: names`)
    if (problem === null) {
      t.same(result.problems, [], `${JSON.stringify(line)}: no problem`)
    } else {
      t.equal(result.problems.length, 1, `${JSON.stringify(line)}: one problem`)
      t.match(result.problems[0], { file: 'tiktok.txt', line: 1, text: line, message: problem }, `${JSON.stringify(line)}: problem`)
    }
  }
})

t.test('domain list: a bad line is reported and the rest of the file still parses', async (t) => {
  const text = '\ufeff# header\r\ntiktok.com\r\n\r\n||bad^$important\r\n0.0.0.0 a.example b..example c.example\r\ntelegram.org\r\ncom'
  const { names, problems } = parseDomainList(text, 'blocklists/mixed.txt')
  t.same(names, ['tiktok.com', 'a.example', 'c.example', 'telegram.org'], 'byte-order mark and CRLF are harmless')
  t.same(problems.map((p) => [p.line, p.text]), [
    [4, '||bad^$important'],
    [5, '0.0.0.0 a.example b..example c.example'],
    [7, 'com'],
  ])
  t.ok(problems.every((p) => p.file === 'blocklists/mixed.txt'))
  t.same(parseDomainList('', 'empty.txt'), { names: [], problems: [] })
})

t.test('CIDR list', async (t) => {
  const text = [
    '# Telegram', '91.108.4.0/22', '2001:67c:4e8::/48  # trailing comment', '', '10.1.2.3/8', '192.0.2.1',
    '91.108.0.0/33', 'not-a-cidr', '010.0.0.0/8', '2001:db8::/129', '  # 95.161.64.0/20',
  ].join('\n')
  const { cidrs, problems } = parseCidrList(text, 'telegram.cidrs.txt')
  t.same(cidrs, ['91.108.4.0/22', '2001:67c:4e8::/48', '10.1.2.3/8', '192.0.2.1'], 'kept as written; host bits and bare addresses accepted')
  t.same(problems.map((p) => [p.line, p.text]), [[7, '91.108.0.0/33'], [8, 'not-a-cidr'], [9, '010.0.0.0/8'], [10, '2001:db8::/129']])
  t.match(problems[0], { file: 'telegram.cidrs.txt', message: /not a CIDR/ })
})

t.test('isValidDomainName', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['tiktok.com', true],
    ['TikTok.Com', true],
    ['com', true], // valid as a name; refusing a TLD as a list entry is the parser's rule
    ['a-b.c_d.example', true],
    ['xn--bcher-kva.example', true],
    [`${'x'.repeat(63)}.com`, true],
    [`${'x'.repeat(64)}.com`, false],
    [`${'abcdefghi.'.repeat(25)}com`, true],
    [`${'abcdefghi.'.repeat(25)}coms`, false],
    ['', false],
    ['.', false],
    ['tiktok.com.', false],
    ['-a.com', false],
    ['a-.com', false],
    ['a b.com', false],
    ['bücher.example', false],
    ['192.0.2.1', false],
    ['example.123', false],
    ['123.example', true],
  ]
  for (const [name, valid] of cases) t.equal(isValidDomainName(name), valid, JSON.stringify(name))
})

t.test('plain lines take a fast path that gives exactly the general result', async (t) => {
  // A leading space keeps a line off the fast path (the general path trims it), so it is the oracle.
  const l63 = 'a'.repeat(63)
  const cases = [
    'tiktok.com', 'a.b', 'x_y.example', '_dns.resolver.arpa', 'a-b.c-d.e', '1.2.3.4', '10.0.0.com', 'a.123',
    `${l63}.com`, `${l63}a.com`, '-a.com', 'a-.com', 'a..com', '.a.com', 'a.com.', 'com',
    `${Array.from({ length: 4 }, () => l63).join('.')}.com`, `${Array.from({ length: 3 }, () => l63).join('.')}.${'b'.repeat(61)}`,
  ]
  let seed = 3
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n)
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_.'
  for (let i = 0; i < 3000; i++) {
    let s = ''
    const len = 1 + rnd(40)
    for (let j = 0; j < len; j++) s += alphabet[rnd(alphabet.length)]
    cases.push(s)
  }
  const fast = parseDomainList(cases.join('\n'), 'x.txt')
  const general = parseDomainList(cases.map((c) => ` ${c}`).join('\n'), 'x.txt')
  t.same(fast.names, general.names)
  t.same(fast.problems.map((p) => [p.line, p.message]), general.problems.map((p) => [p.line, p.message]))
  t.ok(fast.names.length > 100 && fast.problems.length > 100, 'both valid and invalid lines were exercised')
})
