/**
 * A socket to the upstreams and the exchanges sent on it (udp-exchange.ts
 * owns both): typed objects, so a miss makes no Map, Set or closure for its
 * bookkeeping. The exchange's deadline is in the exchanger's DeadlineQueue.
 */
import type { Socket } from 'node:dgram'
import { Due } from './deadline-queue.js'
import type { IgnoredReason, UpstreamTarget } from './upstream-target.js'

/** Told how an exchange ended: one of the two, once. */
export interface ReplyWaiter {
  replied(reply: Buffer): void
  failed(error: Error): void
}

/** One exchange in flight (then a tombstone, see UpstreamSocket). */
export class Pending extends Due {
  done = false

  constructor(
    private readonly owner: { timedOut(p: Pending): void },
    readonly ps: UpstreamSocket,
    readonly id: number,
    readonly wire: Buffer,
    /** The caller's query when `wire` has a randomised case: the reply gets its case back. */
    readonly original: Buffer | undefined,
    readonly questionEnd: number,
    readonly target: UpstreamTarget,
    /** canonicalIp(target.address): where the reply must come from, with target.port. */
    readonly address: string,
    readonly timeoutMs: number,
    readonly onIgnored: ((reason: IgnoredReason) => void) | undefined,
    readonly waiter: ReplyWaiter,
  ) {
    super()
  }

  expire(): void {
    this.owner.timedOut(this)
  }
}

/**
 * A socket and what was sent on it, one query at a time. Finished exchanges
 * stay as tombstones until the socket closes: their IDs are not reused on
 * this port (a late reply cannot match a newer query) and a late or
 * duplicate reply is dropped without being counted as a spoof. Bounded by
 * queriesPerSocket.
 */
export class UpstreamSocket {
  sent = 0
  /** Exchanges still waiting (0 or 1). */
  live = 0
  /** The socket failed (bind or later): used for no further query. */
  error: Error | null = null
  /** close() called: a second call during bind would throw later, outside any try (dgram queues it). */
  shut = false
  /** The first exchange: a socket for one query makes no map. */
  first: Pending | null = null
  /** ID -> exchange from the second query on. */
  more: Map<number, Pending> | null = null

  constructor(
    readonly socket: Socket,
    readonly family: number,
    /** A member of the exchanger's rotation (else an extra, closed after its query). */
    readonly pooled: boolean,
    readonly createdAt: number,
  ) {}

  find(id: number): Pending | undefined {
    return this.first !== null && this.first.id === id ? this.first : this.more?.get(id)
  }

  add(p: Pending): void {
    if (this.first === null) this.first = p
    else (this.more ??= new Map()).set(p.id, p)
    this.sent++
    this.live++
  }

  /** Exchanges still waiting (a snapshot: finishing one while iterating is safe). */
  waiting(): Pending[] {
    const all = this.more === null ? [] : [...this.more.values()]
    if (this.first !== null) all.push(this.first)
    return all.filter((p) => !p.done)
  }
}
