/**
 * The most frequent names of an unbounded stream in bounded memory: the
 * Space-Saving algorithm (Metwally, Agrawal, El Abbadi 2005). At most
 * `capacity` names are kept; a new name when full takes the place of the
 * least counted one and inherits its count as its possible overcount
 * (`error`). Any name seen more than total/capacity times is guaranteed to
 * be kept, and `count - error` is a lower bound of its true count. Names
 * only: no client is ever recorded.
 */

export interface TopName {
  readonly name: string
  /** Upper bound of how often the name was seen. */
  readonly count: number
  /** How much of `count` may belong to names it replaced (0: exact). */
  readonly error: number
  /** What the caller attached on the name's first sighting (category, entry). */
  readonly detail: Readonly<Record<string, string>>
}

interface Slot {
  name: string
  count: number
  error: number
  detail: Readonly<Record<string, string>>
}

export class TopNames {
  private readonly slots = new Map<string, Slot>()
  private total = 0

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`TopNames capacity must be at least 1, got ${capacity}`)
  }

  /** Counts one sighting of `name`. O(1) for a kept name; O(capacity) to find the least counted when a new name arrives full. */
  add(name: string, detail: Readonly<Record<string, string>>): void {
    this.total++
    const kept = this.slots.get(name)
    if (kept !== undefined) {
      kept.count++
      return
    }
    if (this.slots.size < this.capacity) {
      this.slots.set(name, { name, count: 1, error: 0, detail })
      return
    }
    let least: Slot | null = null
    for (const s of this.slots.values()) if (least === null || s.count < least.count) least = s
    this.slots.delete(least!.name)
    this.slots.set(name, { name, count: least!.count + 1, error: least!.count, detail })
  }

  /** Sightings counted, kept or not. */
  get seen(): number {
    return this.total
  }

  /** The kept names, most counted first (ties by name, so the order is stable). */
  top(limit = this.capacity): TopName[] {
    return [...this.slots.values()]
      .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, limit)
      .map((s) => ({ name: s.name, count: s.count, error: s.error, detail: s.detail }))
  }

  clear(): void {
    this.slots.clear()
    this.total = 0
  }
}
