/**
 * The last good state on disk and the start decision (open-lists.ts) on real
 * folders: what is saved (only accepted, problem-free snapshots, exactly the
 * text that was parsed), what a start serves when the folder would be refused,
 * and what happens when the state folder cannot be written.
 */
import t, { type Test } from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { runCheckConfig } from '../../src/commands/check-config-command.js'
import { LastGoodState } from '../../src/lists/last-good-state.js'
import { loadLists, type LoadListsOptions } from '../../src/lists/load-lists.js'
import { PolicyStore } from '../../src/lists/policy-store.js'

const NOW = Date.UTC(2026, 0, 15)
const FILES = { 'tiktok.txt': 'tiktok.com\n', 'telegram.txt': 'telegram.org\n', 'doh-bypass.txt': 'dns.google\n', 'exemptions.yaml': 'exemptions: []\n' }

function setup(t: Test, files: Record<string, string> = FILES, enforced: LoadListsOptions['enforced'] = ['telegram', 'tiktok']) {
  const root = mkdtempSync(join(tmpdir(), 'dnsvakt-state-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const dir = join(root, 'lists')
  const stateDir = join(root, 'state')
  mkdirSync(dir)
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  const logs: Array<Record<string, unknown>> = []
  const log = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) })
  const options = (): LoadListsOptions => ({ dir, exemptionsFile: join(dir, 'exemptions.yaml'), exemptionMaxDurationMs: 365 * 86_400_000, now: NOW, stateDir, enforced })
  return { root, dir, stateDir, logs, open: () => PolicyStore.open(options, {}, loadLists, log) }
}

const blocks = (store: PolicyStore, name: string) => store.snapshot.matchName(name, -1) >= 0

t.test('an accepted snapshot is saved, byte for byte, behind an atomically swapped link', async (t) => {
  const { dir, stateDir, open } = setup(t)
  const store = await open()
  const found = await new LastGoodState(stateDir).read()
  t.ok(found, 'a last good state exists after the first good start')
  t.same(found!.meta, { version: store.snapshot.version, committedAt: null, source: dir })
  for (const f of ['tiktok.txt', 'telegram.txt', 'doh-bypass.txt']) t.equal(readFileSync(join(found!.dir, f), 'utf8'), readFileSync(join(dir, f), 'utf8'), f)
  t.equal(readFileSync(join(found!.dir, 'exemptions.yaml'), 'utf8'), 'exemptions: []\n')
  t.match(readlinkSync(join(stateDir, 'last-good')), /^gen-\d+-\d+-[0-9a-f]{8}$/)

  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\ntiktokv.com\n')
  t.match(await store.reload('test'), { ok: true, changed: true })
  const next = await new LastGoodState(stateDir).read()
  t.equal(readFileSync(join(next!.dir, 'tiktok.txt'), 'utf8'), 'tiktok.com\ntiktokv.com\n', 'a good reload replaces it')
  t.same(readdirSync(stateDir).filter((n) => n.startsWith('gen-')), [readlinkSync(join(stateDir, 'last-good'))], 'the old folder is removed')

  writeFileSync(join(dir, 'tiktok.txt'), 'not a name!\n')
  t.match(await store.reload('test'), { ok: false })
  t.equal((await new LastGoodState(stateDir).read())!.dir, next!.dir, 'a refused reload leaves it as it was')
  t.same(readdirSync(stateDir).filter((n) => n.startsWith('gen-')).length, 1, 'and leaves no staging folder behind')
})

t.test('at start, a folder a reload would refuse is not served: the last good state is', async (t) => {
  const breakages: Array<[what: string, change: (dir: string) => void, reason: RegExp]> = [
    ['a bad line', (d) => writeFileSync(join(d, 'tiktok.txt'), 'tiktok.com\nnot a name!\n'), /tiktok.txt:2/],
    ['a bad exemption', (d) => writeFileSync(join(d, 'exemptions.yaml'), 'exemptions:\n  - {id: X, client: 10.0.0.1, categories: [telegram], reason: r, approvedBy: a}\n'), /expires/],
    ['an emptied enforced category', (d) => writeFileSync(join(d, 'telegram.txt'), '# nothing\n'), /telegram" shrank to no names/],
    ['a deleted enforced category', (d) => unlinkSync(join(d, 'telegram.txt')), /telegram" disappeared/],
    ['no folder at all', (d) => rmSync(d, { recursive: true }), /cannot read list folder/],
  ]
  for (const [what, change, reason] of breakages) {
    const { dir, logs, open } = setup(t)
    const good = await open()
    const version = good.snapshot.version
    change(dir)
    const store = await open()
    t.equal(store.snapshot.version, version, `${what}: the last good version is served`)
    t.ok(blocks(store, 'telegram.org') && blocks(store, 'tiktok.com'), `${what}: nothing less is enforced`)
    t.match(store.servingLastGood, { version, since: NOW, reasons: [reason] }, `${what}: and it says why`)
    t.match(logs.filter((l) => l.event === 'audit').map((l) => l.action), ['lists-start-last-good'], `${what}: one audit line`)
  }
})

t.test('a category no group enforces may go, at start, without falling back', async (t) => {
  const { dir, open } = setup(t)
  await open()
  unlinkSync(join(dir, 'doh-bypass.txt'))
  const store = await open()
  t.equal(store.servingLastGood, null)
  t.same(store.snapshot.categories.map((c) => c.name), ['telegram', 'tiktok'])
  const all = setup(t, FILES, 'all') // no default group: every category is enforced
  await all.open()
  unlinkSync(join(all.dir, 'doh-bypass.txt'))
  t.match((await all.open()).servingLastGood, { reasons: [/doh-bypass" disappeared/] })
})

t.test('without a last good state: bad lines are left out and reported, never saved; a missing enforced category stops the start', async (t) => {
  const { dir, stateDir, open } = setup(t, { ...FILES, 'tiktok.txt': 'tiktok.com\nnot a name!\n' })
  const store = await open()
  t.equal(store.servingLastGood, null)
  t.equal(store.snapshot.problems.length, 1)
  t.equal(await new LastGoodState(stateDir).read(), null, 'a snapshot with problems is not a last good state')
  t.same(existsSync(stateDir) ? readdirSync(stateDir) : [], [], 'no staging folder left behind')
  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\n')
  await store.reload('fix')
  t.ok(await new LastGoodState(stateDir).read(), 'the first good reload saves one')

  const empty = setup(t, { ...FILES, 'telegram.txt': '' })
  await t.rejects(empty.open(), { code: 'DNSVAKT_ERR_BLOCKLIST', message: /category "telegram" is enforced by a group but telegram.txt hold no entries/ })
  const none = setup(t, { 'readme.md': 'x' })
  await t.rejects(none.open(), { code: 'DNSVAKT_ERR_BLOCKLIST', message: /no list files/ })
})

t.test('a state folder that cannot be written: the gateway serves and warns', async (t) => {
  const { stateDir, logs, open } = setup(t)
  writeFileSync(stateDir, 'not a folder') // fails for root too, unlike a permission
  const store = await open()
  t.ok(blocks(store, 'tiktok.com'))
  t.match(logs.find((l) => l.event === 'lists-state-not-saved'), { problem: /could not write the lists/ })
})

t.test('a corrupt state (meta missing) counts as none', async (t) => {
  const { stateDir, open } = setup(t)
  await open()
  const found = await new LastGoodState(stateDir).read()
  unlinkSync(join(found!.dir, 'dnsvakt-state.json'))
  t.equal(await new LastGoodState(stateDir).read(), null)
  t.equal(await new LastGoodState(join(stateDir, 'nowhere')).read(), null)
})

t.test('check-config reports an enforced category that is empty (a start with no last good state would stop)', async (t) => {
  const { root, dir } = setup(t, { ...FILES, 'telegram.txt': '# emptied\n' })
  const file = join(root, 'dnsvakt.yaml')
  writeFileSync(file, 'blocking:\n  dir: lists\nupstream:\n  servers: ["192.0.2.53:53"]\ngroups:\n  default:\n    enforce: [tiktok, telegram]\n')
  let text = ''
  const out = new Writable({ write(chunk, _e, cb) { text += String(chunk); cb() } })
  t.equal(await runCheckConfig([file], { out: out as unknown as NodeJS.WritableStream, err: out as unknown as NodeJS.WritableStream }), 1)
  t.match(text, /category "telegram" is enforced by a group but telegram.txt hold no entries/)
  writeFileSync(join(dir, 'telegram.txt'), 'telegram.org\n')
  text = ''
  t.equal(await runCheckConfig([file], { out: out as unknown as NodeJS.WritableStream, err: out as unknown as NodeJS.WritableStream }), 0, text)
})
