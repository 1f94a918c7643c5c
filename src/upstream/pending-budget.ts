/**
 * A global bound on upstream exchanges in flight, shared by every pool (the
 * default one and each conditional-forwarding zone). With every upstream
 * slow or dead, exchanges pile up for a whole deadline each: at 25k
 * misses/s and a 3 s deadline that is 75k exchanges, each holding a query
 * copy, timers, closures and promises (the RSS growth from 75 to
 * 154 MB under garbage). Past `max` a pool refuses at once with
 * DNSVAKT_ERR_UPSTREAM_OVERLOAD; the forward stage answers that SERVFAIL
 * (the cache stage may still serve stale). SERVFAIL, not a drop: the client
 * learns at once and a stub moves on to its next server, where a drop would
 * make it wait and resend, adding to the load that caused the refusal.
 */
export class PendingBudget {
  private inFlight = 0

  constructor(
    readonly max: number,
    /** Told once per refused exchange (a metric). */
    private readonly onRefused?: () => void,
  ) {}

  /** Exchanges in flight now. */
  get current(): number {
    return this.inFlight
  }

  /** Takes a slot; false (and counted) when all `max` are taken. */
  acquire(): boolean {
    if (this.inFlight >= this.max) {
      this.onRefused?.()
      return false
    }
    this.inFlight++
    return true
  }

  release(): void {
    if (this.inFlight > 0) this.inFlight--
  }
}
