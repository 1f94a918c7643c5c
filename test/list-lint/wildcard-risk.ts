/**
 * lint-lists on inner-label wildcard entries: the risk check on its own, and a
 * whole folder with wildcards linted (risks, overlaps, coverage, the allow list).
 */
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lintLists } from '../../src/list-lint/lint-lists.js'
import { wildcardRisks } from '../../src/list-lint/wildcard-risk.js'

const lines = (...names: string[]): string => `${names.join('\n')}\n`

t.test('wildcardRisks: what is flagged, and how hard', async (t) => {
  const cases: Array<[entry: string, expected: Array<[severity: 'error' | 'warning', message: RegExp]>]> = [
    ['tiktok.com', []],
    ['p16-tiktok-*.ibyteimg.com', []],
    ['v*-web.b*.example.org', []], // "v", "-web" and "b": four fixed characters
    ['p16-*.akamaized.net', [['error', /directly under akamaized\.net, which must never be blocked as a whole, so the pattern can catch other owners' names \(Akamai/]]],
    ['tiktok*.co.uk', [['error', /directly under co\.uk.*public suffix/]]],
    ['tiktok*.co.nz', [['error', /directly under co\.nz/]]],
    ['tiktok*.com.ar', [['error', /registrable label under the public suffix com\.ar/]]],
    ['tik*.com.ar', [['error', /public suffix com\.ar/], ['warning', /only 3 fixed/]]],
    ['fire*.googleapis.com', [['error', /directly under googleapis\.com/], ['error', /matches firebaseremoteconfig\.googleapis\.com, which must never be blocked/]]],
    ['alog*.umeng.com', [['error', /matches alog\.umeng\.com, which must never be blocked: Alibaba Umeng/]]],
    ['a.*.example.net', [['warning', /a label of only "\*" matches any label/]]],
    ['a*.example.net', [['warning', /only 1 fixed character\(s\) around the wildcards \(fewer than 4\), so it matches most names under example\.net/]]],
    ['x*y*.b*.example.net', [['warning', /only 3 fixed/]]],
  ]
  for (const [entry, expected] of cases) {
    const risks = wildcardRisks(entry)
    t.equal(risks.length, expected.length, `${entry}: ${expected.length} finding(s)`)
    expected.forEach(([severity, message], i) => t.match(risks[i], { severity, message }, `${entry}: ${message}`))
  }
})

t.test('a folder with wildcard entries lints with the gateway parser, and each check sees them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-lint-wild-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const files: Record<string, string> = {
    'tiktok.txt': lines('p16-tiktok-*.ibyteimg.com', 'p16-*.ibyteimg.com', 'tik*.com', 'p16-*.akamaized.net', 'okay-*.keep.example'),
    'other.txt': lines('p16-tiktok-va.ibyteimg.com', 'p16-tiktok-*.ibyteimg.com'),
    'allow.txt': lines('okay-1.keep.example', 'okay-*.keep.example'),
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  const r = await lintLists({ dir })
  const all = [...r.errors, ...r.warnings].map((f) => `${f.file}:${f.line} ${f.code}`).sort()
  t.same(all, [
    'allow.txt:1 redundant', // okay-1.keep.example lies under the pattern okay-*.keep.example
    'other.txt:1 overlap', // a plain name below a pattern of tiktok
    'other.txt:1 redundant', // ... and below its own category's pattern
    'tiktok.txt:1 overlap', // the same pattern in two categories: reported once, at the later category
    'tiktok.txt:3 invalid',
    'tiktok.txt:4 wildcard-risk',
    'tiktok.txt:5 shadowed',
  ], 'the findings, with nothing crashing on a wildcard hit')
  const byLine = (file: string, line: number, code?: string): string => [...r.errors, ...r.warnings].find((f) => f.file === file && f.line === line && (code === undefined || f.code === code))?.message ?? ''
  t.match(byLine('tiktok.txt', 3), /wildcards need at least two fixed labels/)
  t.match(byLine('tiktok.txt', 4), /directly under akamaized\.net/)
  t.match(byLine('tiktok.txt', 5), /okay-\*\.keep\.example never blocks: the allow list entry okay-\*\.keep\.example/)
  t.match(byLine('other.txt', 1, 'overlap'), /p16-tiktok-va\.ibyteimg\.com \(category "other"\) is also blocked by category "tiktok": p16-tiktok-\*\.ibyteimg\.com \(tiktok\.txt:1\) covers it/)
  t.match(byLine('tiktok.txt', 1), /p16-tiktok-\*\.ibyteimg\.com is in categories "other" \(other\.txt:2\) and "tiktok"/)
  t.match(byLine('allow.txt', 1), /okay-1\.keep\.example is already covered by okay-\*\.keep\.example \(allow\.txt:2\)/)
  t.equal(r.counts.tiktok, 4, 'the four accepted entries are counted')
})
