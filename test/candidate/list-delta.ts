/**
 * The list delta between two real list folders, worked out in this thread
 * and in a worker thread (as the gateway does): the same changed entries,
 * and a name no changed entry covers is not in it.
 */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listDelta } from '../../src/candidate/list-delta.js'
import { listDeltaInWorker } from '../../src/candidate/list-delta-in-worker.js'

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-delta-'))
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
  return dir
}

const served = folder({ 'tiktok.txt': 'tiktok.com\nold.example\n', 'telegram.cidrs.txt': '149.154.160.0/20\n', 'allow.txt': 'ok.tiktok.com\n' })
const candidate = folder({ 'tiktok.txt': 'tiktok.com\np16-*.new.example\n', 'telegram.cidrs.txt': '149.154.160.0/20\n91.108.4.0/22\n', 'gambling.txt': 'casino.example\n' })

t.test('in this thread and in a worker: the same delta', async (t) => {
  for (const [how, delta] of [['thread', await listDelta(served, candidate)], ['worker', await listDeltaInWorker(served, candidate)]] as const) {
    t.same({ added: delta.added, removed: delta.removed }, { added: 3, removed: 2 }, `${how}: p16-*.new.example, 91.108.4.0/22 and casino.example added; old.example and the allow entry removed`)
    for (const name of ['old.example', 'x.old.example', 'p16-va.new.example', 'casino.example', 'ok.tiktok.com']) t.ok(delta.names.match(name) >= 0, `${how}: ${name} is covered by a change`)
    for (const name of ['tiktok.com', 'www.tiktok.com', 'new.example', 'example.org']) t.ok(delta.names.match(name) < 0, `${how}: ${name} is not`)
    t.equal(delta.ranges.containsV4(new Uint8Array([91, 108, 4, 10]), 0), '91.108.4.0/22', `${how}: the added range`)
    t.equal(delta.ranges.containsV4(new Uint8Array([149, 154, 167, 50]), 0), null, `${how}: an unchanged range is no change`)
  }
  await t.rejects(listDeltaInWorker(served, join(tmpdir(), 'dnsvakt-no-such-folder')), { code: 'DNSVAKT_ERR_BLOCKLIST' })
})
