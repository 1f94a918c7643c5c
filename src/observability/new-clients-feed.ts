/**
 * Where the per-day distinct-client gauges (dnsvakt_policy_blocked_clients_today,
 * and any other family counted the same way) announce a pseudonym new to one
 * of their series today. Nobody listens in one process; a cluster worker
 * listens and sends them to the primary, which keeps the host's one set
 * (clients-today.ts). Called once per client, series and day, never per query.
 */

/** A pseudonym seen for the first time today in one series: the gauge, its label values (in label-name order) and the local day's start (ms). */
export type NewClientToday = (gauge: string, labels: readonly string[], pseudonym: string, dayStart: number) => void

export class NewClientsFeed {
  private hook: NewClientToday | null = null

  listen(hook: NewClientToday): void {
    this.hook = hook
  }

  emit(gauge: string, labels: readonly string[], pseudonym: string, dayStart: number): void {
    this.hook?.(gauge, labels, pseudonym, dayStart)
  }
}
