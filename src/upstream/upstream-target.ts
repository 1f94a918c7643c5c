/**
 * The two words every upstream transport shares: where a try goes (an
 * upstream's address and port) and why a reply was not taken as the answer.
 * Their own module so the UDP exchanger and its sockets (upstream-socket.ts)
 * can both use them without importing each other.
 */

/** Why a reply was ignored: not from the upstream, not our ID, not our question, not DNS. */
export type IgnoredReason = 'wrong-source' | 'wrong-id' | 'wrong-question' | 'malformed'

/** `address` is an IP literal; IPv6 may carry a %scope (link-local). */
export interface UpstreamTarget { readonly address: string; readonly port: number }
