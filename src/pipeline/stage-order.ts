/**
 * The order of the stage chain, and why each stage sits where it does. This is
 * the one place the order is decided; stages/build-stages.ts builds the stages and passes
 * them here.
 *
 * 1. acl: the cheapest rejection first; a client outside access.allow gets
 *    REFUSED before anything else is spent on it.
 * 2. client-group: the group and exemptions are worked out once; later stages
 *    read them (rate-limit for its per-group limits). One lookup per client
 *    address and list snapshot, remembered, so it costs a flooder little.
 * 3. rate-limit: keyed on the socket's source address, never on packet
 *    contents; after client-group because limits are per group (a NATed VPN
 *    concentrator gets its own); above the cache so a flood of cached names is
 *    limited too. Left out when no limit is set.
 * 4. policy: name-based blocking, synchronous. A blocked name never goes further.
 * 5. inspect-answer: above the cache, so a cached answer is re-checked against
 *    this client's group on every hit; the cache stays group-neutral.
 * 6. cache: stores upstream answers only, never sinkhole answers (which are
 *    made above it). Left out when cache.enabled is false.
 * 7. forward: the terminal stage, the only one that awaits.
 */
import type { Stage, StageName } from './types.js'

export const STAGE_ORDER: readonly StageName[] = ['acl', 'client-group', 'rate-limit', 'policy', 'inspect-answer', 'cache', 'forward']

/** Sorts the given stages into STAGE_ORDER; each name at most once, and forward must be there. */
export function orderStages(stages: readonly Stage[]): Stage[] {
  const byName = new Map<StageName, Stage>()
  for (const s of stages) {
    if (byName.has(s.name)) throw new Error(`stage ${s.name} given twice`)
    byName.set(s.name, s)
  }
  if (!byName.has('forward')) throw new Error('the forward stage is required: it is the one that answers')
  return STAGE_ORDER.flatMap((n) => (byName.has(n) ? [byName.get(n)!] : []))
}
