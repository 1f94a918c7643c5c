/**
 * The list delta (list-delta.ts) worked out in a worker thread: reading and
 * parsing both list folders takes about as long as loading them (a second
 * of CPU for a million names), which on the main thread would stall every
 * DNS answer at each reload. The main thread receives the changed entries'
 * trie (moved, not copied) and builds only the changed ranges.
 */
import { Worker } from 'node:worker_threads'
import { DnsvaktError } from '../errors.js'
import { DomainTrie, type TrieData } from '../lists/domain-trie.js'
import { IpRangeSet } from '../lists/ip-ranges.js'
import type { ListDelta } from './list-delta.js'

type WorkerReply = { ok: true; names: TrieData; ranges: string[]; added: number; removed: number } | { ok: false; message: string }

// Under the test runner this module is TypeScript; built, it is JavaScript.
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './list-delta-worker.ts' : './list-delta-worker.js', import.meta.url)

export function listDeltaInWorker(servedDir: string, candidateDir: string): Promise<ListDelta> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { servedDir, candidateDir } })
    let settled = false
    worker.once('message', (m: WorkerReply) => {
      settled = true
      if (m.ok) resolve({ names: DomainTrie.fromData(m.names), ranges: IpRangeSet.fromCidrs(m.ranges), added: m.added, removed: m.removed })
      else reject(new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', m.message))
    })
    worker.once('error', (e) => {
      if (!settled) reject(new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `list delta worker failed: ${e.message}`, { cause: e }))
      settled = true
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `list delta worker exited with code ${code} before answering`))
    })
  })
}
