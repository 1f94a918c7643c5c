/**
 * `dnsvakt explain NAME [--client IP] [--type A] [--config FILE]`: why a
 * name is (not) blocked for a client, from the config and the lists on disk
 * (the same answer as the admin API's /v1/explain on a running gateway).
 */
import { ddrServerName } from '../config/encrypted-schema.js'
import { loadConfig } from '../config/load-config.js'
import { listOptionsFor, loadLists } from '../lists/load-lists.js'
import { ClientClassifier } from '../policy/client-classifier.js'
import { explain } from '../policy/explain.js'
import { usageError } from './help-command.js'
import { type CommandIo, takeOption } from './options.js'

export async function runExplain(args: string[], io: CommandIo): Promise<number> {
  const file = takeOption(args, '--config')
  const client = takeOption(args, '--client') ?? '127.0.0.1'
  const type = takeOption(args, '--type') ?? 'A'
  if (args.length !== 1) return usageError(io, 'explain needs exactly one NAME')
  const loaded = loadConfig(file)
  const snapshot = await loadLists(listOptionsFor(loaded, Date.now()))
  const classifier = new ClientClassifier(loaded.config.access.allow, loaded.config.groups)
  const result = explain({ name: args[0], client, type, now: Date.now(), snapshot, classifier, mode: loaded.config.blocking.mode, ddrServerName: ddrServerName(loaded.config) })
  io.out.write(`${result.summary}\n\n${JSON.stringify(result, null, 2)}\n`)
  return 0
}
