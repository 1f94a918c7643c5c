#!/usr/bin/env node
/**
 * The dnsvakt command: picks the command (serve by default) and runs it
 * (src/commands/, one file each). The only file that sets the exit status;
 * an error is one line on stderr (a coded error's message, else the stack).
 */
import { isDnsvaktError } from './errors.js'
import { runCheckConfig } from './commands/check-config-command.js'
import { runExplain } from './commands/explain-command.js'
import { runHelp, runVersion, usageError } from './commands/help-command.js'
import { runLintLists } from './commands/lint-lists-command.js'
import { runSimulate } from './commands/simulate-command.js'
import { runExportFirewall } from './commands/export-firewall-command.js'
import { runAcceptLists } from './commands/accept-lists-command.js'
import { type CommandIo, KEEP_RUNNING, PROCESS_IO } from './commands/options.js'
import { runServe } from './commands/serve-command.js'

const COMMANDS: Record<string, (args: string[], io: CommandIo) => number | Promise<number>> = {
  serve: runServe,
  'check-config': runCheckConfig,
  explain: runExplain,
  'lint-lists': (args, io) => runLintLists(args, io.out),
  'accept-lists': (args, io) => runAcceptLists(args, io.out),
  simulate: (args, io) => runSimulate(args, io.out),
  'export-firewall': runExportFirewall,
}

async function main(argv: string[], io: CommandIo): Promise<number> {
  const args = [...argv]
  if (args.includes('--help') || args.includes('-h')) return runHelp(io)
  if (args.includes('--version') || args.includes('-v')) return runVersion(io)
  const command = args[0] && !args[0].startsWith('--') ? args.shift()! : 'serve'
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : null
  return run ? run(args, io) : usageError(io, `unknown command "${command}"`)
}

main(process.argv.slice(2), PROCESS_IO).then(
  (code) => {
    if (code !== KEEP_RUNNING) process.exitCode = code
  },
  (e: unknown) => {
    process.stderr.write(`dnsvakt: ${isDnsvaktError(e) ? e.message : ((e as Error).stack ?? String(e))}\n`)
    // Exit now: a service that failed half-way (a listener bound, the next one refused) holds sockets open.
    process.exit(isDnsvaktError(e, 'DNSVAKT_ERR_USAGE') ? 2 : 1)
  },
)
