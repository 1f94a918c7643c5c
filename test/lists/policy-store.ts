import t from 'tap'
import { appendFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LoadListsOptions } from '../../src/lists/load-lists.js'
import type { PolicySnapshot } from '../../src/lists/policy-snapshot.js'
import { PolicyStore, type ReloadResult } from '../../src/lists/policy-store.js'
// The store's logic is under test here; the worker-thread loader has its own test (load-lists-in-worker.ts).
import { loadLists } from '../../src/lists/load-lists.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 0, 15)

function setup(t: { teardown(fn: () => void): void }, files: Record<string, string> = DEFAULT_FILES) {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  let loads = 0
  const options = (): LoadListsOptions => {
    loads++
    return { dir, exemptionsFile: join(dir, 'exemptions.yaml'), exemptionMaxDurationMs: 365 * DAY, now: NOW }
  }
  const events: Array<{ result: ReloadResult; trigger: string; snapshot: PolicySnapshot }> = []
  return {
    dir,
    options,
    loads: () => loads,
    events,
    onReload: (result: ReloadResult, trigger: string, snapshot: PolicySnapshot) => events.push({ result, trigger, snapshot }),
  }
}

const DEFAULT_FILES = {
  'tiktok.txt': 'tiktok.com\ntiktokv.com\n',
  'telegram.txt': 'telegram.org\n',
  'telegram.cidrs.txt': '149.154.160.0/20\n',
}

const blocks = (snap: PolicySnapshot, name: string) => snap.matchName(name, -1) >= 0

t.test('first load', async (t) => {
  const s = setup(t)
  const store = await PolicyStore.open(s.options, { onReload: s.onReload }, loadLists)
  t.same(store.snapshot.categories.map((c) => c.name), ['telegram', 'tiktok'])
  t.ok(blocks(store.snapshot, 'www.tiktok.com'))
  t.ok(blocks(store.snapshot, 'telegram.org'))
  t.notOk(blocks(store.snapshot, 'example.com'))
  t.match(store.snapshot.version, /^sha256:/)
  t.equal(s.loads(), 1)
  t.same(s.events, [], 'opening is not a reload')
})

t.test('first load keeps going with bad lines (reported), but refuses a folder without lists', async (t) => {
  const s = setup(t, { 'tiktok.txt': 'tiktok.com\nbad name here\n' })
  const store = await PolicyStore.open(s.options, {}, loadLists)
  t.ok(blocks(store.snapshot, 'tiktok.com'))
  t.same(store.snapshot.problems.map((p) => `${p.file}:${p.line}`), ['tiktok.txt:2'])
  const empty = setup(t, { 'README.md': 'nothing\n' })
  await t.rejects(PolicyStore.open(empty.options, {}, loadLists), { code: 'DNSVAKT_ERR_BLOCKLIST' })
  const missing = setup(t, {})
  rmSync(missing.dir, { recursive: true })
  await t.rejects(PolicyStore.open(missing.options, {}, loadLists), { code: 'DNSVAKT_ERR_BLOCKLIST' })
})

t.test('reload picks up an added name', async (t) => {
  const s = setup(t)
  const store = await PolicyStore.open(s.options, { onReload: s.onReload }, loadLists)
  const first = store.snapshot
  appendFileSync(join(s.dir, 'tiktok.txt'), 'byteoversea.com\n')
  const r = await store.reload('test')
  t.same(r.problems, [])
  t.equal(r.ok, true)
  t.equal(r.changed, true)
  t.not(store.snapshot, first, 'a new snapshot object')
  t.equal(r.version, store.snapshot.version)
  t.not(r.version, first.version)
  t.ok(blocks(store.snapshot, 'x.byteoversea.com'), 'new name blocked')
  t.notOk(blocks(first, 'x.byteoversea.com'), 'the old snapshot is immutable')
  t.equal(s.events.length, 1)
  t.equal(s.events[0].trigger, 'test')
  t.equal(s.events[0].snapshot, store.snapshot)
  const again = await store.reload('again')
  t.same([again.ok, again.changed], [true, false], 'nothing changed: ok, not changed')
})

t.test('refused reloads keep the old snapshot serving', async (t) => {
  // [what, change to the folder, problem pattern]
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ['a bad line', (d) => appendFileSync(join(d, 'tiktok.txt'), 'not a valid name!\n'), /tiktok\.txt:3/],
    ['an emptied file', (d) => writeFileSync(join(d, 'tiktok.txt'), '# emptied by mistake\n'), /tiktok.*no names/],
    ['a deleted category file', (d) => unlinkSync(join(d, 'tiktok.txt')), /tiktok.*disappeared/],
    ['lost IP ranges', (d) => writeFileSync(join(d, 'telegram.cidrs.txt'), ''), /telegram.*IP ranges/],
    ['a bad CIDR', (d) => appendFileSync(join(d, 'telegram.cidrs.txt'), '149.154.0.0/99\n'), /telegram\.cidrs\.txt:2/],
    [
      'a bad exemption',
      (d) => writeFileSync(join(d, 'exemptions.yaml'), 'exemptions:\n  - id: x\n    client: 10.0.0.1\n    categories: [tiktok]\n    reason: r\n    approvedBy: a\n'),
      /exemptions\.yaml:2.*expires/,
    ],
    ['the folder removed', (d) => rmSync(d, { recursive: true }), /cannot read list folder/],
  ]
  for (const [what, change, pattern] of cases) {
    const s = setup(t)
    const store = await PolicyStore.open(s.options, { onReload: s.onReload }, loadLists)
    const before = store.snapshot
    change(s.dir)
    const r = await store.reload(what)
    t.equal(r.ok, false, `${what}: refused`)
    t.equal(r.changed, false, `${what}: not changed`)
    t.equal(r.version, before.version, `${what}: still the old version`)
    t.ok(r.problems.some((p) => pattern.test(p)), `${what}: ${JSON.stringify(r.problems)}`)
    t.equal(store.snapshot, before, `${what}: the old snapshot keeps serving`)
    t.ok(blocks(store.snapshot, 'tiktok.com'), `${what}: and still blocks`)
    t.equal(s.events.at(-1)?.result, r, `${what}: reported to the listener`)
    t.equal(s.events.at(-1)?.snapshot, before, `${what}: with the snapshot still in use`)
  }
})

t.test('after a refused reload, a fixed folder reloads', async (t) => {
  const s = setup(t)
  const store = await PolicyStore.open(s.options, {}, loadLists)
  writeFileSync(join(s.dir, 'tiktok.txt'), 'tiktok.com\nbad line!\n')
  t.equal((await store.reload('broken')).ok, false)
  writeFileSync(join(s.dir, 'tiktok.txt'), 'tiktok.com\nfixed.example\n')
  const r = await store.reload('fixed')
  t.equal(r.ok, true)
  t.ok(blocks(store.snapshot, 'fixed.example'))
})

t.test('concurrent reloads coalesce into one more run', async (t) => {
  const s = setup(t)
  const store = await PolicyStore.open(s.options, { onReload: s.onReload }, loadLists)
  t.equal(s.loads(), 1, 'open loads once')
  const p1 = store.reload('first')
  const p2 = store.reload('second')
  const p3 = store.reload('third')
  const p4 = store.reload('fourth')
  t.not(p1, p2, 'the second call waits for a run after the first')
  t.equal(p2, p3, 'later calls share it')
  t.equal(p3, p4)
  const results = await Promise.all([p1, p2, p3, p4])
  t.ok(results.every((r) => r.ok))
  t.equal(s.loads(), 3, 'open + the running reload + one coalesced reload')
  t.same(s.events.map((e) => e.trigger), ['first', 'second'], 'two runs reported')
  // Once idle, a new call starts a new run.
  await store.reload('later')
  t.equal(s.loads(), 4)
})

t.test('the coalesced run reads the folder after the running one has finished', async (t) => {
  const s = setup(t)
  const store = await PolicyStore.open(s.options, { onReload: s.onReload }, loadLists)
  const p1 = store.reload('first')
  const p2 = store.reload('second')
  await p1
  // The queued run starts as p1 settles; its file reads complete after this synchronous write.
  appendFileSync(join(s.dir, 'tiktok.txt'), 'late.example\n')
  const r2 = await p2
  t.equal(r2.ok, true)
  t.notOk(blocks(s.events[0].snapshot, 'late.example'), 'the first run did not see it')
  t.ok(blocks(store.snapshot, 'late.example'), 'the coalesced run did')
})

t.test('a coalesced run still happens after the running one is refused', async (t) => {
  const s = setup(t)
  const store = await PolicyStore.open(s.options, {}, loadLists)
  const good = store.snapshot
  writeFileSync(join(s.dir, 'tiktok.txt'), 'tiktok.com\nbad line!\n')
  const p1 = store.reload('bad')
  const p2 = store.reload('queued')
  const r1 = await p1
  t.equal(r1.ok, false, 'the running reload is refused')
  t.equal(store.snapshot, good)
  writeFileSync(join(s.dir, 'tiktok.txt'), 'tiktok.com\ngood.example\n')
  const r2 = await p2
  t.equal(r2.ok, true, 'the queued run succeeds')
  t.ok(blocks(store.snapshot, 'good.example'))
})
