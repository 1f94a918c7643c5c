/**
 * The lists in blocklists/ are code: every file must parse cleanly with the
 * real parser, block what the project promises, and never block the shared
 * infrastructure that SOURCES.md flags as collateral risk.
 */
import t from 'tap'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DomainTrie } from '../../src/lists/domain-trie.js'
import { IpRangeSet } from '../../src/lists/ip-ranges.js'
import { readListFolder } from '../../src/lists/load-lists.js'

const dir = fileURLToPath(new URL('../../blocklists/', import.meta.url))
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()
// The gateway's own reader: <category>.txt and <category>.<part>.txt hold names,
// <category>.cidrs.txt holds ranges, allow.txt is the allow list (category "allow" here).
const folder = await readListFolder(dir)
const { problems, cidrs } = folder
const domains = new Map([...folder.domains, ['allow', folder.allow]])
const trie = (category: string): DomainTrie => DomainTrie.build(domains.get(category) ?? [])
const categories = ['doh-bypass', 'telegram', 'tiktok']
const blocking = categories.map((c) => [c, trie(c)] as const)
const blockedBy = (name: string): string[] => blocking.filter(([, tr]) => tr.match(name) >= 0).map(([c]) => c)

t.test('every file parses without a problem, and only known kinds of file exist', async (t) => {
  t.same(problems, [])
  for (const expected of ['allow.txt', 'doh-bypass.txt', 'telegram.cidrs.txt', 'telegram.txt', 'tiktok.txt', 'tiktok.cname.txt']) {
    t.ok(files.includes(expected), `${expected} exists`)
  }
  // allow.txt, or <category>.txt / <category>.cidrs.txt / <category>.<part>.txt of a known category.
  const unknown = files.filter((f) => f !== 'allow.txt' && !categories.includes(f.split('.')[0]))
  t.same(unknown, [], 'a new category is a deliberate change: add it to this test')
  const others = readdirSync(dir).filter((f) => !f.endsWith('.txt') && f !== 'README.md' && f !== 'exemptions.yaml')
  t.same(others, [], 'nothing else lives beside the lists')
})

t.test('each category has entries, none duplicated or covered by another entry', async (t) => {
  const minimum: Record<string, number> = { 'tiktok': 85 + 142, 'telegram': 22, 'doh-bypass': 64 }
  for (const c of categories) {
    const names = domains.get(c) ?? []
    t.ok(names.length >= minimum[c], `${c}: ${names.length} names`)
    t.equal(trie(c).size, names.length, `${c}: every line adds something`)
  }
  t.equal(IpRangeSet.fromCidrs(cidrs.get('telegram') ?? []).size, 14, 'telegram: 9 IPv4 + 5 IPv6 ranges')
})

t.test('promised names are blocked, in the right category', async (t) => {
  const cases: Array<[name: string, category: string]> = [
    ['tiktok.com', 'tiktok'],
    ['www.tiktok.com', 'tiktok'],
    ['a.b.c.d.tiktok.com', 'tiktok'],
    ['TikTok.COM', 'tiktok'],
    ['api16-normal-c-useast1a.tiktokv.com', 'tiktok'],
    ['p16-sign-va.tiktokcdn.com', 'tiktok'],
    ['p16-tiktokcdn-com.akamaized.net', 'tiktok'],
    // From tiktok.cname.txt: CNAME targets belong to the same category.
    ['tiktokv.com.edgekey.net', 'tiktok'],
    ['x.tiktok.com.ttdns2.com', 'tiktok'],
    ['bytedance.map.fastly.net', 'tiktok'],
    ['tiktokcdn.com.tlivepush.com', 'tiktok'],
    ['telegram.org', 'telegram'],
    ['api.telegram.org', 'telegram'],
    ['Web.Telegram.ORG', 'telegram'],
    ['t.me', 'telegram'],
    ['apv3.stel.com', 'telegram'],
    ['use-application-dns.net', 'doh-bypass'],
    ['x.use-application-dns.net', 'doh-bypass'],
    ['mask.icloud.com', 'doh-bypass'],
    ['mask-h2.icloud.com', 'doh-bypass'],
    ['dns.google', 'doh-bypass'],
    ['mozilla.cloudflare-dns.com', 'doh-bypass'],
  ]
  for (const [name, category] of cases) t.same(blockedBy(name.toLowerCase()), [category], name)
})

t.test('lookalikes and collateral-risk names are not blocked', async (t) => {
  const names = [
    'xtiktok.com', 'tiktok.com.example.org', 'tiktok.co', 'nottelegram.org', 'telegram.org.example.net', 'tme.no',
    'application-dns.net', 'xuse-application-dns.net',
    // SOURCES.md "RISKY / COLLATERAL": CDN and cloud zones, and their shared children.
    'akamaized.net', 'a1.akamaized.net', 'edgesuite.net', 'edgekey.net', 'www.example.com.edgekey.net', 'akadns.net',
    'akamaihd.net', 'fastly.net', 'map.fastly.net', 'cloudflare.net', 'cdn.cloudflare.net', 'footprint.net',
    'myqcloud.com', 'liveplay.myqcloud.com', 'worldfcdn.com', 'worldfcdn2.com', 'wsdvs.com', 'kunlunca.com',
    'bsgslb.com', 'cdngslb.com', 'swiftserve.com', 'mncdn.com', 'cdnvideo.ru', 'cloudfront.net',
    'd1234.cloudfront.net', 'elb.amazonaws.com', 'apps.googleusercontent.com', 'cdntip.com', 'cloudglb.com',
    'tlivecdn.com', 'tlivepush.com', 'ttdns2.com', 'ttdns3.com', 'ttdns4.com', 'larksuite.com.ttdns2.com',
    'bytefcdn-oversea.com', 'bytefcdn-ttpeu.com', 'bytetcdn.com', 'byteigtm.com', 'bpgslb.com', 'bytedns.net', 'bdgslb.com',
    'app-measurement.com', 'alog.umeng.com', 'umeng.com', 'web.app', 'app.link', 'appsflyersdk.com',
    'googleapis.com', 'firebaseremoteconfig.googleapis.com', 'firestore.googleapis.com', 'www.google.com', 'google.com',
    'icloud.com', 'www.icloud.com', 'switch.ch', 'iij.jp', 'cleanbrowsing.org', 'alidns.com', 'commons.host', 'comss.ru',
    'bytedance.com', 'www.bytedance.com', 'capcut.com', 'ton.org', 'toncenter.com', 'larksuite.com',
  ]
  for (const name of names) t.same(blockedBy(name), [], name)
})

t.test('the allow list does not unblock the core names', async (t) => {
  const allow = trie('allow')
  for (const name of ['tiktok.com', 'www.tiktok.com', 'telegram.org', 't.me', 'use-application-dns.net', 'mask.icloud.com']) {
    t.equal(allow.match(name), -1, name)
  }
})

t.test('telegram IP ranges', async (t) => {
  const ranges = IpRangeSet.fromCidrs(cidrs.get('telegram') ?? [])
  const cases: Array<[string, string | null]> = [
    ['149.154.167.50', '149.154.160.0/20'],
    ['91.108.56.100', '91.108.56.0/22'],
    ['2001:67c:4e8::1', '2001:67c:4e8::/48'],
    ['2001:b28:f23d:f001::a', '2001:b28:f23d::/48'],
    ['2a0a:f280:203::1', '2a0a:f280::/32'],
    ['91.109.0.1', null],
    ['91.108.0.1', null], // inside the over-broad 91.108.0.0/16 some lists use, outside Telegram's ranges
    ['95.161.64.1', null], // the ASN-derived prefix is commented out on purpose
    ['149.154.176.1', null],
    ['8.8.8.8', null],
    ['2001:67c:4e9::1', null],
  ]
  for (const [address, expected] of cases) t.equal(ranges.containsAddress(address), expected, address)
  t.same(cidrs.get('tiktok') ?? [], [], 'no TikTok IP ranges are shipped')
})
