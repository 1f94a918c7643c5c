/**
 * How dnsvakt's metrics are declared: every one on the registry passed in
 * (never prom-client's global one), gauges read at scrape time through
 * `collect`, children pre-created at zero. Shared by the per-area metric
 * files (policy-metrics.ts, upstream-metrics.ts, metrics.ts).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export type Inc = { inc(n?: number): void }
export type Obs = { observe(v: number): void }

/** How the cluster primary combines a gauge over workers. */
export type Aggregator = 'sum' | 'max' | 'min'

export interface MetricFactory {
  readonly registry: Registry
  /** `collect` (optional) runs at scrape time, for counts kept elsewhere. */
  counter(name: string, help: string, labelNames?: string[], collect?: (c: Counter<string>) => void): Counter<string>
  /** `collect` runs at scrape time, so values read from elsewhere cost nothing per query. */
  gauge(name: string, help: string, labelNames?: string[], aggregator?: Aggregator, collect?: (g: Gauge<string>) => void): Gauge<string>
  histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string>
}

export function metricFactory(registry: Registry): MetricFactory {
  const registers = [registry]
  return {
    registry,
    counter: (name, help, labelNames = [], collect) =>
      new Counter({ name, help, labelNames, registers, ...(collect && { collect(this: Counter<string>) { collect(this) } }) }),
    gauge: (name, help, labelNames = [], aggregator = 'sum', collect) =>
      new Gauge({ name, help, labelNames, registers, aggregator, ...(collect && { collect(this: Gauge<string>) { collect(this) } }) }),
    histogram: (name, help, labelNames, buckets) => new Histogram({ name, help, labelNames, buckets, registers }),
  }
}

/** The child for `labels`, exposed at 0 from the start (so rate() sees the first increment). */
export const zeroed = (c: Counter<string>, labels: Record<string, string>): Inc => {
  const child = c.labels(labels)
  child.inc(0)
  return child
}

/** Where unknown groups, categories and upstreams fold, so input never grows a label. */
export const OTHER = 'other'
