/**
 * Everything that starts a list reload besides SIGHUP and the admin API: the
 * folder watcher and, when configured, the built-in git sync. In cluster mode
 * only the primary runs these and fans the reload out to the workers.
 */
import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load-config.js'
import { GitSync } from './git-sync.js'
import { ListWatcher } from './watch-lists.js'

export interface ListTriggers {
  readonly watcher: ListWatcher
  readonly git: GitSync | null
  /** Starts watching (and syncing). Call once the lists have been loaded. */
  start(): Promise<void>
  stop(): void
}

/**
 * `reload` runs a reload everywhere it must happen; `onSyncFailure` counts a
 * refused or failed git update. With blocking.git set, the first clone is
 * made here (before the lists are loaded for the first time).
 */
export async function prepareListTriggers(
  loaded: LoadedConfig,
  log: Logger,
  reload: (trigger: string) => Promise<unknown>,
  onSyncFailure: () => void,
): Promise<ListTriggers> {
  const { config } = loaded
  const g = config.blocking.git
  const git = g
    ? new GitSync(
        { dir: loaded.blocklistDir, url: g.url, branch: g.branch, intervalMs: g.interval, requireSignedCommits: g.requireSignedCommits, allowedSigners: g.allowedSigners },
        (commit) => reload(`git ${commit.slice(0, 12)}`),
        (o) => {
          if (o.kind === 'updated') log.info({ event: 'git-updated', from: o.from, to: o.to }, 'list repository updated')
          else if (o.kind === 'refused') log.warn({ event: 'git-refused', commit: o.commit, reason: o.reason }, 'list commit refused')
          else if (o.kind === 'failed') log.warn({ event: 'git-failed', reason: o.reason }, 'list repository sync failed')
          if (o.kind === 'refused' || o.kind === 'failed') onSyncFailure()
        },
      )
    : null
  if (git) await git.prepare()
  const watcher = new ListWatcher(loaded.blocklistDir, loaded.exemptionsFile, config.blocking.watchInterval, () => void reload('file-change'))
  return {
    watcher,
    git,
    async start() {
      await watcher.start()
      git?.start()
    },
    stop() {
      watcher.stop()
      git?.stop()
    },
  }
}
