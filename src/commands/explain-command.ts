/**
 * `dnsvakt explain NAME [--client IP] [--type A] [--config FILE] [--resolve]`:
 * why a name is (not) blocked for a client, from the config and the lists on
 * disk (the same answer as the admin API's /v1/explain on a running
 * gateway). With --resolve it also asks the configured upstreams and reports
 * a block through the answer (a CNAME or an address in a category's lists),
 * which the lists alone cannot show.
 */
import { ddrServerName } from '../config/encrypted-schema.js'
import { loadConfig } from '../config/load-config.js'
import { listOptionsFor, loadLists } from '../lists/load-lists.js'
import { ClientClassifier } from '../policy/client-classifier.js'
import { explain } from '../policy/explain.js'
import { explainResolved } from '../policy/explain-resolved.js'
import { EmbeddedIpv4 } from '../net/embedded-ipv4.js'
import { buildUpstreamLookup } from '../stages/build-lookup.js'
import { usageError } from './help-command.js'
import { type CommandIo, takeOption } from './options.js'

export async function runExplain(args: string[], io: CommandIo): Promise<number> {
  const file = takeOption(args, '--config')
  const client = takeOption(args, '--client') ?? '127.0.0.1'
  const type = takeOption(args, '--type') ?? 'A'
  const at = args.indexOf('--resolve')
  const resolve = at >= 0
  if (resolve) args.splice(at, 1)
  if (args.length !== 1) return usageError(io, 'explain needs exactly one NAME')
  const loaded = loadConfig(file)
  const snapshot = await loadLists(listOptionsFor(loaded, Date.now()))
  const classifier = new ClientClassifier(loaded.config.access.allow, loaded.config.groups)
  const input = { name: args[0], client, type, now: Date.now(), snapshot, classifier, mode: loaded.config.blocking.mode, ddrServerName: ddrServerName(loaded.config) }
  let result
  if (resolve) {
    const upstream = buildUpstreamLookup(loaded.config.upstream)
    try {
      result = await explainResolved(input, upstream.lookup, new EmbeddedIpv4(loaded.config.blocking.nat64Prefixes))
    } finally {
      upstream.close()
    }
  } else {
    result = explain(input)
  }
  io.out.write(`${result.summary}\n\n${JSON.stringify(result, null, 2)}\n`)
  return 0
}
