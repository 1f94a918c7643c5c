/**
 * Who the client is, as the stages below client-group read it: its group, the
 * categories the group enforces and the exemptions whose network holds it.
 * Part of the query contract, so the pipeline does not depend on how the
 * policy works it out (src/policy/client-classifier.ts) or how exemptions
 * are read (src/lists/exemptions.ts): both satisfy these shapes.
 */

/** What a stage needs of an exemption: which categories it lifts, and until when. */
export interface ClientExemption {
  readonly id: string
  readonly categories: readonly string[]
  /** ms (injected clock): valid while arrival < expiresAt. */
  readonly expiresAt: number
}

export interface ClientInfo {
  readonly group: string
  /** Categories the group enforces, as a mask over the snapshot's bits. */
  readonly enforced: number
  /** Categories the group has in shadow (evaluated and counted as would-block, never enforced); 0 for most groups. */
  readonly shadow: number
  /** Exemptions whose network holds this client (expiry is checked per query). */
  readonly exemptions: readonly ClientExemption[]
}
