/**
 * lint-lists: every check fires on a bad folder and stays quiet on a good
 * one; the shrink check runs against a real git repository; the shipped
 * blocklists/ lint without an error.
 */
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { isDnsvaktError } from '../../src/errors.js'
import { DomainTrie } from '../../src/lists/domain-trie.js'
import { IpRangeSet } from '../../src/lists/ip-ranges.js'
import { classifyListFile, type Finding, lintLists, type LintListsResult } from '../../src/list-lint/lint-lists.js'
import { COLLATERAL_NAMES, collateralFor } from '../../src/list-lint/collateral-risk.js'
import { isValidDomainName, parseCidrList, parseDomainList } from '../../src/lists/parse-list-file.js'
import { runLintLists } from '../../src/commands/lint-lists-command.js'
import { classifyListFile as loaderClassify } from '../../src/lists/list-files.js'
import { loadLists } from '../../src/lists/load-lists.js'

const SHIPPED = fileURLToPath(new URL('../../blocklists/', import.meta.url))

/** A fresh list folder holding `files`, removed after the test. */
function folder(t: Test, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-lint-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

/** "file:line code" per finding, for compact comparisons. */
const brief = (findings: Finding[]): string[] => findings.map((f) => `${f.file}:${f.line} ${f.code}`)
const only = (findings: Finding[], code: string): Finding[] => findings.filter((f) => f.code === code)
const lines = (...names: string[]): string => `${names.join('\n')}\n`

/** A good folder: every check quiet. */
const GOOD = {
  'tiktok.txt': lines('# TikTok', 'tiktok.com', 'tiktokv.com', 'tiktokv.com.edgekey.net', 'p16-tiktokcdn-com.akamaized.net', 'bytedance.map.fastly.net'),
  'telegram.txt': lines('telegram.org', 't.me', 'apv3.stel.com'),
  'telegram.cidrs.txt': lines('91.108.4.0/22', '149.154.160.0/20', '2001:67c:4e8::/48'),
  'doh-bypass.txt': lines('use-application-dns.net', 'mask.icloud.com', 'dns.switch.ch', 'dns.google'),
  'allow.txt': lines('# carve-out below a blocked name: intended, not a warning', 'help.tiktok.com', 'google.com', 'www.example.org'),
  'README.md': '# not a list\n',
  'exemptions.yaml': 'exemptions: []\n',
}

class Sink extends Writable {
  text = ''
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

async function command(args: string[]): Promise<{ code: number; text: string }> {
  const out = new Sink()
  const code = await runLintLists(args, out)
  return { code, text: out.text }
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim()
}

t.test('a good folder lints clean', async (t) => {
  const dir = folder(t, GOOD)
  const r = await lintLists({ dir })
  t.same(r.errors, [])
  t.same(r.warnings, [])
  t.same(r.counts, { 'doh-bypass': 4, telegram: 6, tiktok: 5 })
})

t.test('invalid lines: the parsers\' problems, with the line they are on', async (t) => {
  const dir = folder(t, {
    // BOM and CRLF: line numbers still count from 1, every line.
    'tiktok.txt': '\ufefftiktok.com\r\n# comment\r\ncom\r\n||x.example^$important\r\n1.2.3.4 redirect.example\r\n0.0.0.0 a.example b.example\r\ntwo names.example\r\n',
    'telegram.cidrs.txt': lines('149.154.160.0/20', '010.0.0.1', '10.0.0.0/33'),
    'allow.txt': lines('ok.example', 'a*.example'),
  })
  const r = await lintLists({ dir })
  t.same(brief(r.errors), [
    'allow.txt:2 invalid',
    'telegram.cidrs.txt:2 invalid', 'telegram.cidrs.txt:3 invalid',
    'tiktok.txt:3 invalid', 'tiktok.txt:4 invalid', 'tiktok.txt:5 invalid', 'tiktok.txt:7 invalid',
  ])
  t.match(r.errors.find((f) => f.file === 'tiktok.txt' && f.line === 3)?.message, /single label.*\(com\)$/)
  t.match(r.errors.find((f) => f.line === 4)?.message, /modifiers/)
  t.same(r.warnings, [])
  t.same(r.counts, { telegram: 1, tiktok: 3 }, 'entries from good lines, including both hosts-line names')
})

t.test('parsing line by line gives exactly the whole-file parse', async (t) => {
  const tricky = '\ufeffa.example\r\n0.0.0.0 b.example c.example # x\n||d.example^\n*.e.example.\nbad name\n\n! comment\n[Adblock Plus 2.0]\nbücher.example\n'
  const dir = folder(t, { 'x.txt': tricky, 'x.cidrs.txt': '10.0.0.0/8\r\n#c\nbad\n::1\n' })
  const r = await lintLists({ dir })
  t.equal(r.counts.x, parseDomainList(tricky, 'x.txt').names.length + 2)
  t.equal(r.errors.length, parseDomainList(tricky, 'x.txt').problems.length + 1)
  for (const file of readdirSync(SHIPPED).filter((f) => f.endsWith('.txt') && f !== 'allow.txt')) {
    const text = readFileSync(join(SHIPPED, file), 'utf8')
    const whole = file.endsWith('.cidrs.txt') ? parseCidrList(text, file).cidrs.length : parseDomainList(text, file).names.length
    const one = await lintLists({ dir: folder(t, { [file]: text }) })
    t.equal(Object.values(one.counts)[0], whole, file)
  }
})

t.test('collateral-risk names: listed, or a parent of one, is an error; names below them are fine', async (t) => {
  const named = [
    'akamaized.net', 'edgekey.net', 'edgesuite.net', 'akadns.net', 'akamaihd.net', 'fastly.net', 'cloudflare.net', 'footprint.net',
    'myqcloud.com', 'cloudfront.net', 'amazonaws.com', 'googleapis.com', 'googleusercontent.com', 'app-measurement.com',
    'alog.umeng.com', 'icloud.com', 'apple.com', 'google.com', 'microsoft.com', 'tlivecdn.com', 'ttdns2.com', 'ttdns3.com',
    'ttdns4.com', 'bytefcdn-oversea.com', 'bytedns.net', 'web.app', 'bytedance.com',
    // from SOURCES.md beyond the brief's list, and public suffixes
    'worldfcdn2.com', 'kunlunca.com', 'www.google.com', 'switch.ch', 'ton.org', 'co.uk', 'kommune.no', 'github.io',
  ]
  for (const name of named) t.match(collateralFor(name), new RegExp(`^${name.replace(/\./g, '\\.')} must never be listed: .{20,}`), name)
  t.match(collateralFor('umeng.com'), /^umeng\.com covers alog\.umeng\.com, which must never be blocked: .*Umeng/)
  t.match(collateralFor('umeng.com'), /SOURCES\.md/, 'the reason names its source')
  t.match(collateralFor('fastly.net'), /must never be listed/, 'a name that is also a parent is reported as itself')
  const fine = [
    'tiktokv.com.edgekey.net', 'p16-tiktokcdn-com.akamaized.net', 'bytedance.map.fastly.net', 'tiktokcdn.liveplay.myqcloud.com',
    'tiktok.com.ttdns2.com', 'mask.icloud.com', 'dns.switch.ch', 'dns.alidns.com', 'www.kommune.example', 'bbc.co.uk',
    'tiktok.com', 'example.org', 'umeng.example',
  ]
  for (const name of fine) t.equal(collateralFor(name), null, name)

  const dir = folder(t, {
    'tiktok.txt': lines('tiktok.com', 'amazonaws.com', 'umeng.com', 'tiktokv.com.edgekey.net', 'co.uk', '*.cloudfront.net', 'bbc.co.uk'),
    'telegram.cidrs.txt': lines('91.108.0.0/16', '91.0.0.0/8', '91.108.4.0/22', '149.154.160.0/20'),
    // The allow list never blocks anything: collateral names belong there if anywhere.
    'allow.txt': lines('google.com', 'amazonaws.com'),
  })
  const r = await lintLists({ dir })
  t.same(brief(r.errors), [
    'telegram.cidrs.txt:1 collateral', 'telegram.cidrs.txt:2 collateral',
    'tiktok.txt:2 collateral', 'tiktok.txt:3 collateral', 'tiktok.txt:5 collateral', 'tiktok.txt:6 collateral',
  ])
  t.match(r.errors[1].message, /91\.0\.0\.0\/8 covers 91\.108\.0\.0\/16, which is collateral risk: .*wider than Telegram/)
})

t.test('the collateral table is well-formed', async (t) => {
  const names = COLLATERAL_NAMES.map((c) => c.name)
  t.equal(new Set(names).size, names.length, 'no name twice')
  for (const c of COLLATERAL_NAMES) {
    t.ok(isValidDomainName(c.name) && c.name.includes('.') && c.name === c.name.toLowerCase(), `${c.name} is a list-form name`)
    t.ok(c.reason.length > 20, `${c.name} has a reason`)
  }
  // Public suffixes are checked against the Public Suffix List where the system has a copy.
  const psl = '/usr/share/publicsuffix/public_suffix_list.dat'
  if (!existsSync(psl)) {
    t.comment(`${psl} not installed: public suffixes not cross-checked`)
    return
  }
  const suffixes = new Set(readFileSync(psl, 'utf8').split('\n').map((l) => l.trim()))
  for (const c of COLLATERAL_NAMES.filter((x) => /^a public suffix|: a public suffix/.test(x.reason))) {
    t.ok(suffixes.has(c.name), `${c.name} is on the Public Suffix List`)
  }
})

t.test('duplicates within a category, with both line numbers', async (t) => {
  const dir = folder(t, {
    'tiktok.txt': lines('tiktok.com', 'tiktokv.com', 'TikTok.COM.', '0.0.0.0 a.example tiktokv.com'),
    'tiktok.extra.txt': lines('# more', 'tiktok.com'),
    'tiktok.cidrs.txt': lines('10.0.0.0/8', '10.1.2.3/8'),
    'allow.txt': lines('keep.example', '*.keep.example'),
    // the same name in another category is an overlap, not a duplicate
    'telegram.txt': lines('telegram.org', 'b.example'),
    'doh-bypass.txt': lines('b.example'),
  })
  const r = await lintLists({ dir })
  t.same(r.errors, [])
  // Files are read in sorted order, as the gateway reads them: tiktok.extra.txt before tiktok.txt.
  t.same(brief(only(r.warnings, 'duplicate')), [
    'allow.txt:2 duplicate', 'tiktok.cidrs.txt:2 duplicate', 'tiktok.txt:1 duplicate', 'tiktok.txt:3 duplicate', 'tiktok.txt:4 duplicate',
  ])
  const at = (file: string, line: number): string => only(r.warnings, 'duplicate').find((f) => f.file === file && f.line === line)!.message
  t.match(at('tiktok.txt', 1), /tiktok\.com is listed twice in category "tiktok": tiktok\.extra\.txt:2 and tiktok\.txt:1/)
  t.match(at('tiktok.txt', 3), /tiktok\.com is listed twice in category "tiktok": tiktok\.extra\.txt:2 and tiktok\.txt:3/)
  t.match(at('tiktok.txt', 4), /tiktokv\.com .*tiktok\.txt:2 and tiktok\.txt:4/)
  t.match(at('tiktok.cidrs.txt', 2), /tiktok\.cidrs\.txt:1 \(as 10\.0\.0\.0\/8\) and tiktok\.cidrs\.txt:2/)
  t.match(at('allow.txt', 2), /the allow list: allow\.txt:1 and allow\.txt:2/)
  t.same(brief(only(r.warnings, 'redundant')), [], 'a duplicate is not also "redundant"')
})

t.test('redundant: covered by a shorter entry of the same category', async (t) => {
  const dir = folder(t, {
    'tiktok.txt': lines('www.tiktok.com', 'tiktok.com', 'a.b.tiktokv.com', 'tiktokv.com', 'xtiktok.com', 'tiktok.com.example.org'),
    'telegram.cidrs.txt': lines('149.154.167.0/24', '149.154.160.0/20', '2001:67c:4e8:1::/64', '2001:67c:4e8::/48', '149.154.176.0/20'),
    'allow.txt': lines('a.example', 'x.a.example'),
  })
  const r = await lintLists({ dir })
  t.same(r.errors, [])
  t.same(brief(r.warnings), [
    'allow.txt:2 redundant', 'telegram.cidrs.txt:1 redundant', 'telegram.cidrs.txt:3 redundant', 'tiktok.txt:1 redundant', 'tiktok.txt:3 redundant',
  ])
  t.match(r.warnings[3].message, /www\.tiktok\.com is already covered by tiktok\.com \(tiktok\.txt:2\) in category "tiktok"/)
  t.match(r.warnings[1].message, /149\.154\.167\.0\/24 lies inside 149\.154\.160\.0\/20 \(telegram\.cidrs\.txt:2\)/)
})

t.test('shadowed: the allow list covers a category entry, so it never blocks', async (t) => {
  const dir = folder(t, {
    'tiktok.txt': lines('tiktok.com', 'pstatp.com', 'a.bytedance.example'),
    'allow.txt': lines('tiktok.com', 's3.pstatp.com', 'bytedance.example'),
  })
  const r = await lintLists({ dir })
  t.same(r.errors, [])
  t.same(brief(r.warnings), ['tiktok.txt:1 shadowed', 'tiktok.txt:3 shadowed'], 'an allow entry below a blocked name is a carve-out, not a warning')
  t.match(r.warnings[1].message, /a\.bytedance\.example never blocks: the allow list entry bytedance\.example \(allow\.txt:3\) covers it/)
})

t.test('overlaps between categories: the same name, or one covering the other', async (t) => {
  const dir = folder(t, {
    'tiktok.txt': lines('shared.example', 'wide.example', 'tiktok.com'),
    'telegram.txt': lines('shared.example', 'narrow.wide.example', 'telegram.org'),
    'doh-bypass.txt': lines('dns.google', 'x.tiktok.example'),
    'telegram.cidrs.txt': lines('10.0.0.0/8', '192.0.2.0/24'),
    'doh-bypass.cidrs.txt': lines('10.1.0.0/16', '192.0.2.0/24', '198.51.100.0/24'),
  })
  const r = await lintLists({ dir })
  t.same(r.errors, [])
  t.same(brief(r.warnings), [
    'doh-bypass.cidrs.txt:1 overlap', 'telegram.cidrs.txt:2 overlap', 'telegram.txt:2 overlap', 'tiktok.txt:1 overlap',
  ], 'each pair once: at the narrower entry, or at the later category when equal')
  const msg = (file: string): string => r.warnings.find((f) => f.file === file)!.message
  t.match(msg('telegram.txt'), /narrow\.wide\.example \(category "telegram"\) is also blocked by category "tiktok": wide\.example \(tiktok\.txt:2\) covers it/)
  t.match(msg('tiktok.txt'), /shared\.example is in categories "telegram" \(telegram\.txt:1\) and "tiktok"/)
  t.match(msg('doh-bypass.cidrs.txt'), /10\.1\.0\.0\/16 \(category "doh-bypass"\) lies inside 10\.0\.0\.0\/8 of category "telegram"/)
  t.match(msg('telegram.cidrs.txt'), /192\.0\.2\.0\/24 is in categories "doh-bypass" \(doh-bypass\.cidrs\.txt:2\) and "telegram"/)
})

t.test('file names: the gateway\'s own rules', async (t) => {
  const dir = folder(t, {
    'tiktok.txt': lines('tiktok.com'),
    'TikTok.txt': lines('a.example'),
    'tiktok.extra.part.txt': lines('b.example'),
    'allow.extra.txt': lines('c.example'),
    'empty.txt': lines('# nothing yet'),
    'notes.md': 'ignored quietly\n',
  })
  const r = await lintLists({ dir })
  t.same(brief(r.errors), ['allow.extra.txt:0 allow-category'])
  t.match(r.errors[0].message, /only allow\.txt is the allow list/)
  t.same(brief(r.warnings), ['TikTok.txt:0 ignored-file', 'empty.txt:0 empty', 'tiktok.extra.part.txt:0 ignored-file'])
  t.same(r.counts, { allow: 1, empty: 0, tiktok: 1 })

  t.same(brief((await lintLists({ dir: folder(t, { 'README.md': '#\n' }) })).errors), ['.:0 no-lists'])
  const many: Record<string, string> = {}
  for (let i = 0; i < 31; i++) many[`c${i}.txt`] = lines(`c${i}.example`)
  t.same(brief((await lintLists({ dir: folder(t, many) })).errors), ['.:0 too-many-categories'])
  const unreadable = folder(t, { 'tiktok.txt': lines('tiktok.com') })
  mkdirSync(join(unreadable, 'dir.txt'))
  t.same(brief((await lintLists({ dir: unreadable })).errors), ['dir.txt:0 unreadable'])
  await t.rejects(lintLists({ dir: join(unreadable, 'missing') }), { code: 'DNSVAKT_ERR_BLOCKLIST' })
  await t.rejects(lintLists({ dir: unreadable, maxShrinkPercent: 101 }), { code: 'DNSVAKT_ERR_BLOCKLIST' })
})

t.test('lint reads the folder as the gateway does', async (t) => {
  // lint-lists reads through the loader's own reader: one classifier, not a copy (allow.txt / cidrs special cases included).
  t.equal(classifyListFile, loaderClassify, 'and the same allow.txt / cidrs special cases')
  const cases: Array<[file: string, expected: ReturnType<typeof classifyListFile>]> = [
    ['tiktok.txt', { kind: 'domains', category: 'tiktok' }],
    ['tiktok.extra.txt', { kind: 'domains', category: 'tiktok' }],
    ['tiktok.cidrs.txt', { kind: 'cidrs', category: 'tiktok' }],
    ['doh-bypass.txt', { kind: 'domains', category: 'doh-bypass' }],
    ['ok-1.part-2.txt', { kind: 'domains', category: 'ok-1' }],
    ['allow.txt', { kind: 'allow', category: null }],
    ['allow.extra.txt', { kind: 'domains', category: 'allow' }],
    ['TikTok.txt', null], ['a.b.c.txt', null], ['x_y.txt', null], ['-bad.txt', null], ['notes.md', null], ['exemptions.yaml', null],
  ]
  for (const [file, expected] of cases) t.same(classifyListFile(file), expected, file)

  // What the gateway keeps (its trie and range set sizes) is what lint counts, less the lines lint says add nothing.
  const files: Record<string, string> = {
    'tiktok.txt': lines('tiktok.com', 'www.tiktok.com', 'tiktok.com', 'tiktokv.com'),
    'tiktok.extra.txt': lines('tiktokv.com', 'a.example'),
    'tiktok.cidrs.txt': lines('10.0.0.0/8', '10.1.0.0/16', '10.2.3.4/8', '192.0.2.0/24'),
  }
  const r = await lintLists({ dir: folder(t, files) })
  const names = Object.entries(files).filter(([f]) => !f.includes('cidrs')).flatMap(([f, text]) => parseDomainList(text, f).names)
  const kept = DomainTrie.build(names).size + IpRangeSet.fromCidrs(parseCidrList(files['tiktok.cidrs.txt'], 'x').cidrs).size
  const dropped = r.warnings.filter((f) => f.code === 'duplicate' || f.code === 'redundant').length
  t.equal(dropped, 5, 'the fixture really has lines that add nothing')
  t.equal(kept, r.counts.tiktok - dropped)
})

t.test('shrink against a git revision (a real repository, two commits)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-lint-git-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const dir = join(root, 'blocklists') // a sub-folder, as in the gateway repository
  mkdirSync(dir)
  const names = (prefix: string, n: number): string => lines(...Array.from({ length: n }, (_, i) => `${prefix}${i}.example`))
  const write = (file: string, text: string): void => writeFileSync(join(dir, file), text)
  git(root, 'init', '-q')
  write('tiktok.txt', names('t', 10))
  write('telegram.txt', names('g', 5))
  write('telegram.cidrs.txt', lines('149.154.160.0/20', '91.108.4.0/22'))
  write('doh-bypass.txt', names('d', 4))
  write('gone.txt', names('x', 3))
  write('README.md', '# lists\n')
  git(root, 'add', '-A')
  git(root, 'commit', '-q', '-m', 'first')
  // Second commit: tiktok loses 3 of 10 (30 %), telegram loses its ranges, gone.txt is deleted,
  // doh-bypass gains a new part file, new.txt is a new category.
  write('tiktok.txt', names('t', 7))
  write('telegram.cidrs.txt', lines('# moved to the firewall'))
  unlinkSync(join(dir, 'gone.txt'))
  write('doh-bypass.extra.txt', names('e', 2))
  write('new.txt', names('n', 1))
  git(root, 'add', '-A')
  git(root, 'commit', '-q', '-m', 'second')

  const r = await lintLists({ dir, against: 'HEAD~1' })
  t.same(brief(r.errors), ['gone.txt:0 emptied', 'telegram.txt:0 emptied', 'tiktok.txt:0 shrink'])
  t.match(r.errors[2].message, /category "tiktok" shrank by 30\.0% \(10 -> 7 entries since HEAD~1\); at most 20% is allowed/)
  t.match(r.errors[0].message, /category "gone" disappeared \(gone\.txt at HEAD~1\)/)
  t.match(r.errors[1].message, /category "telegram" lost all its IP ranges \(2 at HEAD~1\)/)
  t.same(brief(r.warnings), ['new.txt:0 new-category'], 'a part file missing at the revision is fine; a new category is pointed out')
  t.same(r.counts, { 'doh-bypass': 6, new: 1, telegram: 5, tiktok: 7 })

  const relaxed = await lintLists({ dir, against: 'HEAD~1', maxShrinkPercent: 30 })
  t.same(brief(relaxed.errors), ['gone.txt:0 emptied', 'telegram.txt:0 emptied'], 'exactly the limit is allowed')
  t.same((await lintLists({ dir, against: 'HEAD' })).errors, [], 'no change against the commit just made')
  t.same((await lintLists({ dir })).errors, [], 'no revision: no shrink check')

  // An uncommitted shrink of the working tree is seen against HEAD (the pre-commit case).
  write('doh-bypass.txt', names('d', 1))
  const staged = await lintLists({ dir, against: 'HEAD' })
  t.same(brief(staged.errors), ['doh-bypass.txt:0 shrink'], 'reported at <category>.txt, not at the part file that sorts first')
  t.match(staged.errors[0].message, /6 -> 3 entries/)

  await t.rejects(lintLists({ dir, against: 'no-such-branch' }), { code: 'DNSVAKT_ERR_GIT', message: /not a commit/ })
  const evil = join(root, 'evil')
  await t.rejects(lintLists({ dir, against: `--output=${evil}` }), { code: 'DNSVAKT_ERR_GIT' })
  t.notOk(existsSync(evil), 'a revision is never taken for an option')
  const notGit = await lintLists({ dir: folder(t, GOOD), against: 'HEAD' }).catch((e: unknown) => e)
  t.ok(isDnsvaktError(notGit, 'DNSVAKT_ERR_GIT'), 'a folder outside git cannot be compared')
})

t.test('command: output, summary and exit codes', async (t) => {
  const good = await command([folder(t, GOOD)])
  t.equal(good.code, 0)
  t.match(good.text, /^lint-lists .*: 0 errors, 0 warnings; entries: doh-bypass 4, telegram 6, tiktok 5\n$/)

  const dir = folder(t, { 'tiktok.txt': lines('tiktok.com', 'www.tiktok.com', 'fastly.net'), 'allow.txt': '' })
  const bad = await command([dir, '--max-shrink', '50'])
  t.equal(bad.code, 1)
  t.same(bad.text.trimEnd().split('\n'), [
    `${join(dir, 'tiktok.txt')}:2: warning [redundant] www.tiktok.com is already covered by tiktok.com (tiktok.txt:1) in category "tiktok": this line adds nothing`,
    `${join(dir, 'tiktok.txt')}:3: error [collateral] fastly.net must never be listed: ${COLLATERAL_NAMES.find((c) => c.name === 'fastly.net')!.reason}`,
    `lint-lists ${dir}: 1 error, 1 warning; entries: tiktok 3`,
  ])
  const warnOnly = await command([folder(t, { 'tiktok.txt': lines('a.example', 'a.example') })])
  t.equal(warnOnly.code, 0, 'warnings alone pass')
  t.match(warnOnly.text, /:2: warning \[duplicate\] /)

  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-lint-cmd-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  writeFileSync(join(root, 'tiktok.txt'), lines('a.example', 'b.example', 'c.example', 'd.example'))
  git(root, 'init', '-q')
  git(root, 'add', '-A')
  git(root, 'commit', '-q', '-m', 'first')
  writeFileSync(join(root, 'tiktok.txt'), lines('a.example', 'b.example', 'c.example'))
  t.equal((await command([root, '--against', 'HEAD'])).code, 1, '25% > 20% by default')
  const ok = await command([root, '--against=HEAD', '--max-shrink=25%'])
  t.equal(ok.code, 0)
  t.match(ok.text, /; compared with HEAD \(max shrink 25%\)\n$/)

  for (const args of [[], [root, root], [root, '--against'], [root, '--max-shrink', 'x'], [root, '--max-shrink', '101'],
    [root, '--bogus'], [root, '--against', '--max-shrink', '5'], ['/nonexistent/dnsvakt-lists'], [root, '--against', 'nope']]) {
    const r = await command(args)
    t.equal(r.code, 2, `usage: ${JSON.stringify(args)}`)
    t.match(r.text, /^lint-lists: /)
  }
})

t.test('the shipped blocklists/ lint without an error', async (t) => {
  const r: LintListsResult = await lintLists({ dir: SHIPPED })
  t.same(r.errors, [], 'no errors')
  t.ok(r.counts.tiktok > 200 && r.counts.telegram > 20 && r.counts['doh-bypass'] > 60, JSON.stringify(r.counts))
  t.comment(`shipped lists: ${r.warnings.length} warning(s)${r.warnings.map((f) => `\n  ${f.file}:${f.line}: [${f.code}] ${f.message}`).join('')}`)
})

t.test('exemptions.yaml is checked exactly as a reload checks it', async (t) => {
  const NOW = Date.UTC(2026, 0, 15)
  const cases: Array<[what: string, yaml: string]> = [
    ['no expires', 'exemptions:\n  - {id: RA-1, client: 10.0.0.1, categories: [telegram], reason: r, approvedBy: a}\n'],
    ['too far ahead', 'exemptions:\n  - {id: RA-1, client: 10.0.0.1, categories: [telegram], reason: r, approvedBy: a, expires: 2029-01-01}\n'],
    ['unknown category', 'exemptions:\n  - {id: RA-1, client: 10.0.0.1, categories: [facebook], reason: r, approvedBy: a, expires: 2026-03-01}\n'],
    ['not YAML', 'exemptions: [\n'],
  ]
  for (const [what, yaml] of cases) {
    const dir = folder(t, { ...GOOD, 'exemptions.yaml': yaml })
    const r = await lintLists({ dir, now: NOW })
    t.same(brief(only(r.errors, 'exemption')).map((b) => b.split(':')[0]), ['exemptions.yaml'], `${what}: an error`)
    // The gateway's loader finds a problem in the same file: lint and reload agree.
    const snap = await loadLists({ dir, exemptionsFile: join(dir, 'exemptions.yaml'), exemptionMaxDurationMs: 365 * 86_400_000, now: NOW })
    t.equal(snap.problems.filter((p) => p.file === 'exemptions.yaml').length, 1, `${what}: the loader refuses it too`)
  }
  const good = folder(t, { ...GOOD, 'exemptions.yaml': 'exemptions:\n  - {id: RA-1, client: 10.0.0.0/24, categories: [telegram], reason: r, approvedBy: a, expires: 2026-03-01}\n' })
  t.same(only((await lintLists({ dir: good, now: NOW })).errors, 'exemption'), [], 'a valid exemption is quiet')
  const elsewhere = folder(t, GOOD)
  writeFileSync(join(elsewhere, 'other.yaml'), cases[0][1])
  t.same(brief(only((await lintLists({ dir: elsewhere, now: NOW, exemptionsFile: join(elsewhere, 'other.yaml') })).errors, 'exemption')), ['other.yaml:2 exemption'], 'blocking.exemptions.file is honoured')
})

t.test('a ConfigMap layout (list files are symlinks into ..data) lints like plain files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-lint-cm-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, '..2026_01_15'))
  for (const [name, text] of Object.entries(GOOD)) {
    writeFileSync(join(dir, '..2026_01_15', name), text)
    symlinkSync(join('..data', name), join(dir, name))
  }
  symlinkSync('..2026_01_15', join(dir, '..data'))
  symlinkSync(join('..data', 'gone.txt'), join(dir, 'gone.txt'))
  const plain = await lintLists({ dir: folder(t, GOOD) })
  const linked = await lintLists({ dir })
  t.same(linked.counts, plain.counts, 'same entries')
  t.same(brief(linked.errors), ['gone.txt:0 unreadable'], 'a link to nothing is reported, nothing else')
  t.same(brief(linked.warnings), brief(plain.warnings))
})
