/**
 * lint-lists' check of inner-label wildcard entries (`p16-tiktok-*.ibyteimg.com`):
 * the parser already refuses the broadest forms (a "*" with fewer than two fixed
 * labels to its right, such as `tik*.com`); this flags the ones that load but
 * may catch far more than intended.
 *
 * Errors: the pattern matches a collateral-risk name (collateral-risk.ts), or
 * its wildcard label sits directly under a collateral zone or a public suffix
 * (`p16-*.akamaized.net`, `tik*.co.uk`), where every customer or registrant
 * has names. Warnings: a label that is only "*", or fewer than
 * MIN_FIXED_CHARACTERS fixed characters around the wildcards.
 */
import { DomainTrie } from '../lists/domain-trie.js'
import { fixedSuffixStart } from '../lists/label-wildcards.js'
import { COLLATERAL_NAMES } from './collateral-risk.js'

export interface WildcardRisk {
  readonly severity: 'error' | 'warning'
  readonly message: string
}

/** Fixed characters (not "*") a pattern's wildcard labels need together before it is not flagged as broad. */
export const MIN_FIXED_CHARACTERS = 4

/** Second-level labels under which a two-letter country code is a public suffix (co.uk, com.au, ne.jp, ...). */
const COUNTRY_SECOND_LEVELS = new Set(['ac', 'co', 'com', 'edu', 'go', 'gob', 'gov', 'mil', 'ne', 'net', 'or', 'org'])

/** The findings for one list entry as the parser returns it; none for a name without "*". */
export function wildcardRisks(entry: string): WildcardRisk[] {
  if (!entry.includes('*')) return []
  const out: WildcardRisk[] = []
  const from = fixedSuffixStart(entry)
  const suffix = entry.slice(from)
  const wild = entry.slice(0, from - 1).split('.').filter((l) => l.includes('*'))

  const zone = COLLATERAL_NAMES.find((c) => c.name === suffix)
  const [second, top] = suffix.split('.')
  if (zone !== undefined) {
    out.push({ severity: 'error', message: `${entry}: its wildcard sits directly under ${suffix}, which must never be blocked as a whole, so the pattern can catch other owners' names (${zone.reason}); list the exact names instead` })
  } else if (suffix.split('.').length === 2 && top.length === 2 && COUNTRY_SECOND_LEVELS.has(second)) {
    out.push({ severity: 'error', message: `${entry}: its wildcard is in the registrable label under the public suffix ${suffix}, so it matches names of unrelated registrants; list the exact names instead` })
  }

  const trie = DomainTrie.build([entry])
  const hit = COLLATERAL_NAMES.find((c) => trie.match(c.name) >= 0)
  if (hit !== undefined) out.push({ severity: 'error', message: `${entry} matches ${hit.name}, which must never be blocked: ${hit.reason}` })

  if (wild.some((l) => l === '*')) {
    out.push({ severity: 'warning', message: `${entry}: a label of only "*" matches any label there; make sure that is meant` })
  } else {
    const fixed = wild.reduce((n, l) => n + l.replace(/\*/g, '').length, 0)
    if (fixed < MIN_FIXED_CHARACTERS) {
      out.push({ severity: 'warning', message: `${entry}: only ${fixed} fixed character(s) around the wildcards (fewer than ${MIN_FIXED_CHARACTERS}), so it matches most names under ${suffix}` })
    }
  }
  return out
}
