/**
 * Worker-thread entry: works out the delta between the served and the
 * candidate list folders (list-delta.ts) off the main thread, builds its
 * trie there too, and posts it back as transferable data.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { DomainTrie } from '../lists/domain-trie.js'
import { deltaEntries } from './list-delta.js'

const { servedDir, candidateDir } = workerData as { servedDir: string; candidateDir: string }
try {
  const d = await deltaEntries(servedDir, candidateDir)
  const names = DomainTrie.build(d.names).toData()
  parentPort!.postMessage({ ok: true, names, ranges: d.ranges, added: d.added, removed: d.removed }, [...new Set([names.nodes.buffer, names.chars.buffer, names.table.buffer] as ArrayBuffer[])])
} catch (e) {
  parentPort!.postMessage({ ok: false, message: (e as Error).message })
}
