/**
 * The feed as `ipset restore` input: per category a `hash:net` set per
 * family (`dnsvakt-<category>-v4`, `-v6`), filled in a temporary set and
 * swapped in, so a firewall rule using the set never sees it half loaded.
 * Only the address sets: the rules that use them (`-m set --match-set`) are
 * the operator's, since on a plain router the group and exemption sources
 * live elsewhere.
 */
import type { FirewallFeed } from './feed.js'

export function renderIpset(feed: FirewallFeed): string {
  const lines = [`# dnsvakt firewall feed, list version ${feed.version}, generated ${feed.generatedAt}`, '# Apply: ipset restore < this-file']
  for (const c of feed.categories) {
    for (const [family, ranges] of [['inet', c.v4], ['inet6', c.v6]] as const) {
      const name = `dnsvakt-${c.name}-${family === 'inet' ? 'v4' : 'v6'}`
      const tmp = `${name}-new`
      if (name.length > 31 || tmp.length > 31) throw new Error(`category "${c.name}" is too long for an ipset name; use --format nftables`)
      lines.push(`create ${name} hash:net family ${family} -exist`, `create ${tmp} hash:net family ${family} -exist`, `flush ${tmp}`)
      for (const r of ranges) lines.push(`add ${tmp} ${r}`)
      lines.push(`swap ${tmp} ${name}`, `destroy ${tmp}`)
    }
  }
  return `${lines.join('\n')}\n`
}
