/**
 * `dnsvakt check-config FILE`: loads a config and its lists as a start
 * would, runs every cross-field check (config/check-config.ts, the same the
 * gateway refuses to start on) without binding anything, and prints OK or
 * every problem. Exit 0 valid, 1 problems, 2 usage.
 */
import { startProblems } from '../config/check-config.js'
import { loadConfig } from '../config/load-config.js'
import { isDnsvaktError } from '../errors.js'
import { enforcedBy, listOptionsFor, loadLists } from '../lists/load-lists.js'
import { emptyEnforced } from '../lists/reload-rules.js'
import { allUpstreams, resolveUpstreams } from '../upstream/build-pools.js'
import { usageError } from './help-command.js'
import { type CommandIo, takeOption } from './options.js'

export async function runCheckConfig(args: string[], io: CommandIo): Promise<number> {
  const file = takeOption(args, '--config') ?? args[0]
  if (!file) return usageError(io, 'check-config needs a FILE')
  const problems: string[] = []
  try {
    const loaded = loadConfig(file)
    const snapshot = await loadLists(listOptionsFor(loaded, Date.now()))
    if (snapshot.categories.length === 0) problems.push(`blocking.dir: no list files (<category>.txt) in ${loaded.blocklistDir}`)
    for (const p of snapshot.problems) problems.push(`${p.file}:${p.line}: ${p.message}${p.text ? ` (${p.text})` : ''}`)
    const upstreams = allUpstreams(resolveUpstreams(loaded.config.upstream, (p) => problems.push(`upstream.resolvConf: ${p}`)))
    problems.push(...startProblems(loaded.config, { lists: snapshot, listDir: loaded.blocklistDir, upstreams }))
    // With no last good state, a start refuses an enforced category that is empty: say so here too.
    problems.push(...emptyEnforced(snapshot, enforcedBy(loaded.config.groups)))
    if (problems.length === 0) {
      const counts = snapshot.counts().map((c) => `${c.category} ${c.domains} names/${c.cidrs} ranges`)
      io.out.write(`${file}: OK (lists ${snapshot.version}: ${counts.join(', ')})\n`)
      return 0
    }
  } catch (e) {
    if (!isDnsvaktError(e)) throw e
    problems.push(...(e.problems.length > 0 ? e.problems : [e.message]))
  }
  io.out.write(`${file}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}\n`).join('')}`)
  return 1
}
