/**
 * One DNS query as the pipeline sees it, parsed once at the edge.
 * Every field is set in the constructor so all Query objects share one V8
 * hidden class; later stages only fill in `group` and read the rest.
 */
import type { Transport } from '../server/transport.js'

export class Query {
  /** Client group name, set by the client-group stage ('' until then). */
  group = ''
  /** Bitmask of categories the client's group enforces, minus active exemptions (client-group stage). */
  enforced = 0

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
