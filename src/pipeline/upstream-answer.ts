/**
 * An upstream answer as the stages see it: read once when it arrives
 * (src/dns/read-answer.ts), then carried on the Reply to answer inspection,
 * kept by the cache and served many times. Inspection's findings for one
 * snapshot of the lists are memoised on the answer itself, so a cache hit
 * re-checks a client's group with a couple of integer operations.
 */

/** How a category was caught in an answer, and by which list entry (a name suffix or a CIDR). */
export interface InspectionHit {
  readonly caughtBy: 'cname' | 'ip'
  readonly entry: string
}

/** What answer inspection found in an answer for one snapshot of the lists. */
export interface InspectionMemo {
  /** The snapshot this memo is valid for (compared by identity). */
  readonly snapshot: object
  /** Bit per category with at least one hit. */
  readonly mask: number
  /** Per category bit index: how and by which list entry it was caught (null where no hit). */
  readonly hits: ReadonlyArray<InspectionHit | null>
}

export interface UpstreamAnswer {
  /** The answer without its OPT record; header counts adjusted. */
  readonly wire: Buffer
  readonly rcode: number
  readonly truncated: boolean
  /** Offset of every TTL field in `wire` (all sections). */
  readonly ttlOffsets: readonly number[]
  /** Lowest TTL of the answer section (positive answers), or the RFC 2308 negative TTL; -1 if none is known. */
  readonly ttl: number
  /** Lower-case targets of CNAME records in the answer section. */
  readonly cnameTargets: readonly string[]
  /** Offsets of the 4-byte rdata of A records in the answer section. */
  readonly v4Offsets: readonly number[]
  /** Offsets of the 16-byte rdata of AAAA records in the answer section. */
  readonly v6Offsets: readonly number[]
  /** Other names the answer leads to, lower-case: DNAME owners and targets, SVCB/HTTPS TargetNames (answer and additional sections). */
  readonly targetNames: readonly string[]
  /** Other IPv4 addresses (4 bytes at each offset): SVCB/HTTPS ipv4hint values, A records of the additional section. */
  readonly extraV4Offsets: readonly number[]
  /** Other IPv6 addresses (16 bytes at each offset): SVCB/HTTPS ipv6hint values, AAAA records of the additional section. */
  readonly extraV6Offsets: readonly number[]
  /** Answer inspection's memo for the last snapshot it was checked against (src/policy/answer-inspection.ts). */
  inspection: InspectionMemo | null
}
