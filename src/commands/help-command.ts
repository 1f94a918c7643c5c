/**
 * `dnsvakt --help` and `dnsvakt --version`: the usage text every command
 * points to, and the package version.
 */
import { VERSION } from '../version.js'
import type { CommandIo } from './options.js'

export const HELP = `dnsvakt ${VERSION}: DNS enforcement gateway (TikTok, Telegram and DNS-bypass blocking)

Usage:
  dnsvakt [serve] [--config FILE]        run the gateway (built-in defaults without --config)
  dnsvakt check-config FILE              validate a config file and its lists; exit 0 or 1, every problem listed
  dnsvakt explain NAME [--client IP] [--type A] [--config FILE] [--resolve]
                                         why NAME is (not) blocked for a client; --resolve also asks
                                         the upstreams and reports a block through the answer
  dnsvakt lint-lists DIR [--against REV] [--max-shrink PERCENT]
                                         check a blocklist folder (for its CI and pre-commit hook)
  dnsvakt accept-lists REV [--config FILE]
                                         let git sync serve one refused rollback/rewritten commit
  dnsvakt simulate NAMES --from REV --to REV --repo DIR | --from-dir A --to-dir B [--config FILE] [--protected FILE] [--json]
                                         what a list change would newly block and allow (exit 1: a protected name)
  dnsvakt export-firewall --format nftables|iptables|ip6tables|ipset|plain|json [--category X] [--dir LISTS] [--config FILE] [--output FILE]
                                         the address ranges of the enforced categories, for the firewall
  dnsvakt --version | --help
`

export function runHelp(io: CommandIo): number {
  io.out.write(HELP)
  return 0
}

export function runVersion(io: CommandIo): number {
  io.out.write(`${VERSION}\n`)
  return 0
}

/** A usage mistake: the problem, then the usage text, on stderr; exit 2. */
export function usageError(io: CommandIo, problem: string): number {
  io.err.write(`${problem}\n\n${HELP}`)
  return 2
}
