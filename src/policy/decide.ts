/**
 * The policy decision, in one place: which names dnsvakt answers itself for
 * every client, the precedence of the rules (the allow list, then a valid
 * exemption, then the group's categories) and which answer a block gets. The
 * policy stage calls it for every query and explain calls it for the help
 * desk, so the two cannot drift apart. Allocation-free: the decision is one
 * integer (kind in the low 3 bits, the list hit above them).
 */
import type { BlockMode } from '../dns/build-block-reply.js'
import { TYPE } from '../dns/constants.js'
import type { ClientInfo } from '../pipeline/client-info.js'
import { hitBit, type PolicyView } from '../pipeline/policy-view.js'

/**
 * Names that tell clients about the network itself, answered locally for
 * every client whatever its group:
 * - use-application-dns.net: Firefox's canary. NXDOMAIN turns its automatic
 *   DoH off; any answer (even 0.0.0.0) leaves it on and bypasses the gateway.
 * - _dns.resolver.arpa: RFC 9462 discovery of designated encrypted resolvers.
 *   Forwarding it would hand clients the upstream's DoH server; NODATA says
 *   there is none. With DoT/DoH serving and tls.serverName set, its SVCB
 *   queries (and those for `_dns.<tls.serverName>`) get SVCB records
 *   designating dnsvakt itself instead: see designatedName().
 */
export const CANARY = 'use-application-dns.net'
export const DDR = '_dns.resolver.arpa'

export interface BuiltinName {
  readonly name: string
  readonly mode: BlockMode
  readonly why: string
}

export const BUILTIN_NAMES: readonly BuiltinName[] = [
  { name: CANARY, mode: 'nxdomain', why: 'Firefox\'s canary name; NXDOMAIN turns its automatic DoH off' },
  { name: DDR, mode: 'nodata', why: 'no designated encrypted resolver is offered (RFC 9462)' },
]

/**
 * Apple's iCloud Private Relay names (and their subdomains) are answered
 * NXDOMAIN when blocked, whatever the mode: devices then fail fast and tell
 * the user, where 0.0.0.0 would look like a working but broken relay.
 */
export const NXDOMAIN_WHEN_BLOCKED: readonly string[] = ['mask.icloud.com', 'mask-h2.icloud.com', 'mask-canary.icloud.com', 'mask-api.icloud.com']

/** Decision kinds: the low 3 bits of decide()'s result. */
export const PASS = 0
export const BUILTIN_CANARY = 1
export const BUILTIN_DDR = 2
/** A category the client enforces lists the name, but the allow list covers it. */
export const ALLOW_LISTED = 3
export const BLOCKED = 4
/** Only an exemption valid now keeps the name from being blocked. */
export const EXEMPTED = 5

export type DecisionKind = typeof PASS | typeof BUILTIN_CANARY | typeof BUILTIN_DDR | typeof ALLOW_LISTED | typeof BLOCKED | typeof EXEMPTED

export const decisionKind = (d: number): DecisionKind => (d & 7) as DecisionKind
/** The list hit behind BLOCKED, EXEMPTED and ALLOW_LISTED (decode with hitBit/hitStart). */
export const decisionHit = (d: number): number => d >>> 3

const make = (kind: DecisionKind, hit: number): number => hit * 8 + kind

/**
 * Decides a query name for a client whose group enforces `enforced` and whose
 * valid exemptions lift `exemptMask` (see exemptMaskAt). Access (acl) is
 * decided before this, and answers are inspected after it.
 */
export function decide(view: PolicyView, name: string, enforced: number, exemptMask: number): number {
  if (name === CANARY) return BUILTIN_CANARY
  if (name === DDR) return BUILTIN_DDR
  if (enforced === 0) return PASS
  const blocking = enforced & ~exemptMask
  const hit = blocking === 0 ? -1 : view.matchName(name, blocking)
  if (hit >= 0) return make(view.allowed(name) ? ALLOW_LISTED : BLOCKED, hit)
  if (exemptMask === 0) return PASS
  // Nothing blocks it now; would it have been blocked but for an exemption?
  const lifted = view.matchName(name, exemptMask)
  if (lifted < 0) return PASS
  return make(view.allowed(name) ? ALLOW_LISTED : EXEMPTED, lifted)
}

/**
 * DDR designation (RFC 9462 s4, RFC 9461 s4): with DoT/DoH serving and
 * tls.serverName set (`ownName` is then `_dns.<tls.serverName>`, else ''),
 * SVCB queries for `_dns.resolver.arpa` and for `ownName` are answered with
 * records naming dnsvakt's own encrypted listeners (policy/ddr-designation.ts).
 * Checked before decide(): the stage and explain both ask this.
 */
export const designatedName = (name: string, qtype: number, ownName: string): boolean =>
  qtype === TYPE.SVCB && (name === DDR || (ownName !== '' && name === ownName))

/** The answer a built-in decision gets. */
export const builtinMode = (kind: DecisionKind): BlockMode => (kind === BUILTIN_DDR ? 'nodata' : 'nxdomain')

/** The answer a blocked `name` gets under the configured `mode`. */
export function blockedMode(name: string, mode: BlockMode): BlockMode {
  if (mode === 'nxdomain') return mode
  for (const n of NXDOMAIN_WHEN_BLOCKED) {
    if (name === n || (name.endsWith(n) && name.charCodeAt(name.length - n.length - 1) === 0x2e)) return 'nxdomain'
  }
  return mode
}

/** Categories lifted for this client by exemptions valid at `now` (only those in `of`: by default, those its group enforces). */
export function exemptMaskAt(view: PolicyView, client: ClientInfo, now: number, of: number = client.enforced): number {
  const exemptions = client.exemptions
  if (exemptions.length === 0) return 0
  let mask = 0
  for (const e of exemptions) if (e.expiresAt > now) mask |= view.maskOf(e.categories)
  return mask & of
}

/** Every category in `mask` that lists `name` (the exemptions a name-exempted answer relies on). */
export function categoriesListing(view: PolicyView, name: string, mask: number): number {
  let found = 0
  for (let hit = view.matchName(name, mask); hit >= 0; hit = view.matchName(name, mask & ~found)) {
    found |= 1 << hitBit(hit)
  }
  return found
}
