/**
 * One timer for many deadlines (the upstream tries and exchanges in flight),
 * instead of a setTimeout/clearTimeout pair per miss. Items sit in a doubly
 * linked list in deadline order, linked through their own fields (no node
 * objects): with one timeout per queue, which is how the pool uses it, a new
 * item always goes at the tail, and an item that ends early unlinks in O(1).
 * The one Node timer is armed for the head; when it fires, every item whose
 * deadline has passed expires and the timer is armed again for the new head.
 * An item removed before its deadline leaves the timer as it is (it fires
 * and finds nothing due), so under steady load the timer wakes about once
 * per timeout, whatever the query rate. The timer is cleared when the queue
 * empties, so an idle queue keeps no process alive.
 */

/** Something with a deadline: extend it and implement expire(). */
export abstract class Due {
  /** Monotonic ms (performance.now) at which expire() is called. */
  deadline = 0
  /** Links in the queue's list; `queued` is false when in none. */
  prevDue: Due | null = null
  nextDue: Due | null = null
  queued = false

  /** Called once, by the queue's timer, when the deadline has passed and the item is still queued. */
  abstract expire(): void
}

export class DeadlineQueue {
  private head: Due | null = null
  private tail: Due | null = null
  private timer: NodeJS.Timeout | undefined
  private timerAt = 0
  private readonly onTimer = (): void => this.fire()

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** Queues `item` to expire `ms` from now. It must not be queued already. */
  add(item: Due, ms: number): void {
    item.deadline = this.clock() + ms
    let after = this.tail
    while (after !== null && after.deadline > item.deadline) after = after.prevDue
    item.prevDue = after
    item.nextDue = after === null ? this.head : after.nextDue
    if (item.nextDue === null) this.tail = item
    else item.nextDue.prevDue = item
    if (after === null) this.head = item
    else after.nextDue = item
    item.queued = true
    if (this.timer === undefined || item.deadline < this.timerAt) this.arm(item.deadline)
  }

  /** Takes `item` out (it ended before its deadline); nothing happens if it is not queued. */
  remove(item: Due): void {
    if (!item.queued) return
    item.queued = false
    if (item.prevDue === null) this.head = item.nextDue
    else item.prevDue.nextDue = item.nextDue
    if (item.nextDue === null) this.tail = item.prevDue
    else item.nextDue.prevDue = item.prevDue
    item.prevDue = null
    item.nextDue = null
    if (this.head === null) this.disarm()
  }

  /** Items waiting. O(n): for tests and status, not the hot path. */
  get size(): number {
    let n = 0
    for (let i = this.head; i !== null; i = i.nextDue) n++
    return n
  }

  /** Takes every item out without expiring it (the caller ends them) and stops the timer. */
  takeAll(): Due[] {
    const all: Due[] = []
    while (this.head !== null) {
      all.push(this.head)
      this.remove(this.head)
    }
    this.disarm()
    return all
  }

  private fire(): void {
    this.timer = undefined
    const now = this.clock()
    // expire() may add items (a retry): they are due later than now, so the loop ends.
    while (this.head !== null && this.head.deadline <= now) {
      const item = this.head
      this.remove(item)
      item.expire()
    }
    // An item added by expire() armed the timer for its own deadline, which may be after the head's.
    if (this.head !== null && (this.timer === undefined || this.timerAt > this.head.deadline)) this.arm(this.head.deadline)
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerAt = at
    // Node's timers have 1 ms resolution and may fire a little early against our clock: fire() re-arms then.
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(at - this.clock())))
  }

  private disarm(): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }
}
