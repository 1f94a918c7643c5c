/**
 * Command-line options shared by the commands: `--name VALUE` taken out of
 * the argument list, so what is left is the positional arguments.
 */
import { DnsvaktError } from '../errors.js'

/** Removes `--name VALUE` from `args` and returns VALUE, or null when absent. */
export function takeOption(args: string[], name: string): string | null {
  const i = args.indexOf(name)
  if (i < 0) return null
  const v = args[i + 1]
  if (v === undefined || v.startsWith('--')) throw new DnsvaktError('DNSVAKT_ERR_USAGE', `${name} needs a value`)
  args.splice(i, 2)
  return v
}

/** Where a command writes: stdout for results, stderr for usage errors. */
export interface CommandIo {
  readonly out: NodeJS.WritableStream
  readonly err: NodeJS.WritableStream
}

export const PROCESS_IO: CommandIo = { out: process.stdout, err: process.stderr }

/** A command's exit status; KEEP_RUNNING: the command serves until a signal stops it. */
export const KEEP_RUNNING = -1
