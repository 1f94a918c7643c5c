/**
 * Loads the lists in a worker thread. Parsing a million list lines and
 * building the trie takes about a second of CPU; on the main thread that
 * second would stall every DNS answer. In a worker the main thread only
 * receives the finished typed arrays (moved, not copied) and swaps them in,
 * and the parser's garbage (the file text, a string per name) dies with the
 * worker's heap instead of lingering in ours.
 */
import { Worker } from 'node:worker_threads'
import { DnsvaktError } from '../errors.js'
import type { LoadListsOptions } from './load-lists.js'
import type { PolicySnapshot } from './policy-snapshot.js'
import { type SnapshotData, snapshotFromData } from './snapshot-data.js'

type WorkerReply = { ok: true; data: SnapshotData } | { ok: false; code: string | null; message: string }

// Under the test runner this module is TypeScript; built, it is JavaScript.
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './load-lists-worker.ts' : './load-lists-worker.js', import.meta.url)

export function loadListsInWorker(opts: LoadListsOptions): Promise<PolicySnapshot> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: opts })
    let settled = false
    worker.once('message', (m: WorkerReply) => {
      settled = true
      if (m.ok) resolve(snapshotFromData(m.data))
      else reject(new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', m.message))
    })
    worker.once('error', (e) => {
      if (!settled) reject(new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `list loader failed: ${e.message}`, { cause: e }))
      settled = true
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `list loader exited with code ${code} before answering`))
    })
  })
}
