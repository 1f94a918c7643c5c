/**
 * One-shot commands that load the config and lists without serving:
 * check-config and explain. They print and return an exit code.
 */
import { loadConfig } from './config/load-config.js'
import { isDnsvaktError } from './errors.js'
import { enforcedBy, listOptionsFor, loadLists } from './lists/load-lists.js'
import { emptyEnforced } from './lists/reload-rules.js'
import { groupCategoryProblems, upstreamLoops } from './gateway.js'
import { ClientClassifier } from './policy/client-classifier.js'
import { explain } from './policy/explain.js'

/** Exit 0 when the config and its lists are valid; 1 with every problem listed. */
export async function runCheckConfig(file: string | null, out = process.stdout): Promise<number> {
  if (!file) {
    out.write('check-config needs a FILE\n')
    return 2
  }
  const problems: string[] = []
  try {
    const loaded = loadConfig(file)
    const snapshot = await loadLists(listOptionsFor(loaded, Date.now()))
    if (snapshot.categories.length === 0) problems.push(`blocking.dir: no list files (<category>.txt) in ${loaded.blocklistDir}`)
    for (const p of snapshot.problems) problems.push(`${p.file}:${p.line}: ${p.message}${p.text ? ` (${p.text})` : ''}`)
    problems.push(...groupCategoryProblems(loaded, snapshot), ...emptyEnforced(snapshot, enforcedBy(loaded.config.groups)), ...upstreamLoops(loaded))
    if (problems.length === 0) {
      out.write(`${file}: OK (lists ${snapshot.version}: ${snapshot.counts().map((c) => `${c.category} ${c.domains} names/${c.cidrs} ranges`).join(', ')})\n`)
      return 0
    }
  } catch (e) {
    if (!isDnsvaktError(e)) throw e
    problems.push(...(e.problems.length > 0 ? e.problems : [e.message]))
  }
  out.write(`${file}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}\n`).join('')}`)
  return 1
}

export async function runExplain(file: string | null, name: string, client: string, type: string, out = process.stdout): Promise<number> {
  const loaded = loadConfig(file)
  const snapshot = await loadLists(listOptionsFor(loaded, Date.now()))
  const classifier = new ClientClassifier(loaded.config.access.allow, loaded.config.groups)
  const result = explain({ name, client, type, now: Date.now(), snapshot, classifier, mode: loaded.config.blocking.mode })
  out.write(`${result.summary}\n\n${JSON.stringify(result, null, 2)}\n`)
  return 0
}
