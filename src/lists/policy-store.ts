/**
 * Holds the current PolicySnapshot and replaces it on reload. A reload that
 * finds any problem (a bad line, a missing or emptied list, a bad exemption)
 * is refused as a whole: the last good snapshot keeps serving, and the failure
 * is reported to the listener. One reload runs at a time; triggers that
 * arrive meanwhile coalesce into one more run.
 */
import { DnsvaktError } from '../errors.js'
import type { LoadListsOptions } from './load-lists.js'
import { loadListsInWorker } from './load-lists-in-worker.js'
import type { PolicySnapshot } from './policy-snapshot.js'

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

  private constructor(
    first: PolicySnapshot,
    private readonly options: () => LoadListsOptions,
    private events: PolicyStoreEvents,
    private readonly loader: ListLoader,
  ) {
    this.current = first
  }

  /**
   * First load. Bad lines are left out and reported (there is no older good
   * state to fall back on), but a folder with no list at all is refused.
   */
  static async open(options: () => LoadListsOptions, events: PolicyStoreEvents = {}, loader: ListLoader = loadListsInWorker): Promise<PolicyStore> {
    const snapshot = await loader(options())
    if (snapshot.categories.length === 0) {
      throw new DnsvaktError('DNSVAKT_ERR_BLOCKLIST', `no list files (<category>.txt) in ${options().dir}`)
    }
    return new PolicyStore(snapshot, options, events, loader)
  }

  /** Where reload results go (metrics, logs); set once the gateway is wired. */
  setEvents(events: PolicyStoreEvents): void {
    this.events = events
  }

  get snapshot(): PolicySnapshot {
    return this.current
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
    let next: PolicySnapshot
    try {
      next = await this.loader(this.options())
    } catch (e) {
      return this.report({ ok: false, version: old.version, problems: [(e as Error).message], changed: false }, trigger, old)
    }
    const problems = refusals(old, next)
    if (problems.length > 0) return this.report({ ok: false, version: old.version, problems, changed: false }, trigger, old)
    this.current = next
    return this.report({ ok: true, version: next.version, problems: [], changed: next.version !== old.version }, trigger, next)
  }

  private report(result: ReloadResult, trigger: string, snapshot: PolicySnapshot): ReloadResult {
    this.events.onReload?.(result, trigger, snapshot)
    return result
  }
}

/** Why a new snapshot must not replace the old one. */
function refusals(old: PolicySnapshot, next: PolicySnapshot): string[] {
  const out = next.problems.map((p) => `${p.file}:${p.line}: ${p.message}${p.text ? ` (${p.text})` : ''}`)
  for (const c of old.categories) {
    const now = next.categories.find((n) => n.name === c.name)
    if (!now) out.push(`category "${c.name}" disappeared (its files ${c.files.join(', ')} are missing)`)
    else if (c.domains.size > 0 && now.domains.size === 0) out.push(`category "${c.name}" shrank to no names`)
    else if (c.cidrs.size > 0 && now.cidrs.size === 0) out.push(`category "${c.name}" lost all its IP ranges`)
  }
  return out
}
