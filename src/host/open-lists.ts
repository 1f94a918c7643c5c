/**
 * The one way a host opens its lists: the git clone (or sync) first, then the
 * first load, then the triggers that reload them. Single-process mode and the
 * cluster primary both come through here, so neither can load an empty
 * folder before `blocking.git` has filled it (the bug this file exists for:
 * the primary used to load first and exit at start on a fresh host).
 */
import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load-config.js'
import { type ListTriggers, prepareListTriggers } from '../list-sync/list-triggers.js'

export interface ReloadsLists {
  reload(trigger: string): Promise<unknown>
}

export interface OpenedLists<T> {
  /** What `open` returned: whatever holds the lists (a gateway, the primary's store). */
  readonly holder: T
  /** Not yet watching: call start() once the host serves. */
  readonly triggers: ListTriggers
}

/**
 * `open` makes the first load (and whatever serves from it); `onSyncFailure`
 * counts a refused or failed git update once it exists.
 */
export async function openLists<T extends ReloadsLists>(
  loaded: LoadedConfig,
  log: Logger,
  open: () => Promise<T>,
  onSyncFailure: (holder: T) => void,
): Promise<OpenedLists<T>> {
  let holder: T | null = null
  // Neither callback can run before open() has returned: the watcher and the
  // git timer start only with triggers.start().
  const triggers = await prepareListTriggers(
    loaded,
    log,
    (trigger) => holder!.reload(trigger),
    () => {
      if (holder) onSyncFailure(holder)
    },
  )
  holder = await open()
  return { holder, triggers }
}
