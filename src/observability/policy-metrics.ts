/**
 * The policy metrics: blocked answers and exemptions per (category, group),
 * the exemptions in force, and the compliance gauge of distinct clients
 * blocked today. Label values come from the config and the lists
 * (setLabelSets adds new ones); anything else folds into `other`. Counts
 * live in a (category x group) table of plain cells and reach prom-client only
 * at scrape time (`collect`): counting a block is two map reads and a number
 * increment, where a prom-client child's inc() re-hashes its labels (~390 ns,
 * ~4 % of a blocked answer's CPU; docs/benchmarks.md).
 */
import type { CaughtBy } from '../pipeline/types.js'
import { localDay, type LocalDay } from './client-pseudonym.js'
import { type MetricFactory, OTHER } from './metric-factory.js'
import { NewClientsFeed } from './new-clients-feed.js'

const CAUGHT_BY: readonly CaughtBy[] = ['name', 'cname', 'ip']

/** One (category, group): blocked counts by CAUGHT_BY index, exemptions applied, today's distinct pseudonyms. */
interface Cell { blocked: [number, number, number]; exempt: number; clients: Set<string>; known: boolean; shown: boolean; category: string; group: string }


export interface LabelSets { groups?: readonly string[]; categories?: readonly string[] }

export interface PolicyMetrics {
  /** `at`: when (ms, the metrics' clock; the edge passes the query's arrival), for the per-day client sets. */
  countBlocked(category: string, group: string, caughtBy: CaughtBy, clientPseudonym: string, at?: number): void
  countExemption(category: string, group: string): void
  setExemptionsActive(n: number | (() => number)): void
  setLabelSets(sets: LabelSets): void
  /** Whether `category` has its own label value (else it is counted as `other`). */
  knowsCategory(category: string): boolean
  /**
   * Announces each pseudonym new to a series today: a cluster worker passes
   * them to the primary, which holds the one distinct set of the host
   * (observability/clients-today.ts).
   */
  readonly newClients: NewClientsFeed
}

export const BLOCKED_CLIENTS_TODAY = 'dnsvakt_policy_blocked_clients_today'
export const BLOCKED_CLIENTS_TODAY_HELP = 'Distinct clients per group blocked in each category since local midnight (capped per series).'

export function policyMetrics(f: MetricFactory, labels: Required<LabelSets>, now: () => number, cap: number): PolicyMetrics {
  const cells: Cell[][] = []
  // Known (category, group) pairs are exposed at 0 from the start (so rate() sees the first increment); `other` once counted.
  const eachExposed = (fn: (cell: Cell) => void): void => {
    for (const row of cells) for (const cell of row) if (cell.known || cell.blocked[0] + cell.blocked[1] + cell.blocked[2] + cell.exempt > 0) fn(cell)
  }
  f.counter('dnsvakt_policy_blocked_total', 'Blocked answers by category, client group and what caught them.', ['category', 'group', 'caught_by'], (c) => {
    c.reset()
    eachExposed(({ category, group, blocked }) => CAUGHT_BY.forEach((caught_by, i) => c.inc({ category, group, caught_by }, blocked[i])))
  })
  f.counter('dnsvakt_policy_exemptions_applied_total', 'Answers let through by an exemption, by the category it lifted.', ['category', 'group'], (c) => {
    c.reset()
    eachExposed(({ category, group, exempt, known }) => { if (known || exempt > 0) c.inc({ category, group }, exempt) })
  })
  let readExemptionsActive: () => number = () => 0
  f.gauge('dnsvakt_policy_exemptions_active', 'Exemptions in force now.', [], 'max', (g) => g.set(readExemptionsActive()))
  const cats: string[] = [], groups: string[] = [], catIdx = new Map<string, number>(), groupIdx = new Map<string, number>()
  let day: LocalDay = localDay(now())
  const rollover = (t: number): void => {
    if (t >= day.start && t < day.end) return
    day = localDay(t)
    for (const row of cells) for (const cell of row) cell.clients.clear()
  }
  f.gauge(BLOCKED_CLIENTS_TODAY, BLOCKED_CLIENTS_TODAY_HELP, ['category', 'group'], 'max', (g) => {
    rollover(now())
    cells.forEach((row, c) => row.forEach((cell, gi) => {
      if (cell.known || cell.shown) g.set({ category: cats[c] ?? OTHER, group: groups[gi] ?? OTHER }, cell.clients.size)
    }))
  })
  const addValues = (values: readonly string[], list: string[], index: Map<string, number>): void => {
    for (const v of [OTHER, ...values]) if (!index.has(v)) { index.set(v, list.length); list.push(v) }
  }
  const fillCells = (): void => {
    cats.forEach((category, c) => {
      const row = (cells[c] ??= [])
      groups.forEach((group, g) => {
        if (row[g]) return
        const known = category !== OTHER && group !== OTHER
        row[g] = { blocked: [0, 0, 0], exempt: 0, clients: new Set(), known, shown: false, category, group }
      })
    })
  }
  const setLabelSets = (sets: LabelSets): void => {
    addValues(sets.categories ?? [], cats, catIdx)
    addValues(sets.groups ?? [], groups, groupIdx)
    fillCells()
  }
  setLabelSets(labels)
  // Index 0 is always 'other' (addValues puts it first).
  const cell = (category: string, group: string): Cell => cells[catIdx.get(category) ?? 0]![groupIdx.get(group) ?? 0]!
  const newClients = new NewClientsFeed()

  return {
    countBlocked(category, group, caughtBy, clientPseudonym, at) {
      const c = cell(category, group)
      c.blocked[caughtBy === 'name' ? 0 : caughtBy === 'cname' ? 1 : 2]++
      rollover(at ?? now())
      // Bounded memory: at most `cap` pseudonyms per series (measured ~57 B
      // each, so ~6 MB at the 100k default); past it the gauge reads the cap, "at least".
      const size = c.clients.size
      if (size < cap && c.clients.add(clientPseudonym).size > size) newClients.emit(BLOCKED_CLIENTS_TODAY, [c.category, c.group], clientPseudonym, day.start)
      c.shown = true
    },
    countExemption(category, group) { cell(category, group).exempt++ },
    setExemptionsActive(n) { readExemptionsActive = typeof n === 'number' ? () => n : n },
    setLabelSets,
    knowsCategory: (category) => catIdx.has(category),
    newClients,
  }
}
