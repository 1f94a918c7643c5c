/**
 * The count of log lines this process dropped because its log destination
 * did not keep up (logger.ts bounds the queue). A plain module counter: the
 * logger exists before any metrics registry, and every registry of the
 * process reads the same number (dnsvakt_log_dropped_lines_total).
 */
import type { MetricFactory } from './metric-factory.js'

let dropped = 0

export function countDroppedLogLine(): void {
  dropped++
}

export function droppedLogLines(): number {
  return dropped
}

/** dnsvakt_log_dropped_lines_total on a registry (each process's own; the cluster primary sums them). */
export function droppedLinesMetric(f: MetricFactory): void {
  f.counter('dnsvakt_log_dropped_lines_total', 'Log lines dropped because the log destination (stdout) did not keep up.', [], (c) => {
    c.reset()
    c.inc(dropped)
  })
}
