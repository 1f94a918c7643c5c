/**
 * Lists handed over in pieces arrive whole: the rebuilt snapshot answers like
 * the original (the original is the oracle), whatever the piece size and
 * order (inner-label wildcard patterns included); a missing or stray piece is an error, never a partial list.
 */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadLists } from '../../src/lists/load-lists.js'
import { snapshotFromData, snapshotToData } from '../../src/lists/snapshot-data.js'
import { SnapshotReceiver, snapshotHeader, snapshotPieces } from '../../src/lists/snapshot-transfer.js'
import { prng } from '../fixtures/dns-wire.js'

async function lists() {
  const dir = mkdtempSync(join(tmpdir(), 'dnsvakt-transfer-'))
  const names = Array.from({ length: 500 }, (_, i) => `name${i}.example${i % 7}.com`)
  writeFileSync(join(dir, 'tiktok.txt'), `tiktok.com\np16-tiktok-*.ibyteimg.com\n${names.join('\n')}\n`)
  writeFileSync(join(dir, 'telegram.txt'), 'telegram.org\nt.me\n')
  writeFileSync(join(dir, 'telegram.cidrs.txt'), '149.154.160.0/20\n')
  writeFileSync(join(dir, 'allow.txt'), 'ok.tiktok.com\n')
  return loadLists({ dir, exemptionsFile: join(dir, 'exemptions.yaml'), exemptionMaxDurationMs: 86_400_000, now: 0 })
}

const probe = ['p16-tiktok-va.ibyteimg.com', 'x.p16-tiktok-.ibyteimg.com', 'ibyteimg.com', 'tiktok.com', 'a.name7.example0.com', 'name499.example2.com', 'name500.example3.com', 'ok.tiktok.com', 't.me', 'example.org']

t.test('pieces of any size, in any order, rebuild the same lists', async (t) => {
  const original = await lists()
  const { data } = snapshotToData(original)
  for (const size of [1, 7, 4096, 1 << 22]) {
    const pieces = [...snapshotPieces(data, size)]
    const random = prng(size)
    pieces.sort(() => random() - 0.5)
    const receiver = new SnapshotReceiver(structuredClone(snapshotHeader(data)))
    for (const p of pieces) receiver.add(structuredClone(p))
    const rebuilt = snapshotFromData(receiver.finish())
    t.equal(rebuilt.version, original.version)
    t.same(rebuilt.counts(), original.counts())
    for (const name of probe) {
      t.same(rebuilt.categories.map((c) => c.domains.match(name)), original.categories.map((c) => c.domains.match(name)), `${name}, pieces of ${size}`)
      t.equal(rebuilt.allow.match(name), original.allow.match(name))
      const tiktok = (s: typeof original) => s.categories.find((c) => c.name === 'tiktok')!.domains
      const start = tiktok(rebuilt).match(name)
      if (start >= 0) t.equal(tiktok(rebuilt).entryAt(name, start), tiktok(original).entryAt(name, start), `${name}: the same entry`)
    }
  }
})

t.test('a missing or stray piece is an error', async (t) => {
  const { data } = snapshotToData(await lists())
  const pieces = [...snapshotPieces(data, 64)]
  const short = new SnapshotReceiver(snapshotHeader(data))
  for (const p of pieces.slice(1)) short.add(p)
  t.throws(() => short.finish(), { message: /^snapshot incomplete: \d+ of \d+ bytes$/ })
  const stray = new SnapshotReceiver(snapshotHeader(data))
  t.throws(() => stray.add({ array: 99, offset: 0, bytes: new Uint8Array(1) }), { message: /out of range/ })
  t.throws(() => stray.add({ array: 0, offset: 1 << 30, bytes: new Uint8Array(1) }), { message: /out of range/ })
})
