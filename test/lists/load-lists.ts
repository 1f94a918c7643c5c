import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, appendFileSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadLists, type LoadListsOptions } from '../../src/lists/load-lists.js'
import { isDnsvaktError } from '../../src/errors.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 0, 15)

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-lists-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const write = (dir: string, files: Record<string, string>) => {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
}

const opts = (dir: string, extra: Partial<LoadListsOptions> = {}): LoadListsOptions => ({
  dir,
  exemptionsFile: join(dir, 'exemptions.yaml'),
  exemptionMaxDurationMs: 365 * DAY,
  now: NOW,
  ...extra,
})

/** Runs git with a fixed identity and no signing, whatever the machine's config says. */
const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', '-C', dir, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim()

t.test('file naming rules', async (t) => {
  const dir = tempDir(t)
  write(dir, {
    'tiktok.txt': 'tiktok.com\n',
    'tiktok.cname.txt': 'tiktokcdn.com\n',
    'tiktok.extra-2.txt': 'byteoversea.com\n',
    'telegram.txt': 'telegram.org\n',
    'telegram.cidrs.txt': '149.154.160.0/20\n2001:67c:4e8::/48\n',
    'doh-bypass.txt': 'dns.google\n',
    'ranges-only.cidrs.txt': '192.0.2.0/24\n',
    'allow.txt': 'allowed.tiktok.com\n',
    'README.md': 'example.com\n',
    'notes.TXT': 'example.org\n',
    'Upper.txt': 'example.net\n',
    '_private.txt': 'example.edu\n',
    'a.b.c.txt': 'example.info\n',
    'tiktok.txt.bak': 'ignored.example\n',
    'exemptions.yaml': 'exemptions: []\n',
  })
  const snap = await loadLists(opts(dir))
  t.same(snap.categories.map((c) => c.name), ['doh-bypass', 'ranges-only', 'telegram', 'tiktok'], 'categories, sorted; allow.txt is not one')
  t.same(snap.categories.map((c) => c.bit), [0, 1, 2, 3], 'bits in that order')
  const cat = (n: string) => snap.categories.find((c) => c.name === n)!
  t.same([...cat('tiktok').files].sort(), ['tiktok.cname.txt', 'tiktok.extra-2.txt', 'tiktok.txt'], '<cat>.<part>.txt joins <cat>')
  t.equal(cat('tiktok').domains.size, 3, 'names from all three files')
  for (const n of ['tiktok.com', 'x.tiktokcdn.com', 'byteoversea.com']) t.ok(cat('tiktok').domains.match(n) >= 0, `tiktok blocks ${n}`)
  t.same([...cat('telegram').files].sort(), ['telegram.cidrs.txt', 'telegram.txt'])
  t.equal(cat('telegram').cidrs.size, 2, '<cat>.cidrs.txt holds ranges')
  t.equal(cat('telegram').domains.size, 1, 'and not names')
  t.equal(cat('telegram').cidrs.containsAddress('149.154.167.99'), '149.154.160.0/20')
  t.equal(cat('ranges-only').domains.size, 0, 'a category may have only ranges')
  t.equal(cat('ranges-only').cidrs.size, 1)
  t.ok(snap.allowed('x.allowed.tiktok.com'), 'allow.txt is the allow list')
  t.notOk(snap.allowed('tiktok.com'))
  for (const n of ['example.com', 'example.org', 'example.net', 'example.edu', 'example.info', 'ignored.example']) {
    t.equal(snap.matchName(n, -1), -1, `${n} (from a file that is not a list) blocks nothing`)
  }
  t.same(snap.problems, [])
  t.equal(snap.dir, dir)
  t.equal(snap.loadedAt, NOW)
})

t.test('problems carry file and line; bad lines contribute nothing', async (t) => {
  const dir = tempDir(t)
  write(dir, {
    'tiktok.txt': '# header\ntiktok.com\nnot a name\n\ncom\n',
    'telegram.cidrs.txt': '149.154.160.0/20\n149.154.160.0/33\n',
    'telegram.txt': 'telegram.org\n',
    'exemptions.yaml': 'exemptions:\n  - id: x\n    client: 10.0.0.1\n    categories: [instagram]\n    reason: r\n    approvedBy: a\n    expires: 2026-02-01\n',
  })
  const snap = await loadLists(opts(dir))
  const found = snap.problems.map((p) => `${p.file}:${p.line}`).sort()
  t.same(found, ['exemptions.yaml:2', 'telegram.cidrs.txt:2', 'tiktok.txt:3', 'tiktok.txt:5'])
  t.equal(snap.categories.find((c) => c.name === 'tiktok')!.domains.size, 1, 'the good line still counts')
  t.equal(snap.exemptions.length, 0)
})

t.test('version outside git: sha256 of the contents', async (t) => {
  const dir = tempDir(t)
  write(dir, { 'tiktok.txt': 'tiktok.com\n' })
  const v1 = (await loadLists(opts(dir))).version
  t.match(v1, /^sha256:[0-9a-f]{16,64}$/, v1)
  t.equal((await loadLists(opts(dir))).version, v1, 'same files, same version')
  t.equal((await loadLists(opts(dir, { now: NOW + DAY }))).version, v1, 'the clock is not part of it')
  appendFileSync(join(dir, 'tiktok.txt'), 'tiktokv.com\n')
  const v2 = (await loadLists(opts(dir))).version
  t.not(v2, v1, 'a changed list changes it')
  write(dir, { 'exemptions.yaml': 'exemptions: []\n' })
  const v3 = (await loadLists(opts(dir))).version
  t.not(v3, v2, 'the exemptions file is part of it')
  write(dir, { 'README.md': 'docs\n' })
  t.equal((await loadLists(opts(dir))).version, v3, 'a file that is not a list is not')
  // Same contents in another folder: same version (content, not location).
  const other = tempDir(t)
  write(other, { 'tiktok.txt': 'tiktok.com\ntiktokv.com\n', 'exemptions.yaml': 'exemptions: []\n' })
  t.equal((await loadLists(opts(other))).version, v3, 'content-addressed')
})

t.test('version inside git: the commit, "+modified" after an uncommitted edit', async (t) => {
  const repo = tempDir(t)
  git(repo, 'init', '-q')
  const dir = join(repo, 'blocklists')
  mkdirSync(dir)
  write(dir, { 'tiktok.txt': 'tiktok.com\n', 'telegram.txt': 'telegram.org\n' })
  write(repo, { 'README.md': 'repo\n' })
  git(repo, 'add', '-A')
  git(repo, 'commit', '-q', '-m', 'lists')
  const head = git(repo, 'rev-parse', 'HEAD')
  t.match(head, /^[0-9a-f]{40}$/, 'test setup: a commit')
  t.equal((await loadLists(opts(dir))).version, head, 'clean work tree: the commit')
  t.equal((await loadLists(opts(dir))).committedAt, Number(git(dir, 'log', '-1', '--format=%ct')) * 1000, 'and its commit time')
  write(repo, { 'README.md': 'changed outside the list folder\n' })
  t.equal((await loadLists(opts(dir))).version, head, 'a change outside the list folder does not count')
  appendFileSync(join(dir, 'tiktok.txt'), 'tiktokv.com\n')
  t.equal((await loadLists(opts(dir))).version, `${head}+modified`, 'edited list')
  git(repo, 'commit', '-q', '-am', 'more')
  const head2 = git(repo, 'rev-parse', 'HEAD')
  t.not(head2, head)
  t.equal((await loadLists(opts(dir))).version, head2, 'committed: the new commit')
  write(dir, { 'doh-bypass.txt': 'dns.google\n' })
  t.equal((await loadLists(opts(dir))).version, `${head2}+modified`, 'an untracked new list counts as modified')
  unlinkSync(join(dir, 'doh-bypass.txt'))
  unlinkSync(join(dir, 'telegram.txt'))
  t.equal((await loadLists(opts(dir))).version, `${head2}+modified`, 'a deleted list counts as modified')
})

t.test('a git repository without commits falls back to the content hash', async (t) => {
  const dir = tempDir(t)
  git(dir, 'init', '-q')
  write(dir, { 'tiktok.txt': 'tiktok.com\n' })
  t.match((await loadLists(opts(dir))).version, /^sha256:/)
  t.equal((await loadLists(opts(dir))).committedAt, null, 'no commit, no commit time')
})

/** The coded error loadLists rejected with, or what it did instead. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (e) {
    return isDnsvaktError(e) ? e.code : `uncoded ${String(e)}`
  }
}

t.test('an unreadable folder is DNSVAKT_ERR_BLOCKLIST', async (t) => {
  const dir = tempDir(t)
  t.equal(await failure(loadLists(opts(join(dir, 'missing')))), 'DNSVAKT_ERR_BLOCKLIST', 'missing folder')
  write(dir, { 'plain-file': 'x' })
  t.equal(await failure(loadLists(opts(join(dir, 'plain-file')))), 'DNSVAKT_ERR_BLOCKLIST', 'a file, not a folder')
})

t.test('a sub-folder named like a list file is skipped or reported, never an uncoded crash', async (t) => {
  const dir = tempDir(t)
  write(dir, { 'tiktok.txt': 'tiktok.com\n' })
  mkdirSync(join(dir, 'archive.txt'))
  const outcome = await failure(loadLists(opts(dir)))
  t.ok(outcome === 'resolved' || outcome === 'DNSVAKT_ERR_BLOCKLIST', `outcome: ${outcome}`)
})

t.test('an empty folder loads with no categories (the store decides what that means)', async (t) => {
  const dir = tempDir(t)
  const snap = await loadLists(opts(dir))
  t.equal(snap.categories.length, 0)
  t.equal(snap.allow.size, 0)
})

t.test('list files may be symlinks to regular files (a ConfigMap volume); other links are not lists', async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, '..data'))
  write(join(dir, '..data'), { 'tiktok.txt': 'tiktok.com\n', 'telegram.cidrs.txt': '149.154.160.0/20\n' })
  symlinkSync(join('..data', 'tiktok.txt'), join(dir, 'tiktok.txt'))
  symlinkSync(join('..data', 'telegram.cidrs.txt'), join(dir, 'telegram.cidrs.txt'))
  symlinkSync(join('..data', 'missing.txt'), join(dir, 'dangling.txt'))
  symlinkSync('..data', join(dir, 'folder.txt'))
  const snap = await loadLists(opts(dir))
  t.same(snap.categories.map((c) => [c.name, c.domains.size, c.cidrs.size]), [['telegram', 0, 1], ['tiktok', 1, 0]])
  t.same(snap.problems, [])
  t.equal(snap.committedAt, null, 'not from git: no commit time')
})
