/**
 * The folder watcher on a Kubernetes ConfigMap volume, laid out exactly as
 * the kubelet does it: each key is a symlink `tiktok.txt -> ..data/tiktok.txt`,
 * `..data` is a symlink to a timestamped folder, and an update writes a new
 * timestamped folder and swaps `..data` with an atomic rename. The lists load
 * through the links, and the swap is noticed and reloaded.
 */
import t from 'tap'
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListWatcher } from '../../src/list-sync/watch-lists.js'
import { loadLists, type LoadListsOptions } from '../../src/lists/load-lists.js'
import { PolicyStore } from '../../src/lists/policy-store.js'

/** Writes a new ..<timestamp> folder with `files` and points ..data at it (atomically, as the kubelet does). */
function publish(dir: string, stamp: string, files: Record<string, string>): void {
  const data = join(dir, `..${stamp}`)
  mkdirSync(data)
  for (const [name, text] of Object.entries(files)) writeFileSync(join(data, name), text)
  symlinkSync(`..${stamp}`, join(dir, '..data_tmp'))
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
}

t.test('a ConfigMap volume loads through its links and an ..data swap is reloaded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-configmap-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const keys = ['tiktok.txt', 'telegram.txt', 'exemptions.yaml']
  publish(dir, '2026_01_15_10_00_00.000000001', { 'tiktok.txt': 'tiktok.com\n', 'telegram.txt': 'telegram.org\n', 'exemptions.yaml': 'exemptions: []\n' })
  for (const k of keys) symlinkSync(join('..data', k), join(dir, k))
  const then = new Date('2026-01-15T10:00:00Z')
  for (const k of keys) utimesSync(join(dir, k), then, then)

  const opts = (): LoadListsOptions => ({ dir, exemptionsFile: join(dir, 'exemptions.yaml'), exemptionMaxDurationMs: 365 * 86_400_000, now: Date.UTC(2026, 0, 15) })
  const store = await PolicyStore.open(opts, {}, loadLists)
  t.same(store.snapshot.categories.map((c) => c.name), ['telegram', 'tiktok'], 'the linked list files are the lists')
  t.ok(store.snapshot.matchName('www.tiktok.com', store.snapshot.maskOf(['tiktok'])) >= 0)

  const reloads: boolean[] = []
  const watcher = new ListWatcher(dir, join(dir, 'exemptions.yaml'), 60_000, () => void store.reload('file-change').then((r) => reloads.push(r.ok)))
  await watcher.start()
  t.teardown(() => watcher.stop())
  await watcher.poll()
  await watcher.poll()
  t.same(reloads, [], 'nothing changed, nothing reloaded')

  // Same sizes and (forced) same times: only the link swap (new inodes) tells the change.
  publish(dir, '2026_01_15_10_05_00.000000002', { 'tiktok.txt': 'tiktok.net\n', 'telegram.txt': 'telegram.org\n', 'exemptions.yaml': 'exemptions: []\n' })
  for (const k of keys) utimesSync(join(dir, k), then, then)
  await watcher.poll()
  t.same(reloads, [], 'a change is acted on once two polls agree')
  await watcher.poll()
  for (let i = 0; i < 100 && reloads.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
  t.same(reloads, [true], 'the swap was picked up and reloaded')
  t.ok(store.snapshot.matchName('tiktok.net', store.snapshot.maskOf(['tiktok'])) >= 0, 'the new list is served')
  t.equal(store.snapshot.matchName('tiktok.com', store.snapshot.maskOf(['tiktok'])), -1)
})
