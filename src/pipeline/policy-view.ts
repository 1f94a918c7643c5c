/**
 * What the stages read of the lists: the pipeline's own view of a policy
 * snapshot. src/lists/policy-snapshot.ts implements it (structurally: the
 * listener edge assigns a PolicySnapshot to Query.snapshot, so the compiler
 * checks it there), which keeps the contract free of the list code.
 */
import type { ClientExemption } from './client-info.js'

/** A domain list: the start of the matching entry in `name`, or -1. */
export interface NameMatcher {
  readonly size: number
  match(name: string): number
  /** The list entry behind match(name)'s result `start` (a suffix of `name`, or a wildcard pattern). */
  entryAt(name: string, start: number): string
}

/** An IP range list: the CIDR (as written) holding the address at bytes[offset..], or null. */
export interface RangeMatcher {
  readonly size: number
  containsV4(bytes: Uint8Array, offset: number): string | null
  containsV6(bytes: Uint8Array, offset: number): string | null
}

export interface CategoryView {
  readonly name: string
  readonly bit: number
  readonly domains: NameMatcher
  readonly cidrs: RangeMatcher
}

/** An exemption as listed: for the clients in `network`. */
export interface ListedExemption extends ClientExemption {
  readonly network: { check(address: string, family: 'ipv4' | 'ipv6'): boolean }
}

export interface PolicyView {
  /** git commit or content hash of the lists. */
  readonly version: string
  readonly categories: readonly CategoryView[]
  readonly exemptions: readonly ListedExemption[]
  /** Bitmask of the named categories; unknown names are ignored. */
  maskOf(names: Iterable<string>): number
  /** The first category in `mask` listing `name`, as `start * 32 + bit` (see lists/policy-snapshot.ts), or -1. */
  matchName(name: string, mask: number): number
  /** True when the allow list covers `name`. */
  allowed(name: string): boolean
  categoryAt(bit: number): CategoryView
}

/** Decoders for PolicyView.matchName's result. */
export const hitBit = (hit: number): number => hit & 31
export const hitStart = (hit: number): number => hit >>> 5
