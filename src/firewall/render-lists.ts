/**
 * The feed as plain text (one CIDR per line and nothing else, as Palo Alto
 * External Dynamic Lists and FortiGate threat feeds read) and as JSON (with
 * the list version, ranges and the who-is-blocked rules, for automation).
 */
import type { FirewallFeed } from './feed.js'

export function renderPlain(feed: FirewallFeed): string {
  const all = feed.categories.flatMap((c) => [...c.v4, ...c.v6])
  return all.length === 0 ? '' : `${[...new Set(all)].join('\n')}\n`
}

export function renderJson(feed: FirewallFeed): string {
  return `${JSON.stringify(feed, null, 2)}\n`
}
