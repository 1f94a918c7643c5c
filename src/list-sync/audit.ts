/**
 * Audit events: one structured log line per change to what is enforced or
 * per refusal to change it (a reload with its from and to versions, a
 * refused git update with its reason, a signature failure, a start on the
 * last good state), and one per admin API call (host/admin-routes.ts:
 * method, endpoint, status, whether a valid token came, the caller's
 * address). Always `event: "audit"` and an `action`, at info level or above,
 * so a SIEM can keep these lines and drop the rest. Never a token, never a
 * DNS client's address.
 */
import type { Logger } from 'pino'

export type AuditAction =
  | 'lists-reloaded'
  | 'lists-reload-refused'
  | 'lists-start-last-good'
  | 'lists-update-refused'
  | 'lists-signature-failure'
  | 'lists-rewrite-accepted'
  | 'lists-remote-changed'
  | 'admin-api'

export function audit(log: Logger | null, action: AuditAction, fields: Record<string, unknown>, warn = false): void {
  if (!log) return
  const line = { event: 'audit', action, ...fields }
  if (warn) log.warn(line, `audit: ${action}`)
  else log.info(line, `audit: ${action}`)
}
