/**
 * One DNS query as the pipeline sees it, parsed once at the edge.
 * Every field is set in the constructor so all Query objects share one V8
 * hidden class; later stages only fill in `group` and read the rest.
 */
import type { ClientInfo } from './client-info.js'
import type { PolicyView } from './policy-view.js'
import type { Transport } from './transport.js'

export class Query {
  /** The lists current when the query arrived: checks before and after the upstream await agree. Set by the listener edge. */
  snapshot: PolicyView = null as unknown as PolicyView
  /** Group, enforced categories and exemptions of the client (client-group stage). */
  client: ClientInfo | null = null
  /** Client group name (client-group stage; '' until then). */
  group = ''
  /** Bitmask of categories the client's group enforces (client-group stage). */
  enforced = 0
  /** Categories lifted by an exemption that is valid at arrival (client-group stage). */
  exemptMask = 0
  /** Categories the client's group has in shadow (client-group stage); the shadow checks run only when it is not 0. */
  shadow = 0
  /** What a shadow category would have blocked, a BlockReason (types.ts imports this file) set by the policy and inspect-answer stages; the answer is not changed. */
  wouldBlock: { readonly category: string; readonly caughtBy: 'name' | 'cname' | 'ip'; readonly entry: string } | null = null

  constructor(
    /** The request exactly as received. Never mutated: replies copy from it. */
    readonly wire: Buffer,
    readonly id: number,
    /** Lower-cased name without the trailing dot; '' for the root. Escaped (\DDD) only if it holds odd bytes. */
    readonly name: string,
    readonly qtype: number,
    readonly qclass: number,
    /** Offset just past the question section: [12, questionEnd) is the question, byte for byte. */
    readonly questionEnd: number,
    /** The client sent an OPT record (RFC 6891). */
    readonly edns: boolean,
    /** Largest UDP answer the client accepts: 512 without EDNS, else its OPT size (at least 512). */
    readonly udpSize: number,
    /** DNSSEC OK bit from the client's OPT (RFC 3225). */
    readonly dnssecOk: boolean,
    /** Checking Disabled bit (RFC 4035): part of the cache key with DO. */
    readonly checkingDisabled: boolean,
    readonly clientAddress: string,
    readonly clientPort: number,
    readonly transport: Transport,
    /** Milliseconds, from the injected clock. */
    readonly arrivedAt: number,
  ) {}
}
