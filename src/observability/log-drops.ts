/**
 * The count of log lines this process dropped because its log destination
 * did not keep up (logger.ts bounds the queue). A plain module counter: the
 * logger exists before any metrics registry, and every registry of the
 * process reads the same number (dnsvakt_log_dropped_lines_total).
 */
let dropped = 0

export function countDroppedLogLine(): void {
  dropped++
}

export function droppedLogLines(): number {
  return dropped
}
