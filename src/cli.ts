#!/usr/bin/env node
/**
 * The dnsvakt command: serve (default), check-config, explain, lint-lists.
 * The only file with process side effects (exit codes, signals, stdout).
 */
import cluster from 'node:cluster'
import { availableParallelism } from 'node:os'
import pino from 'pino'
import { runPrimary } from './cluster/primary.js'
import { runWorker } from './cluster/worker.js'
import { loadConfig } from './config/load-config.js'
import { isDnsvaktError } from './errors.js'
import { handleSignals, startService } from './serve.js'
import { VERSION } from './version.js'
import { runCheckConfig, runExplain } from './commands.js'
import { runLintLists } from './commands/lint-lists-command.js'
import { runExportFirewall } from './commands/export-firewall.js'

const HELP = `dnsvakt ${VERSION}: DNS enforcement gateway (TikTok, Telegram and DNS-bypass blocking)

Usage:
  dnsvakt [serve] [--config FILE]        run the gateway (built-in defaults without --config)
  dnsvakt check-config FILE              validate a config file and its lists; exit 0 or 1, every problem listed
  dnsvakt explain NAME [--client IP] [--type A] [--config FILE]
                                         why NAME is (not) blocked for a client
  dnsvakt lint-lists DIR [--against REV] [--max-shrink PERCENT]
                                         check a blocklist folder (for its CI and pre-commit hook)
  dnsvakt export-firewall --format nftables|iptables|ip6tables|ipset|plain|json [--category X] [--dir LISTS] [--config FILE] [--output FILE]
                                         the address ranges of the enforced categories, for the firewall
  dnsvakt --version | --help
`

function option(args: string[], name: string): string | null {
  const i = args.indexOf(name)
  if (i < 0) return null
  const v = args[i + 1]
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`)
  args.splice(i, 2)
  return v
}

async function main(argv: string[]): Promise<number> {
  const args = [...argv]
  if (args.includes('--help') || args.includes('-h')) return print(HELP, 0)
  if (args.includes('--version') || args.includes('-v')) return print(`${VERSION}\n`, 0)
  const command = args[0] && !args[0].startsWith('--') ? args.shift()! : 'serve'
  switch (command) {
    case 'serve': {
      const file = option(args, '--config')
      if (args.length > 0) return print(`unexpected argument(s): ${args.join(' ')}\n\n${HELP}`, 2, true)
      const loaded = loadConfig(file)
      const workers = loaded.config.workers === 'auto' ? availableParallelism() : loaded.config.workers
      if (workers > 1 && cluster.isPrimary) {
        await runPrimary(loaded, pino({ level: loaded.config.log.level, base: { service: 'dnsvakt', role: 'primary' } }), workers)
      } else if (cluster.isWorker) {
        await runWorker(loaded, pino({ level: loaded.config.log.level, base: { service: 'dnsvakt', worker: cluster.worker?.id } }))
      } else {
        const log = pino({ level: loaded.config.log.level, base: { service: 'dnsvakt' } })
        handleSignals(await startService(loaded, { logger: log }), log)
      }
      return -1
    }
    case 'check-config':
      return runCheckConfig(args[0] ?? option(args, '--config'))
    case 'explain': {
      const file = option(args, '--config')
      const client = option(args, '--client') ?? '127.0.0.1'
      const type = option(args, '--type') ?? 'A'
      if (args.length !== 1) return print(`explain needs exactly one NAME\n\n${HELP}`, 2, true)
      return runExplain(file, args[0], client, type)
    }
    case 'lint-lists':
      return runLintLists(args, process.stdout)
    case 'export-firewall':
      return runExportFirewall(args)
    default:
      return print(`unknown command "${command}"\n\n${HELP}`, 2, true)
  }
}

function print(text: string, code: number, error = false): number {
  ;(error ? process.stderr : process.stdout).write(text)
  return code
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (e: unknown) => {
    if (isDnsvaktError(e)) process.stderr.write(`dnsvakt: ${e.message}\n`)
    else process.stderr.write(`dnsvakt: ${(e as Error).stack ?? String(e)}\n`)
    process.exitCode = 1
  },
)
