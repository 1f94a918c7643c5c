/**
 * One line for a service that cannot start. A busy or forbidden port is an
 * operator problem, not a bug: it gets the config key, the address and what
 * to do, never a stack trace (and in cluster mode, once for the whole
 * service rather than once per worker).
 */
import { DnsvaktError, isDnsvaktError } from '../errors.js'

interface BindError extends Error {
  readonly code: string
  readonly syscall: 'bind' | 'listen'
  readonly address: string
  readonly port: number
}

const HINTS: Record<string, string> = {
  EADDRINUSE: 'address already in use (another DNS server or a second dnsvakt?)',
  EACCES: 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE or root)',
  EADDRNOTAVAIL: 'no such address on this host',
}

/** `key` is the config key the failing address came from (`listen.dns`, `listen.admin`). */
export function startFailureLine(e: unknown, key: string): string {
  if (isDnsvaktError(e)) return e.message
  if (isBindFailure(e)) {
    const err = e
    const where = err.address.includes(':') ? `[${err.address}]:${err.port}` : `${err.address}:${err.port}`
    return `${key}: cannot listen on ${where}: ${HINTS[err.code] ?? err.code} (${err.code})`
  }
  return `cannot start: ${(e as Error)?.message ?? String(e)}`
}

/**
 * A bind failure as an error the CLI prints as one line; anything else (a
 * DnsvaktError already reads well, a bug keeps its stack) is returned as it is.
 */
export function startFailure(e: unknown, key: string): unknown {
  if (isDnsvaktError(e) || !isBindFailure(e)) return e
  return new DnsvaktError('DNSVAKT_ERR_CONFIG', startFailureLine(e, key), { cause: e })
}

function isBindFailure(e: unknown): e is BindError {
  const err = e as Partial<BindError> | null
  return !!err && typeof err.code === 'string' && (err.syscall === 'bind' || err.syscall === 'listen') && err.address !== undefined
}
