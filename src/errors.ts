/**
 * Coded errors. Expected DNS outcomes are Replies, never exceptions; these are
 * for operator mistakes (config, lists) and genuine failures (upstream), each
 * with a stable code that logs and tests can match on.
 */
export type ErrorCode =
  | 'DNSVAKT_ERR_CONFIG'
  | 'DNSVAKT_ERR_LISTEN'
  | 'DNSVAKT_ERR_USAGE'
  | 'DNSVAKT_ERR_MALFORMED'
  | 'DNSVAKT_ERR_UPSTREAM_TIMEOUT'
  | 'DNSVAKT_ERR_UPSTREAM_NETWORK'
  | 'DNSVAKT_ERR_UPSTREAM_ANSWER'
  | 'DNSVAKT_ERR_UPSTREAM_DEADLINE'
  /** Too many upstream exchanges in flight (upstream.maxPending): answered SERVFAIL at once. */
  | 'DNSVAKT_ERR_UPSTREAM_OVERLOAD'
  | 'DNSVAKT_ERR_BLOCKLIST'
  | 'DNSVAKT_ERR_EXEMPTION'
  | 'DNSVAKT_ERR_GIT'

export class DnsvaktError extends Error {
  readonly code: ErrorCode
  /** For config and list errors: every problem found, so the operator sees them all at once. */
  readonly problems: readonly string[]

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; problems?: readonly string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DnsvaktError'
    this.code = code
    this.problems = options?.problems ?? []
  }
}

export const isDnsvaktError = (e: unknown, code?: ErrorCode): e is DnsvaktError =>
  e instanceof DnsvaktError && (code === undefined || e.code === code)
