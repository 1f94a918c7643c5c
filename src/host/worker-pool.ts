/**
 * The cluster primary's workers: forks them, hands each its start state
 * (secret and the primary's current lists), tracks which list version each
 * serves, replaces one that dies (within a restart budget) or that cannot
 * take a version the primary accepted, and asks them for status. Every send
 * has an error callback: a send to a worker that is disconnecting must not
 * throw in the primary.
 */
import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import { DnsvaktError } from '../errors.js'
import type { SnapshotData } from '../lists/snapshot-data.js'
import { snapshotHeader, snapshotPieces } from '../lists/snapshot-transfer.js'
import type { ClientsTodayBatch } from '../observability/clients-today.js'
import { type BoundAddress, isMessage, type MetricsJson, type ToPrimary, type ToWorker, type WorkerReload, type WorkerStatus } from './messages.js'
import { PendingRequests } from './pending-requests.js'

/** A worker that dies is restarted, but not more often than this per minute (a crash loop is logged and left). */
const MAX_RESTARTS_PER_MINUTE = 10
const STATUS_TIMEOUT_MS = 2000
/** A worker that does not hand over its metrics by then is left out of that scrape. */
const METRICS_TIMEOUT_MS = 5000
/** A worker that has not taken accepted lists by then is replaced. */
const LISTS_TIMEOUT_MS = 30_000

interface Member {
  readonly worker: Worker
  readonly pid: number
  ready: boolean
  version: string | null
  dns: readonly BoundAddress[]
  upstreams: readonly string[]
}

type ListAck = Omit<WorkerReload, 'pid'>

export interface PoolHooks {
  /** The pseudonym secret (hex) every worker uses. */
  readonly secret: string
  /** The primary's current lists: what a (re)started worker begins with, and what a worker found on another version is given. */
  current(): { version: string; data: () => SnapshotData; servingLastGood: boolean }
  /** The service stopped serving after its start (a crash loop left no worker): exit non-zero with this line. */
  fatal(line: string): void
  /** A worker's pseudonyms new today, for the host's distinct set. */
  clientsToday?(batch: ClientsTodayBatch): void
}

export class WorkerPool {
  private readonly members = new Map<number, Member>()
  private readonly restarts: number[] = []
  private readonly statusRequests = new PendingRequests<WorkerStatus>()
  private readonly listRequests = new PendingRequests<ListAck>()
  private readonly metricsRequests = new PendingRequests<MetricsJson | null>()
  private started = false
  private stopping = false
  private failed = false
  private nextTransfer = 1
  private onAllReady: (() => void) | null = null
  private onStartFailed: ((e: Error) => void) | null = null

  constructor(
    private readonly count: number,
    private readonly log: Logger,
    private readonly hooks: PoolHooks,
  ) {}

  /** Forks every worker; resolves once all serve, rejects with one line if one cannot start. */
  start(): Promise<void> {
    cluster.setupPrimary({ serialization: 'advanced' })
    const all = new Promise<void>((resolve, reject) => {
      this.onAllReady = resolve
      this.onStartFailed = reject
    })
    for (let i = 0; i < this.count; i++) this.fork()
    return all.then(() => {
      this.started = true
    })
  }

  get readyCount(): number {
    return [...this.members.values()].filter((m) => m.ready).length
  }

  /** Every worker serves, all on `version`. */
  allOn(version: string): boolean {
    const members = [...this.members.values()]
    return members.length === this.count && members.every((m) => m.ready && m.version === version)
  }

  /** Something serves, or the first start is still under way. */
  alive(): boolean {
    return !this.failed && (!this.started || this.readyCount > 0)
  }

  /** What the first ready worker bound and forwards to (they share the sockets and the config). */
  get firstReady(): Member | undefined {
    return [...this.members.values()].find((m) => m.ready)
  }

  /** Hands accepted lists to every serving worker and waits for each to acknowledge its version. */
  async applyLists(trigger: string, version: string, data: SnapshotData, servingLastGood = false): Promise<WorkerReload[]> {
    const ready = [...this.members.values()].filter((m) => m.ready)
    return Promise.all(ready.map((m) => this.handLists(m, trigger, version, data, servingLastGood)))
  }

  /** Where every worker stands against the host's version (for a reload the primary refused). */
  versions(hostVersion: string): WorkerReload[] {
    return [...this.members.values()].map((m) => ({ pid: m.pid, ok: m.version === hostVersion, version: m.version ?? 'starting', problems: [] }))
  }

  async status(): Promise<WorkerStatus[]> {
    const members = [...this.members.values()]
    return Promise.all(
      members.map((m) =>
        this.statusRequests.ask(
          (requestId) => void this.send(m, { type: 'dnsvakt:status', requestId }),
          STATUS_TIMEOUT_MS,
          () => ({ pid: m.pid, listVersion: m.ready ? 'no answer' : 'starting', upstreams: [], cache: null, inFlight: -1 }),
        ),
      ),
    )
  }

  /** Every connected worker's registry as JSON (one that does not answer in time is left out). */
  async metrics(): Promise<MetricsJson[]> {
    const members = [...this.members.values()].filter((m) => m.ready)
    const answers = await Promise.all(
      members.map((m) => this.metricsRequests.ask<MetricsJson | null>((requestId) => void this.send(m, { type: 'dnsvakt:metrics', requestId }), METRICS_TIMEOUT_MS, () => null)),
    )
    return answers.filter((a): a is MetricsJson => a !== null)
  }

  /** Sends to one worker (a count that must happen once, not once per worker). */
  sendOne(m: ToWorker): void {
    const first = this.firstReady
    if (first) void this.send(first, m)
  }

  /** Workers finish in-flight queries within graceMs; stragglers are killed. */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true
    for (const m of this.members.values()) void this.send(m, { type: 'dnsvakt:shutdown', graceMs })
    const deadline = Date.now() + graceMs + 2000
    while (this.members.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    this.killAll()
  }

  killAll(): void {
    for (const m of this.members.values()) m.worker.process.kill('SIGKILL')
  }

  private fork(): void {
    const worker = cluster.fork()
    const member: Member = { worker, pid: worker.process.pid ?? 0, ready: false, version: null, dns: [], upstreams: [] }
    this.members.set(worker.id, member)
    worker.on('error', (e) => this.log.warn({ event: 'worker-ipc-error', pid: member.pid, err: e.message }, 'IPC with a worker failed'))
    worker.on('message', (raw: unknown) => {
      if (isMessage(raw)) this.onMessage(member, raw as ToPrimary)
    })
    worker.on('exit', (code, signal) => this.onExit(member, code, signal))
  }

  private onMessage(m: Member, msg: ToPrimary): void {
    switch (msg.type) {
      case 'dnsvakt:hello':
        return void this.sendInit(m)
      case 'dnsvakt:ready':
        return this.onReady(m, msg)
      case 'dnsvakt:start-failed':
        return this.startFailed(m, msg.line)
      case 'dnsvakt:status':
        return this.statusRequests.answer(msg.requestId, msg.status)
      case 'dnsvakt:reloaded':
        return this.listRequests.answer(msg.requestId, { ok: msg.ok, version: msg.version, problems: msg.problems })
      case 'dnsvakt:metrics':
        return this.metricsRequests.answer(msg.requestId, msg.metrics)
      case 'dnsvakt:clients-today':
        return this.hooks.clientsToday?.(msg.batch)
    }
  }

  private onReady(m: Member, msg: Extract<ToPrimary, { type: 'dnsvakt:ready' }>): void {
    Object.assign(m, { ready: true, version: msg.version, dns: msg.dns, upstreams: msg.upstreams })
    const current = this.hooks.current()
    // A reload finished while this worker was starting: bring it to the host's version.
    if (msg.version !== current.version) void this.handLists(m, 'catch-up', current.version, current.data(), current.servingLastGood)
    if (!this.started && this.readyCount === this.count) this.onAllReady?.()
  }

  private startFailed(m: Member, line: string): void {
    if (!this.started) return this.fail(line)
    this.log.error({ event: 'worker-start-failed', pid: m.pid, reason: line }, 'a replacement worker could not start')
  }

  private async sendInit(m: Member): Promise<void> {
    const current = this.hooks.current()
    const transferId = await this.transfer(m, current.data())
    if (transferId !== null) void this.send(m, { type: 'dnsvakt:init', secret: this.hooks.secret, transferId, servingLastGood: current.servingLastGood, workers: this.count })
  }

  private async handLists(m: Member, trigger: string, version: string, lists: SnapshotData, servingLastGood: boolean): Promise<WorkerReload> {
    // A worker that stops reading would hold the transfer forever: it gets the same deadline as its answer.
    const transferId = await Promise.race([this.transfer(m, lists), new Promise<null>((r) => setTimeout(() => r(null), LISTS_TIMEOUT_MS).unref())])
    const ack = await this.listRequests.ask(
      (requestId) => (transferId === null ? undefined : this.send(m, { type: 'dnsvakt:lists', requestId, trigger, transferId, version, servingLastGood })),
      LISTS_TIMEOUT_MS,
      () => ({ ok: false, version: m.version ?? 'starting', problems: [`no answer within ${LISTS_TIMEOUT_MS / 1000} s`] }),
    )
    const ok = ack.ok && ack.version === version
    if (ok) m.version = ack.version
    else this.replace(m, `could not take lists ${version}: ${ack.problems.join('; ') || `serves ${ack.version}`}`)
    return { pid: m.pid, ok, version: ack.version, problems: ack.problems }
  }

  /** A worker that cannot serve the host's lists must not serve at all: stop it; onExit starts another. */
  private replace(m: Member, reason: string): void {
    if (this.stopping || !this.members.has(m.worker.id)) return
    this.log.error({ event: 'worker-replaced', pid: m.pid, reason }, 'a worker disagrees with the host lists; replacing it')
    m.ready = false
    void this.send(m, { type: 'dnsvakt:shutdown', graceMs: 1000 })
    setTimeout(() => m.worker.process.kill('SIGKILL'), 3000).unref()
  }

  private onExit(m: Member, code: number | null, signal: string | null): void {
    this.members.delete(m.worker.id)
    if (this.stopping || this.failed) return
    const now = Date.now()
    this.restarts.push(now)
    while (this.restarts.length > 0 && this.restarts[0]! < now - 60_000) this.restarts.shift()
    if (this.restarts.length > MAX_RESTARTS_PER_MINUTE) {
      this.log.error({ event: 'worker-crash-loop', code, signal }, 'workers keep dying; not restarting this one')
      if (this.members.size === 0) this.fail(`every worker died (${this.restarts.length} restarts in a minute); last exit code ${code}, signal ${signal}`)
      return
    }
    this.log.error({ event: 'worker-died', pid: m.pid, code, signal }, 'a worker died; starting another')
    this.fork()
  }

  private fail(line: string): void {
    if (this.failed) return
    this.failed = true
    this.killAll()
    if (this.started) this.hooks.fatal(line)
    else this.onStartFailed?.(new DnsvaktError('DNSVAKT_ERR_CONFIG', line))
  }

  /**
   * Sends lists in pieces, the next only once the last is written, so the
   * primary holds one piece per worker at a time. Null if the worker is gone.
   */
  private async transfer(m: Member, data: SnapshotData): Promise<number | null> {
    const transferId = this.nextTransfer++
    if (!(await this.send(m, { type: 'dnsvakt:lists-begin', transferId, header: snapshotHeader(data) }))) return null
    for (const piece of snapshotPieces(data)) {
      if (!(await this.send(m, { type: 'dnsvakt:lists-piece', transferId, piece }))) return null
    }
    return transferId
  }

  /** Resolves true once written to the worker's channel, false if it could not be (never throws). */
  private send(m: Member, msg: ToWorker): Promise<boolean> {
    if (!m.worker.isConnected()) return Promise.resolve(false)
    return new Promise((resolve) => {
      m.worker.send(msg, (e: Error | null) => {
        if (e) this.log.debug({ event: 'worker-send-failed', pid: m.pid, type: msg.type, err: e.message }, 'a message to a worker was lost')
        resolve(!e)
      })
    })
  }
}
