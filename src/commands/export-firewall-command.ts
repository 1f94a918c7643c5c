/**
 * `dnsvakt export-firewall --format nftables|iptables|ip6tables|ipset|plain|json
 * [--category X] [--dir LISTS] [--config FILE] [--output FILE]`: writes the
 * firewall feed (firewall/feed.ts) of the lists the gateway would load now,
 * stamped with their list version, to stdout or atomically to a file (for a
 * timer that applies it). Returns 0, 1 (the lists could not be read) or 2
 * (usage error, unknown category).
 */
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../config/load-config.js'
import { isDnsvaktError } from '../errors.js'
import { buildFeed, type FirewallFeed } from '../firewall/feed.js'
import { renderIpset } from '../firewall/render-ipset.js'
import { renderIptables } from '../firewall/render-iptables.js'
import { renderJson, renderPlain } from '../firewall/render-lists.js'
import { renderNftables } from '../firewall/render-nftables.js'
import { listOptionsFor, loadLists } from '../lists/load-lists.js'
import { type CommandIo, PROCESS_IO } from './options.js'

const RENDER: Record<string, (f: FirewallFeed) => string> = {
  nftables: renderNftables,
  iptables: (f) => renderIptables(f, 4),
  ip6tables: (f) => renderIptables(f, 6),
  ipset: renderIpset,
  plain: renderPlain,
  json: renderJson,
}

export const EXPORT_FIREWALL_USAGE = `Usage: dnsvakt export-firewall --format ${Object.keys(RENDER).join('|')} [--category X] [--dir LISTS] [--config FILE] [--output FILE]
  --format    nftables (nft -f), iptables / ip6tables (iptables-restore --noflush), ipset (ipset restore),
              plain (one CIDR per line), json (ranges, rules and list version)
  --category  only this category (default: every category a group enforces that has address ranges)
  --dir       the list folder (default: blocking.dir of --config, or the shipped lists)
  --output    write to FILE atomically instead of stdout
`

function parseArgs(args: string[]): Record<string, string> | string {
  const opts: Record<string, string> = {}
  for (let i = 0; i < args.length; i++) {
    const m = /^--(format|category|dir|config|output)(?:=(.*))?$/.exec(args[i])
    if (!m) return `unexpected argument ${args[i]}`
    const value = m[2] ?? args[++i]
    if (value === undefined || value === '') return `--${m[1]} needs a value`
    opts[m[1]] = value
  }
  if (!opts.format) return '--format is required'
  if (!(opts.format in RENDER)) return `unknown format "${opts.format}"`
  return opts
}

export async function runExportFirewall(args: string[], io: CommandIo = PROCESS_IO): Promise<number> {
  const opts = parseArgs(args)
  if (typeof opts === 'string') {
    io.err.write(`export-firewall: ${opts}\n${EXPORT_FIREWALL_USAGE}`)
    return 2
  }
  const now = Date.now()
  let feed: FirewallFeed
  try {
    const loaded = loadConfig(opts.config ?? null)
    const base = listOptionsFor(loaded, now)
    const dir = opts.dir ?? base.dir
    const snapshot = await loadLists(opts.dir === undefined ? base : { ...base, dir, exemptionsFile: join(dir, loaded.config.blocking.exemptions.file) })
    for (const p of snapshot.problems) io.err.write(`export-firewall: ${p.file}:${p.line}: ${p.message} (left out, as the gateway does)\n`)
    if (opts.category !== undefined && !snapshot.has(opts.category)) {
      io.err.write(`export-firewall: no category "${opts.category}" in ${dir} (have: ${snapshot.categories.map((c) => c.name).join(', ')})\n`)
      return 2
    }
    feed = buildFeed(loaded.config, snapshot, now, opts.category === undefined ? undefined : [opts.category])
    if (opts.category !== undefined && feed.categories.length === 0) io.err.write(`export-firewall: category "${opts.category}" has no address ranges (${opts.category}.cidrs.txt); the feed is empty\n`)
  } catch (e) {
    if (!isDnsvaktError(e)) throw e
    io.err.write(`export-firewall: ${e.message}\n`)
    return 1
  }
  const text = RENDER[opts.format](feed)
  if (opts.output === undefined) io.out.write(text)
  else {
    writeFileSync(`${opts.output}.tmp`, text)
    renameSync(`${opts.output}.tmp`, opts.output)
  }
  return 0
}
