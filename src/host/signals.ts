/**
 * Process signals for a host: SIGTERM and SIGINT stop taking queries, finish
 * what is in flight within a bound, and exit 0 (1 if stopping failed); SIGHUP
 * reloads the lists. Only the CLI's serve path installs these.
 */
import type { Logger } from 'pino'

export interface Stoppable {
  stop(graceMs?: number): Promise<void>
  reload(trigger: string): Promise<unknown>
  /** Extra fields for the `stopping` log line. */
  describe?(): Record<string, unknown>
}

export const STOP_GRACE_MS = 5000

export function installSignals(target: Stoppable, log: Logger, exit: (code: number) => void = (c) => process.exit(c)): void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ event: 'stopping', signal, ...target.describe?.() }, 'stopping: finishing in-flight queries')
    target.stop(STOP_GRACE_MS).then(
      () => exit(0),
      (e: unknown) => {
        log.error({ event: 'stop-failed', err: (e as Error).message }, 'stopping failed')
        exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGHUP', () => void target.reload('SIGHUP'))
}
