/**
 * `dnsvakt [serve] [--config FILE]`: runs the gateway until a signal stops
 * it. One process (`workers: 1`), or a cluster primary and its workers.
 * Logs are JSON lines from createLogger. A listener that cannot be bound
 * is reported as one line naming its config key (see bind-listeners.ts).
 */
import cluster from 'node:cluster'
import { availableParallelism } from 'node:os'
import { runPrimary } from '../host/cluster-primary.js'
import { runWorker } from '../host/cluster-worker.js'
import { type LoadedConfig, loadConfig } from '../config/load-config.js'
import { createLogger } from '../observability/logger.js'
import { handleSignals, startService } from '../host/single-process.js'
import { listenError } from '../server/bind-listeners.js'
import { usageError } from './help-command.js'
import { type CommandIo, KEEP_RUNNING, takeOption } from './options.js'

export async function runServe(args: string[], io: CommandIo): Promise<number> {
  const file = takeOption(args, '--config')
  if (args.length > 0) return usageError(io, `unexpected argument(s): ${args.join(' ')}`)
  const loaded = loadConfig(file)
  const { level } = loaded.config.log
  const workers = loaded.config.workers === 'auto' ? availableParallelism() : loaded.config.workers
  if (workers > 1 && cluster.isPrimary) {
    await runPrimary(loaded, createLogger({ level, base: { service: 'dnsvakt', role: 'primary' } }), workers)
  } else if (cluster.isWorker) {
    await runWorker(loaded, createLogger({ level, base: { service: 'dnsvakt', worker: cluster.worker?.id } }))
  } else {
    const log = createLogger({ level, base: { service: 'dnsvakt' } })
    handleSignals(await startService(loaded, { logger: log }).catch((e: unknown) => Promise.reject(adminListenError(loaded, e))), log)
  }
  return KEEP_RUNNING
}

/** The admin listener is bound by the service host: its bind failure named by key, like the DNS listeners'. */
function adminListenError(loaded: LoadedConfig, e: unknown): unknown {
  const admin = loaded.config.listen.admin
  const failed = e as { port?: number; syscall?: string }
  if (admin === '' || failed.syscall !== 'listen' || failed.port !== admin.port) return e
  return listenError('listen.admin', admin, 'HTTP', e)
}
