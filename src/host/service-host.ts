/**
 * The host skeleton shared by single-process mode and the cluster primary:
 * resolve the pseudonym secret, open the lists (git first, see
 * open-lists.ts) and start the engine on them, start the list triggers, bind
 * the admin listener, and log once what serves. Stopping runs in the reverse
 * order. What differs between the two modes lives in the engine.
 */
import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load-config.js'
import type { ListTriggers } from '../list-sync/list-triggers.js'
import { AdminHttp } from '../server/admin-http.js'
import { listenError } from '../server/bind-listeners.js'
import { VERSION } from '../version.js'
import { buildAdminRoutes } from './admin-routes.js'
import type { HostEngine } from './host-engine.js'
import { openLists } from './open-lists.js'
import { type PseudonymSecret, resolvePseudonymSecret } from './pseudonym-secret.js'

export interface HostOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly now?: () => number
}

export interface Host<E extends HostEngine> {
  readonly engine: E
  readonly admin: AdminHttp | null
  readonly triggers: ListTriggers
  reload(trigger: string): ReturnType<E['reload']>
  stop(graceMs?: number): Promise<void>
}

/** `start` loads the lists for the first time (after any clone) and starts serving DNS. */
export async function startHost<E extends HostEngine>(
  loaded: LoadedConfig,
  log: Logger,
  start: (secret: PseudonymSecret) => Promise<E>,
  opts: HostOptions = {},
): Promise<Host<E>> {
  const { config } = loaded
  const env = opts.env ?? process.env
  const secret = resolvePseudonymSecret(loaded, env)
  const { holder: engine, triggers } = await openLists(loaded, log, () => start(secret), (e) => e.countSyncFailure())
  await triggers.start()
  let stopping = false
  let admin: AdminHttp | null = null
  if (config.listen.admin !== '') {
    const routes = buildAdminRoutes(loaded, engine, { env, now: opts.now ?? Date.now, stopping: () => stopping, log })
    try {
      admin = await AdminHttp.listen(config.listen.admin.address, config.listen.admin.port, routes)
    } catch (e) {
      triggers.stop()
      await engine.stop(0)
      throw listenError('listen.admin', config.listen.admin, 'HTTP', e)
    }
  }
  const adminAt = admin && config.listen.admin !== '' ? `${config.listen.admin.address}:${admin.port}` : null
  log.info(
    { event: 'started', version: VERSION, workers: engine.workerCount, dns: engine.listeners, admin: adminAt, upstreams: engine.upstreams, pseudonymSecret: secret.source },
    'dnsvakt is serving',
  )
  return {
    engine,
    admin,
    triggers,
    reload: (trigger) => engine.reload(trigger) as ReturnType<E['reload']>,
    async stop(graceMs = 5000) {
      stopping = true
      triggers.stop()
      await engine.stop(graceMs)
      await admin?.close()
    },
  }
}
