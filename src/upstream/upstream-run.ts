/**
 * One client query's way through the upstreams, driven by upstream-pool.ts:
 * this round's plan, the upstreams that timed out (tried again next round),
 * the try under way, the last SERVFAIL seen and the whole exchange's
 * deadline (in the pool's DeadlineQueue). One typed object per miss, which
 * is also what the UDP exchanger reports a try's outcome to: a miss makes no
 * promise, no closure and no timer of its own in the pool. A health probe is
 * a run of one try with no caller (`done` null).
 */
import { Due } from './deadline-queue.js'
import type { ReplyWaiter } from './upstream-socket.js'

/** `wire`: the validated reply, with our ID (the caller writes the client's); `ms`: the whole exchange, failovers included. */
export interface ExchangeResult { readonly wire: Buffer; readonly upstream: string; readonly ms: number }

/** How a pool tells its caller: an error, or the result. Called once. */
export type ExchangeCallback = (error: Error | null, result: ExchangeResult | null) => void

/** What the pool does with a run's events. */
export interface RunOwner<S> {
  tryReplied(run: Run<S>, reply: Buffer): void
  tryFailed(run: Run<S>, error: unknown): void
  deadlinePassed(run: Run<S>): void
}

export class Run<S> extends Due implements ReplyWaiter {
  /** The next upstream of `round` to try. */
  next = 0
  /** Upstreams that timed out in this round, for the next one (made at the first timeout). */
  again: S[] | null = null
  /** The try under way: at which upstream, since when (hrtime ms), and whether it is the TCP retry after TC=1. */
  current: S | null = null
  tryStarted = 0
  overTcp = false
  /** The caller has its answer (a result, an error or the deadline); a try may still be under way. */
  finished = false
  /** No try is under way any more; the deadline and the budget slot are given back. */
  ended = false
  /** Some upstream answered (SERVFAIL, REFUSED, a bad reply): the final error is _ANSWER, not _NETWORK. */
  answered = false
  servfail: { wire: Buffer; upstream: string } | undefined = undefined
  /** "label reason" per failed try, for the final error (made at the first failure). */
  failures: string[] | null = null
  lastError: unknown = undefined

  constructor(
    private readonly owner: RunOwner<S>,
    readonly query: Buffer,
    /** hrtime ms at the start. */
    readonly started: number,
    /** This round's upstreams, in order. */
    public round: readonly S[],
    readonly done: ExchangeCallback | null,
    /** A slot of the PendingBudget was taken for this run. */
    readonly budgeted: boolean,
  ) {
    super()
  }

  replied(reply: Buffer): void {
    this.owner.tryReplied(this, reply)
  }

  failed(error: Error): void {
    this.owner.tryFailed(this, error)
  }

  expire(): void {
    this.owner.deadlinePassed(this)
  }

  fail(label: string, reason: string): void {
    ;(this.failures ??= []).push(`${label} ${reason}`)
  }

  /** Tells the caller, once. */
  tell(error: unknown, result: ExchangeResult | null): void {
    if (this.finished) return
    this.finished = true
    this.done!(error as Error | null, result)
  }

  /** The last SERVFAIL seen as the result (the client gets the upstream's EDE), or null. */
  servfailResult(now: number): ExchangeResult | null {
    const sf = this.servfail
    return sf === undefined ? null : { wire: sf.wire, upstream: sf.upstream, ms: now - this.started }
  }
}
