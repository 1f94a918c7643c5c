/**
 * `dnsvakt accept-lists REV [--config FILE]`: lets git sync serve one commit
 * that does not descend from the served one (a rollback or a rewritten list
 * history, which it otherwise refuses). Run it as the user the gateway runs
 * as, on the gateway's host; the next sync serves the commit if it is signed
 * (when signatures are required) and its lists load. Exit 0 accepted (or
 * nothing to accept), 1 refused, 2 usage.
 */
import { loadConfig } from '../config/load-config.js'
import { isDnsvaktError } from '../errors.js'
import { acceptRewrite } from '../list-sync/accept-rewrite.js'

export const ACCEPT_LISTS_USAGE = `Usage: dnsvakt accept-lists REV [--config FILE]
  REV            the refused commit (as in the "lists-update-refused" log line), or a ref such as origin/main
  --config FILE  the gateway's config (blocking.dir and blocking.git come from it)
`

export async function runAcceptLists(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const rest = [...args]
  const at = rest.indexOf('--config')
  const file = at >= 0 ? rest.splice(at, 2)[1] ?? null : null
  if ((at >= 0 && file === null) || rest.length !== 1 || rest[0].startsWith('-')) {
    out.write(`accept-lists: needs one REV${at >= 0 && file === null ? ' and a FILE after --config' : ''}\n${ACCEPT_LISTS_USAGE}`)
    return 2
  }
  try {
    const loaded = loadConfig(file)
    if (!loaded.config.blocking.git) {
      out.write('accept-lists: blocking.git is not set: the gateway does not sync from git, so there is nothing to accept (deploy the commit to blocking.dir yourself)\n')
      return 2
    }
    const a = await acceptRewrite(loaded.blocklistDir, rest[0])
    out.write(a.needed
      ? `accepted ${a.commit}: the next sync serves it (within blocking.git.interval), if it is signed when signatures are required and its lists load\n`
      : `${a.commit} descends from the served commit: nothing to accept, the next sync serves it\n`)
    return 0
  } catch (e) {
    if (!isDnsvaktError(e)) throw e
    out.write(`${e.message}\n`)
    return 1
  }
}
