/**
 * Holds the current PolicySnapshot and replaces it on reload. A reload that
 * finds any problem (a bad line, a missing or emptied list, a bad exemption)
 * is refused as a whole: the last good snapshot keeps serving, and the failure
 * is reported to the listener. One reload runs at a time; triggers that
 * arrive meanwhile coalesce into one more run. Every accepted snapshot's
 * files are kept on disk as the last good state (open-lists.ts uses it at
 * start), and every reload is one audit line.
 */
import type { Logger } from 'pino'
import { audit } from '../list-sync/audit.js'
import { LastGoodState } from './last-good-state.js'
import type { LoadListsOptions } from './load-lists.js'
import { loadListsInWorker } from './load-lists-in-worker.js'
import { openLists, type ServingLastGood } from './open-lists.js'
import type { PolicySnapshot } from './policy-snapshot.js'
import { refusals } from './reload-rules.js'

export type { ServingLastGood } from './open-lists.js'

export interface ReloadResult {
  readonly ok: boolean
  readonly version: string
  /** Why it was refused (empty when ok). */
  readonly problems: readonly string[]
  readonly changed: boolean
}

/** Reads the lists into a snapshot: in a worker thread by default, so reloads never stall answers. */
export type ListLoader = (opts: LoadListsOptions) => Promise<PolicySnapshot>

export interface PolicyStoreEvents {
  onReload?(result: ReloadResult, trigger: string, snapshot: PolicySnapshot): void
}

export class PolicyStore {
  private current: PolicySnapshot
  private running: Promise<ReloadResult> | null = null
  private again: { trigger: string; promise: Promise<ReloadResult> } | null = null
  private fallback: ServingLastGood | null

  private constructor(
    first: PolicySnapshot,
    fallback: ServingLastGood | null,
    private readonly options: () => LoadListsOptions,
    private events: PolicyStoreEvents,
    private readonly loader: ListLoader,
    private readonly state: LastGoodState | null,
    private readonly log: Logger | null,
  ) {
    this.current = first
    this.fallback = fallback
  }

  /**
   * First load (see open-lists.ts): the folder, or the last good state when
   * the folder would be refused as a reload. With no last good state, bad
   * lines are left out and reported, but a folder with no list, or with an
   * enforced category missing or empty, is refused.
   */
  static async open(options: () => LoadListsOptions, events: PolicyStoreEvents = {}, loader: ListLoader = loadListsInWorker, log: Logger | null = null): Promise<PolicyStore> {
    const o = options()
    const state = o.stateDir ? new LastGoodState(o.stateDir) : null
    const opened = await openLists(o, loader, state)
    const store = new PolicyStore(opened.snapshot, opened.lastGood, options, events, loader, state, log)
    if (opened.lastGood) {
      const { version, reasons } = opened.lastGood
      log?.error({ event: 'lists-serving-last-good', version, dir: o.dir, stateDir: o.stateDir, reasons }, 'the list folder would be refused; serving the last good lists instead (fix the folder; a good reload ends this)')
      audit(log, 'lists-start-last-good', { to: version, dir: o.dir, reasons }, true)
    }
    if (opened.staging) await store.keep(opened.staging)
    return store
  }

  /** Where reload results go (metrics, logs); set once the gateway is wired. */
  setEvents(events: PolicyStoreEvents): void {
    this.events = events
  }

  get snapshot(): PolicySnapshot {
    return this.current
  }

  /** Non-null while the last good state is served because the list folder was refused at start. */
  get servingLastGood(): ServingLastGood | null {
    return this.fallback
  }

  /** The lists part of /v1/status. */
  status(): Record<string, unknown> {
    const s = this.current
    const committedAt = s.committedAt === null ? null : new Date(s.committedAt).toISOString()
    return { version: s.version, committedAt, loadedAt: new Date(s.loadedAt).toISOString(), categories: s.counts(), allow: s.allow.size, servingLastGood: this.fallback }
  }

  /** Reloads now, or after the running reload (coalesced). */
  reload(trigger: string): Promise<ReloadResult> {
    if (!this.running) return this.start(trigger)
    if (!this.again) {
      const promise = this.running.then(
        () => this.start(this.again!.trigger),
        () => this.start(this.again!.trigger),
      )
      this.again = { trigger, promise }
    }
    return this.again.promise
  }

  private start(trigger: string): Promise<ReloadResult> {
    this.again = null
    const run = this.load(trigger).finally(() => {
      if (this.running === run) this.running = null
    })
    this.running = run
    return run
  }

  private async load(trigger: string): Promise<ReloadResult> {
    const old = this.current
    const staging = this.state?.newStaging() ?? null
    let next: PolicySnapshot
    try {
      next = await this.loader({ ...this.options(), copyTo: staging })
    } catch (e) {
      if (staging) await this.state!.discard(staging)
      return this.report({ ok: false, version: old.version, problems: [(e as Error).message], changed: false }, trigger, old, null)
    }
    const problems = refusals(old, next)
    if (problems.length > 0) {
      if (staging) await this.state!.discard(staging)
      return this.report({ ok: false, version: old.version, problems, changed: false }, trigger, old, next.version)
    }
    this.current = next
    this.fallback = null
    // Metrics and the log follow the swap at once; saving the copy to disk may take a moment.
    const result = this.report({ ok: true, version: next.version, problems: [], changed: next.version !== old.version }, trigger, next, next.version, old.version)
    if (staging) await this.keep(staging)
    return result
  }

  /** Makes a staged copy the last good state; a state folder that cannot be written is reported, not fatal. */
  private async keep(staging: string): Promise<void> {
    const problem = await this.state!.accept(staging)
    if (problem) this.log?.warn({ event: 'lists-state-not-saved', stateDir: this.state!.stateDir, problem }, 'the last good lists could not be saved; a restart with a broken folder would have nothing to fall back on')
  }

  private report(result: ReloadResult, trigger: string, snapshot: PolicySnapshot, to: string | null, from = snapshot.version): ReloadResult {
    if (result.ok) audit(this.log, 'lists-reloaded', { trigger, from, to, changed: result.changed })
    else audit(this.log, 'lists-reload-refused', { trigger, from, to, reasons: result.problems }, true)
    this.events.onReload?.(result, trigger, snapshot)
    return result
  }
}
