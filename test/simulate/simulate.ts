/**
 * dnsvakt simulate over commits of a real git repository: exactly the changed
 * names are reported, per category and group, with the deciding line; a
 * protected name fails it. One run of the built CLI as a child process.
 */
import t, { type Test } from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { runSimulate } from '../../src/commands/simulate-command.js'
import { type SimulationReport, simulate } from '../../src/simulate/simulate.js'
import { ensureBuilt } from '../fixtures/built-cli.js'

interface Repo { root: string; lists: string; commit(files: Record<string, string | null>, message: string): string }

/** A git repository with the lists in blocklists/ (not at the root, as in a real list repository). */
function repo(t: Test): Repo {
  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-sim-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const git = (...args: string[]): string => execFileSync('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim()
  git('init', '-q', '-b', 'main')
  const lists = join(root, 'blocklists')
  mkdirSync(lists)
  return {
    root,
    lists,
    commit(files, message) {
      for (const [f, text] of Object.entries(files)) {
        if (text === null) rmSync(join(lists, f))
        else writeFileSync(join(lists, f), text)
      }
      git('add', '-A')
      git('commit', '-qm', message)
      return git('rev-parse', 'HEAD')
    },
  }
}

const NAMES = [
  '# replayed names: plain lines and a decision-log export mixed',
  'www.tiktok.com', // blocked before and after
  'OLD.example.', // unlisted in the new version
  '{"event":"query","name":"p16-tiktok-va.ibyteimg.com","client":"10.0.0.0/24"}',
  '{"event":"query","name":"p16-tiktok-va.ibyteimg.com","client":"10.0.1.0/24"}',
  't.me', // new in telegram
  'keep.tiktok.com', // allow-listed in the new version
  'example.org', // never blocked
  '{"no-name": true}',
].join('\n')

const CONFIG = 'groups:\n  staff:\n    networks: ["10.0.0.0/8"]\n    enforce: [tiktok, telegram]\n  students:\n    networks: ["10.1.0.0/16"]\n    enforce: []\n'

/** "name category file:line" per change, for exact comparisons. */
const brief = (changes: SimulationReport['groups'][number]['newlyBlocked']): string[] => changes.map((c) => `${c.name} ${c.category} ${c.because} ${c.file}:${c.line} ${c.entry}`).sort()

t.test('two commits: exactly the changed names, per category and group, with the deciding line', async (t) => {
  const r = repo(t)
  const v1 = r.commit({ 'tiktok.txt': 'tiktok.com\nold.example\n', 'telegram.txt': 'telegram.org\n' }, 'v1')
  const v2 = r.commit({ 'tiktok.txt': '# TikTok\ntiktok.com\n||p16-tiktok-*.ibyteimg.com^\n', 'telegram.txt': 'telegram.org\nt.me\n', 'allow.txt': 'keep.tiktok.com\n' }, 'v2')
  const work = mkdtempSync(join(tmpdir(), 'dnsvakt-sim-in-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  writeFileSync(join(work, 'names.txt'), NAMES)
  writeFileSync(join(work, 'dnsvakt.yaml'), CONFIG)

  const report = await simulate({ namesFile: join(work, 'names.txt'), from: { repo: r.lists, rev: v1 }, to: { repo: r.lists, rev: 'main' }, configFile: join(work, 'dnsvakt.yaml') })
  t.equal(report.from.version, v1)
  t.equal(report.to.version, v2)
  t.equal(report.names, 6)
  t.equal(report.queries, 7)
  t.same(report.skippedLines.map((s) => s.line), [9], 'the JSON line without a name is skipped and said so')

  const blocked = ['p16-tiktok-va.ibyteimg.com tiktok listed tiktok.txt:3 p16-tiktok-*.ibyteimg.com', 't.me telegram listed telegram.txt:2 t.me']
  const allowed = ['keep.tiktok.com tiktok allow-listed allow.txt:1 keep.tiktok.com', 'old.example tiktok unlisted tiktok.txt:2 old.example']
  const byCategory = Object.fromEntries(report.categories.map((c) => [c.category, [brief(c.newlyBlocked), brief(c.newlyAllowed)]]))
  t.same(byCategory, { telegram: [[blocked[1]], []], tiktok: [[blocked[0]], allowed] })
  const byGroup = Object.fromEntries(report.groups.map((g) => [g.group, [g.enforces, brief(g.newlyBlocked), brief(g.newlyAllowed)]]))
  t.same(byGroup, {
    staff: [['telegram', 'tiktok'], blocked, allowed],
    students: [[], [], []],
    default: [['telegram', 'tiktok'], blocked, allowed], // not configured: every category (fail closed, as the gateway)
  })
  t.equal(report.groups[0].newlyBlocked.find((c) => c.name.startsWith('p16'))?.queries, 2, 'how often the name was queried')
  t.same(report.protectedBlocked, [], 'nothing protected is blocked')
  t.same(readdirSync(tmpdir()).filter((f) => f.startsWith('dnsvakt-simulate-')).length, 0, 'the exported revisions are removed')

  await t.test('the reverse direction swaps newly blocked and newly allowed', async (t) => {
    const back = await simulate({ namesFile: join(work, 'names.txt'), from: { repo: r.lists, rev: v2 }, to: { repo: r.lists, rev: v1 } })
    const tiktok = back.categories.find((c) => c.category === 'tiktok')!
    t.same(tiktok.newlyBlocked.map((c) => c.name).sort(), ['keep.tiktok.com', 'old.example'])
    t.same(tiktok.newlyAllowed.map((c) => `${c.name} ${c.because} ${c.file}:${c.line}`), ['p16-tiktok-va.ibyteimg.com unlisted tiktok.txt:3'])
    t.same(back.groups.map((g) => g.group), ['default'], 'without --config: one default group')
  })

  await t.test('a protected name fails it, from the file and from the collateral-risk table', async (t) => {
    const v3 = r.commit({ 'tiktok.txt': 'tiktok.com\ntimer.example\nfire*.googleapis.com\n' }, 'v3')
    writeFileSync(join(work, 'protected.txt'), '# our own services\napp.timer.example\nreise.example\n')
    const bad = await simulate({ namesFile: join(work, 'names.txt'), from: { repo: r.lists, rev: v2 }, to: { repo: r.lists, rev: v3 }, protectedFile: join(work, 'protected.txt') })
    t.same(bad.protectedBlocked.map((v) => `${v.name} ${v.category} ${v.file}:${v.line} ${v.entry}`), [
      'app.timer.example tiktok tiktok.txt:2 timer.example',
      'firebaseremoteconfig.googleapis.com tiktok tiktok.txt:3 fire*.googleapis.com',
      'firestore.googleapis.com tiktok tiktok.txt:3 fire*.googleapis.com',
    ])
    t.match(bad.protectedBlocked[1].source, /^collateral-risk: Telegram's fallback-config path/)
    t.equal(bad.protectedBlocked[0].source, join(work, 'protected.txt'))
    r.commit({ 'tiktok.txt': '# TikTok\ntiktok.com\n||p16-tiktok-*.ibyteimg.com^\n' }, 'v4: back to v2')
  })

  await t.test('the working tree against a revision, through the command function', async (t) => {
    writeFileSync(join(r.lists, 'telegram.txt'), 'telegram.org\n') // t.me removed, not committed
    const text: string[] = []
    const out = new Writable({ write(chunk, _e, cb) { text.push(String(chunk)); cb() } })
    const code = await runSimulate([join(work, 'names.txt'), '--from', 'HEAD', '--to-dir', r.lists, '--repo', r.lists], out)
    t.equal(code, 0, text.join(''))
    t.match(text.join(''), /category telegram: 0 newly blocked, 1 newly allowed\n {2}- t\.me \(1 query\): no longer listed \(was telegram\.txt:2 t\.me in the old version\)\n/)
    t.match(text.join(''), /simulate: OK\n$/)
  })
})

t.test('the built CLI: JSON, exit 1 on a protected name, exit 2 on bad input', async (t) => {
  const cli = ensureBuilt()
  const r = repo(t)
  const v1 = r.commit({ 'tiktok.txt': 'tiktok.com\n' }, 'v1')
  const v2 = r.commit({ 'tiktok.txt': 'tiktok.com\nkommune.example\n' }, 'v2')
  const names = join(r.root, 'names.txt')
  writeFileSync(names, 'www.kommune.example\nwww.tiktok.com\n')
  writeFileSync(join(r.root, 'protected.txt'), 'kommune.example\n')
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'simulate', ...args], { encoding: 'utf8', timeout: 60_000 })

  const ok = run(names, '--from', v1, '--to', v2, '--repo', r.lists, '--json')
  t.equal(ok.status, 0, ok.stderr)
  const report = JSON.parse(ok.stdout) as SimulationReport
  t.same(report.categories[0].newlyBlocked.map((c) => [c.name, c.file, c.line]), [['www.kommune.example', 'tiktok.txt', 2]])

  const failed = run(names, '--from', v1, '--to', v2, '--repo', r.lists, '--protected', join(r.root, 'protected.txt'))
  t.equal(failed.status, 1)
  t.match(failed.stdout, /! kommune\.example would be blocked by category tiktok: tiktok\.txt:2 kommune\.example/)
  t.match(failed.stdout, /simulate: FAILED: 1 protected name would be blocked\n$/)

  t.equal(run(names, '--from', v1, '--repo', r.lists).status, 2, 'no --to')
  t.match(run(names, '--from', 'no-such-rev', '--to', v2, '--repo', r.lists).stdout, /cannot read the lists at "no-such-rev"/)
  t.equal(run(names, '--from', 'no-such-rev', '--to', v2, '--repo', r.lists).status, 2)
  t.equal(run(join(r.root, 'missing.txt'), '--from-dir', r.lists, '--to-dir', r.lists).status, 2)
})
