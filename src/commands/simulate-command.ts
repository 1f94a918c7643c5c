/**
 * `dnsvakt simulate NAMES ...`: what a list change would block and unblock,
 * replayed over a file of names, for the list repository's CI beside
 * lint-lists (docs/lint-lists.md). Returns 0 (no protected name blocked), 1
 * (a protected name would be blocked) or 2 (usage error, or a file, folder or
 * revision that cannot be read).
 */
import { isDnsvaktError } from '../errors.js'
import { renderReport } from '../simulate/render-report.js'
import { simulate, type SourceSpec } from '../simulate/simulate.js'

export const SIMULATE_USAGE = `Usage: dnsvakt simulate NAMES (--from REV | --from-dir DIR) (--to REV | --to-dir DIR) [--repo DIR]
                        [--config FILE] [--protected FILE] [--json]
  NAMES             names to replay: one per line, or a decision-log export (JSON lines with "name")
  --from/--to REV   a git revision of the list folder given with --repo (e.g. origin/main, HEAD)
  --from-dir/--to-dir DIR   a list folder as it is (e.g. the working tree)
  --repo DIR        the list folder inside a git checkout, for --from/--to REV
  --config FILE     a gateway config: report its groups (default: one group enforcing every category)
  --protected FILE  names that must never be blocked, one per line (the collateral-risk table is always added)
  --json            print the report as JSON
Exit status: 0 no protected name blocked, 1 a protected name would be blocked, 2 usage error or unreadable input.
`

const VALUED = ['--from', '--to', '--from-dir', '--to-dir', '--repo', '--config', '--protected'] as const

export async function runSimulate(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const usage = (problem: string): number => {
    out.write(`simulate: ${problem}\n${SIMULATE_USAGE}`)
    return 2
  }
  const values = new Map<string, string>()
  const positional: string[] = []
  let json = false
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith('--') && args[i].includes('=') ? [args[i].slice(0, args[i].indexOf('=')), args[i].slice(args[i].indexOf('=') + 1)] : [args[i], undefined]
    if (flag === '--json') { json = true; continue }
    if (!(VALUED as readonly string[]).includes(flag)) {
      if (flag.startsWith('-')) return usage(`unknown option ${flag}`)
      positional.push(flag)
      continue
    }
    const value = inline ?? args[++i]
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) return usage(`${flag} needs a value`)
    if (values.has(flag)) return usage(`${flag} given twice`)
    values.set(flag, value)
  }
  if (positional.length !== 1) return usage(positional.length === 0 ? 'needs the NAMES file' : `one NAMES file only, got ${positional.join(' ')}`)
  const side = (which: 'from' | 'to'): SourceSpec | string => {
    const rev = values.get(`--${which}`)
    const dir = values.get(`--${which}-dir`)
    if ((rev === undefined) === (dir === undefined)) return `give exactly one of --${which} REV and --${which}-dir DIR`
    if (dir !== undefined) return { dir }
    const repo = values.get('--repo')
    return repo === undefined ? `--${which} REV needs --repo DIR (the list folder in a git checkout)` : { repo, rev: rev! }
  }
  const from = side('from')
  const to = side('to')
  if (typeof from === 'string') return usage(from)
  if (typeof to === 'string') return usage(to)

  try {
    const report = await simulate({ namesFile: positional[0], from, to, configFile: values.get('--config') ?? null, protectedFile: values.get('--protected') ?? null })
    out.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report))
    return report.protectedBlocked.length > 0 ? 1 : 0
  } catch (e) {
    if (!isDnsvaktError(e)) throw e
    out.write(`simulate: ${e.message}\n`)
    return 2
  }
}
