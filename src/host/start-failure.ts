/**
 * One line for a service that cannot start. A busy or forbidden port is an
 * operator problem, not a bug: bind-listeners.ts (DNS) and service-host.ts
 * (admin) turn it into a coded error naming the config key and address;
 * in cluster mode a worker sends that line to the primary, which prints it
 * once for the whole service rather than a stack trace per worker.
 */
import { isDnsvaktError } from '../errors.js'

export function startFailureLine(e: unknown): string {
  return isDnsvaktError(e) ? e.message : `cannot start: ${(e as Error)?.message ?? String(e)}`
}
