/**
 * The first load, with the last good state on disk in mind. A list folder
 * that a reload would refuse (a bad line or exemption, an enforced category
 * emptied or gone) is not served at start when a last good state exists: the
 * last good lists are, and the store says so (log, status, metric). With no
 * last good state, a folder with no list, or with a category a group enforces
 * missing or empty, stops the start: it would enforce nothing for it.
 */
import { join } from 'node:path'
import { DnsvaktError } from '../errors.js'
import type { LoadListsOptions } from './load-lists.js'
import { LastGoodState, STATE_EXEMPTIONS } from './last-good-state.js'
import type { PolicySnapshot } from './policy-snapshot.js'
import { refusals, unservableProblems } from './reload-rules.js'

/** Why the gateway serves the last good lists instead of the folder. */
export interface ServingLastGood {
  /** The version being served (from the state folder). */
  readonly version: string
  /** ms (the injected clock) when it started doing so. */
  readonly since: number
  /** What is wrong with the list folder. */
  readonly reasons: readonly string[]
}

export interface OpenedLists {
  readonly snapshot: PolicySnapshot
  /** Staging folder holding the snapshot's files, to accept as the new last good state; null when there is none. */
  readonly staging: string | null
  readonly lastGood: ServingLastGood | null
}

type Loader = (opts: LoadListsOptions) => Promise<PolicySnapshot>

export async function openLists(o: LoadListsOptions, loader: Loader, state: LastGoodState | null): Promise<OpenedLists> {
  const last = state ? await loadLastGood(o, loader, state) : null
  const staging = state?.newStaging() ?? null
  let fresh: PolicySnapshot
  try {
    fresh = await loader({ ...o, copyTo: staging })
  } catch (e) {
    if (staging) await state!.discard(staging)
    if (!last) throw e
    return { snapshot: last, staging: null, lastGood: { version: last.version, since: o.now, reasons: [(e as Error).message] } }
  }
  const enforced = o.enforced ?? 'all'
  if (last) {
    const reasons = refusals(last, fresh, enforced)
    if (reasons.length === 0) return { snapshot: fresh, staging, lastGood: null }
    if (staging) await state!.discard(staging)
    return { snapshot: last, staging: null, lastGood: { version: last.version, since: o.now, reasons } }
  }
  const problems = unservableProblems(fresh, enforced)
  if (problems.length > 0) {
    if (staging) await state!.discard(staging)
    throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `cannot start on the lists in ${o.dir} (and there is no last good state in ${state?.stateDir ?? '(none configured)'}):\n  - ${problems.join('\n  - ')}`, { problems })
  }
  // Lines left out (reported by the gateway) make a snapshot servable, but not a last good state.
  if (fresh.problems.length > 0 && staging) {
    await state!.discard(staging)
    return { snapshot: fresh, staging: null, lastGood: null }
  }
  return { snapshot: fresh, staging, lastGood: null }
}

/** The last good lists as a snapshot, or null when there are none (or they cannot be read back). */
async function loadLastGood(o: LoadListsOptions, loader: Loader, state: LastGoodState): Promise<PolicySnapshot | null> {
  const found = await state.read()
  if (!found) return null
  try {
    const snap = await loader({ ...o, dir: found.dir, exemptionsFile: join(found.dir, STATE_EXEMPTIONS), copyTo: null, fixedVersion: found.meta })
    return snap.categories.length > 0 && snap.problems.length === 0 ? snap : null
  } catch {
    return null
  }
}
