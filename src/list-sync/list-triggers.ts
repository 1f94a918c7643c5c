/**
 * Everything that starts a list reload besides SIGHUP and the admin API: the
 * folder watcher and, when configured, the built-in git sync. In cluster mode
 * only the primary runs these and fans the reload out to the workers.
 */
import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load-config.js'
import { audit } from './audit.js'
import { GitSync, type RefusalCode, type SyncOutcome } from './git-sync.js'
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
 * refused or failed git update, with its reason ("unsigned",
 * "not-descendant" or "failed"). With blocking.git set, the first clone is
 * made here (before the lists are loaded for the first time).
 */
export async function prepareListTriggers(
  loaded: LoadedConfig,
  log: Logger,
  reload: (trigger: string) => Promise<unknown>,
  onSyncFailure: (reason: RefusalCode | 'failed') => void,
): Promise<ListTriggers> {
  const { config } = loaded
  const g = config.blocking.git
  const git = g
    ? new GitSync(
        { dir: loaded.blocklistDir, url: g.url, branch: g.branch, intervalMs: g.interval, requireSignedCommits: g.requireSignedCommits, allowedSigners: g.allowedSigners, allowRewrite: g.allowRewrite ?? false },
        (commit) => reload(`git ${commit.slice(0, 12)}`),
        (o) => logOutcome(log, o, onSyncFailure),
      )
    : null
  if (git) {
    const { remoteChanged } = await git.prepare()
    if (remoteChanged) audit(log, 'lists-remote-changed', { from: remoteChanged.from, to: remoteChanged.to, dir: loaded.blocklistDir }, true)
  }
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

/** One operational line per sync outcome that matters, an audit line per refusal or rewrite, and the failure count. */
function logOutcome(log: Logger, o: SyncOutcome, onSyncFailure: (reason: RefusalCode | 'failed') => void): void {
  if (o.kind === 'updated') {
    log.info({ event: 'git-updated', from: o.from, to: o.to }, 'list repository updated')
    if (o.rewrite) audit(log, 'lists-rewrite-accepted', { from: o.from, to: o.to }, true)
  } else if (o.kind === 'refused') {
    log.warn({ event: 'git-refused', commit: o.commit, code: o.code, reason: o.reason }, 'list commit refused')
    audit(log, o.code === 'unsigned' ? 'lists-signature-failure' : 'lists-update-refused', { commit: o.commit, code: o.code, reason: o.reason }, true)
    onSyncFailure(o.code)
  } else if (o.kind === 'failed') {
    log.warn({ event: 'git-failed', reason: o.reason }, 'list repository sync failed')
    onSyncFailure('failed')
  }
}
