/**
 * Worker-thread entry: reads and builds the lists (loadLists) off the main
 * thread and posts the snapshot back as transferable data.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { isDnsvaktError } from '../errors.js'
import { loadLists, type LoadListsOptions } from './load-lists.js'
import { snapshotToData } from './snapshot-data.js'

try {
  const snapshot = await loadLists(workerData as LoadListsOptions)
  const { data, transfer } = snapshotToData(snapshot)
  parentPort!.postMessage({ ok: true, data }, transfer)
} catch (e) {
  parentPort!.postMessage({ ok: false, code: isDnsvaktError(e) ? e.code : null, message: (e as Error).message })
}
