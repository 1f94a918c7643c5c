/**
 * Counters and a histogram kept in typed arrays and handed to prom-client only
 * at scrape time, for the few metrics touched on every query. A prom-client
 * child inc() costs ~390 ns and observe() ~420 ns (it re-hashes the label
 * object per call); an array cell increment costs a few ns. Measured with
 * bench/hot-path.sh: see docs/benchmarks.md.
 *
 * Both classes implement the shape prom-client's Registry reads (name, help,
 * type, get(), reset(), aggregator), so they register like any metric and
 * cluster aggregation (AggregatorRegistry) merges them like built-in ones.
 */
import type { Registry } from 'prom-client'

type Labels = Record<string, string>

interface MetricValue {
  labels: Labels
  value: number
  metricName?: string
}

/** A counter whose label sets are fixed up front; cell i counts label set i. */
export class ArrayCounter {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  readonly cells: Float64Array
  readonly labelNames: readonly string[]

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelSets: readonly Labels[],
    registry: Registry,
  ) {
    this.labelNames = Object.keys(labelSets[0] ?? {})
    this.cells = new Float64Array(Math.max(1, labelSets.length))
    registry.registerMetric(this as never)
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values = this.labelSets.length === 0 ? [{ labels: {}, value: this.cells[0] }] : this.labelSets.map((labels, i) => ({ labels, value: this.cells[i] }))
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.cells.fill(0)
  }
}

/** A histogram over fixed label sets; observe(set, value) counts into one bucket. */
export class ArrayHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly counts: Float64Array
  private readonly sums: Float64Array
  private readonly totals: Float64Array
  readonly labelNames: readonly string[]

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    private readonly labelSets: readonly Labels[],
    registry: Registry,
  ) {
    this.labelNames = Object.keys(labelSets[0] ?? {})
    this.counts = new Float64Array(labelSets.length * buckets.length)
    this.sums = new Float64Array(labelSets.length)
    this.totals = new Float64Array(labelSets.length)
    registry.registerMetric(this as never)
  }

  observe(set: number, value: number): void {
    const b = this.buckets
    let i = 0
    while (i < b.length && value > b[i]) i++
    if (i < b.length) this.counts[set * b.length + i]++
    this.sums[set] += value
    this.totals[set]++
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = []
    this.labelSets.forEach((labels, s) => {
      let cumulative = 0
      this.buckets.forEach((le, i) => {
        cumulative += this.counts[s * this.buckets.length + i]
        values.push({ labels: { le: String(le), ...labels }, value: cumulative, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { le: '+Inf', ...labels }, value: this.totals[s], metricName: `${this.name}_bucket` })
      values.push({ labels, value: this.sums[s], metricName: `${this.name}_sum` })
      values.push({ labels, value: this.totals[s], metricName: `${this.name}_count` })
    })
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.counts.fill(0)
    this.sums.fill(0)
    this.totals.fill(0)
  }
}
