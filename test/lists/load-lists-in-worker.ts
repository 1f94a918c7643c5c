/**
 * Lists built in a worker thread arrive as the same snapshot loadLists builds
 * in-thread (the in-thread loader is the oracle), and failures arrive as
 * coded errors.
 */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadLists } from '../../src/lists/load-lists.js'
import { loadListsInWorker } from '../../src/lists/load-lists-in-worker.js'
import { snapshotFromData, snapshotToData } from '../../src/lists/snapshot-data.js'

function listDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-worker-'))
  writeFileSync(join(dir, 'tiktok.txt'), 'tiktok.com\ntiktokv.com\nbad line here\n')
  writeFileSync(join(dir, 'telegram.txt'), 'telegram.org\nt.me\n')
  writeFileSync(join(dir, 'telegram.cidrs.txt'), '149.154.160.0/20\n2001:67c:4e8::/48\n')
  writeFileSync(join(dir, 'allow.txt'), 'ok.tiktok.com\n')
  writeFileSync(join(dir, 'exemptions.yaml'), 'exemptions:\n  - id: RA-1\n    client: 10.0.0.0/24\n    categories: [telegram]\n    reason: r\n    approvedBy: a\n    expires: "2030-01-01T00:00:00Z"\n')
  return dir
}

const probe = ['tiktok.com', 'a.b.tiktokv.com', 'ok.tiktok.com', 'x.ok.tiktok.com', 't.me', 'telegram.org.evil.example', 'example.org']

t.test('the worker builds the same snapshot as loadLists', async (t) => {
  const dir = listDir()
  const opts = { dir, exemptionsFile: join(dir, 'exemptions.yaml'), exemptionMaxDurationMs: 10 * 365 * 86_400_000, now: Date.UTC(2026, 10, 23) }
  const [theirs, ours] = await Promise.all([loadLists(opts), loadListsInWorker(opts)])
  t.equal(ours.version, theirs.version)
  t.same(ours.counts(), theirs.counts())
  t.same(ours.problems, theirs.problems, 'the bad line is reported the same way')
  for (const name of probe) {
    t.equal(ours.matchName(name, -1 >>> 0), theirs.matchName(name, -1 >>> 0), `match ${name}`)
    t.equal(ours.allowed(name), theirs.allowed(name), `allow ${name}`)
  }
  const tg = ours.categories.find((c) => c.name === 'telegram')!
  t.equal(tg.cidrs.containsAddress('149.154.167.50'), '149.154.160.0/20')
  t.equal(tg.cidrs.containsAddress('2001:67c:4e8::1'), '2001:67c:4e8::/48')
  t.equal(ours.exemptions.length, 1)
  t.ok(ours.exemptions[0].network.check('10.0.0.7', 'ipv4'), 'the exemption network is rebuilt')
  t.notOk(ours.exemptions[0].network.check('10.0.1.7', 'ipv4'))
})

t.test('snapshot data round trip moves the trie buffers', async (t) => {
  const dir = listDir()
  const snap = await loadLists({ dir, exemptionsFile: join(dir, 'exemptions.yaml'), exemptionMaxDurationMs: 10 * 365 * 86_400_000, now: 0 })
  const { data, transfer } = snapshotToData(snap)
  t.ok(transfer.length >= 3, 'typed-array buffers listed for transfer')
  const back = snapshotFromData(structuredClone(data))
  for (const name of probe) t.equal(back.matchName(name, -1 >>> 0), snap.matchName(name, -1 >>> 0), name)
})

t.test('a folder that cannot be read fails with a coded error', async (t) => {
  await t.rejects(loadListsInWorker({ dir: '/nonexistent/dnsvakt', exemptionsFile: '/nonexistent/x', exemptionMaxDurationMs: 1, now: 0 }), { code: 'DNSVAKT_ERR_BLOCKLIST' })
})
