/**
 * `dnsvakt lint-lists DIR [--against REV] [--max-shrink PERCENT]`: lints a
 * list folder for the blocklist repository's CI and pre-commit hook (see
 * docs/lint-lists.md). Prints one line per finding and a summary; returns
 * 0 (no error), 1 (at least one error) or 2 (usage error, or the folder or
 * the revision could not be read at all).
 */
import { join } from 'node:path'
import { isDnsvaktError } from '../errors.js'
import { DEFAULT_MAX_SHRINK_PERCENT, type Finding, lintLists, type LintListsResult } from '../list-lint/lint-lists.js'

export const LINT_LISTS_USAGE = `Usage: dnsvakt lint-lists DIR [--against REV] [--max-shrink PERCENT]
  DIR                   the list folder (e.g. blocklists)
  --against REV         also compare entry counts with git revision REV (e.g. origin/main, HEAD)
  --max-shrink PERCENT  largest allowed loss of entries per category against REV (default ${DEFAULT_MAX_SHRINK_PERCENT})
Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage error or unreadable folder/revision.
`

export async function runLintLists(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const usage = (problem: string): number => {
    out.write(`lint-lists: ${problem}\n${LINT_LISTS_USAGE}`)
    return 2
  }
  const positional: string[] = []
  let against: string | null = null
  let maxShrink = DEFAULT_MAX_SHRINK_PERCENT
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq < 0 ? arg : arg.slice(0, eq)
    if (flag !== '--against' && flag !== '--max-shrink') {
      if (arg.startsWith('-') && arg !== '-') return usage(`unknown option ${arg}`)
      positional.push(arg)
      continue
    }
    let value: string | undefined
    if (eq >= 0) value = arg.slice(eq + 1)
    else value = args[++i]
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) return usage(`${flag} needs a value`)
    if (flag === '--against') {
      against = value
    } else {
      const m = /^(\d+(?:\.\d+)?)%?$/.exec(value)
      if (m === null || Number(m[1]) > 100) return usage(`--max-shrink needs a percentage from 0 to 100, not ${JSON.stringify(value)}`)
      maxShrink = Number(m[1])
    }
  }
  if (positional.length !== 1) return usage(positional.length === 0 ? 'needs the list folder DIR' : `one DIR only, got ${positional.join(' ')}`)
  const dir = positional[0]

  let result: LintListsResult
  try {
    result = await lintLists({ dir, against, maxShrinkPercent: maxShrink })
  } catch (e) {
    if (!isDnsvaktError(e)) throw e
    out.write(`lint-lists: ${e.message}\n`)
    return 2
  }

  const all: Array<Finding & { severity: 'error' | 'warning' }> = [
    ...result.errors.map((f) => ({ ...f, severity: 'error' as const })),
    ...result.warnings.map((f) => ({ ...f, severity: 'warning' as const })),
  ].sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : x.line - y.line))
  for (const f of all) out.write(`${join(dir, f.file)}:${f.line}: ${f.severity} [${f.code}] ${f.message}\n`)

  const entries = Object.entries(result.counts).map(([c, n]) => `${c} ${n}`).join(', ')
  const compared = against === null ? '' : `; compared with ${against} (max shrink ${maxShrink}%)`
  out.write(`lint-lists ${dir}: ${plural(result.errors.length, 'error')}, ${plural(result.warnings.length, 'warning')}; entries: ${entries || 'none'}${compared}\n`)
  return result.errors.length > 0 ? 1 : 0
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
