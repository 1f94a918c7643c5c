/**
 * Why is this name blocked (or not) for this client? The help desk's answer to
 * "TikTok doesn't work": client -> group -> category -> list file and line ->
 * list version -> exemptions considered. Off the hot path: it re-reads list
 * files to find line numbers, so nothing is kept in memory for it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import { parseDomainList } from '../lists/parse-list-file.js'
import { isIP } from 'node:net'
import { type ClientClassifier, unmapV4 } from './client-classifier.js'
import type { BlockMode } from '../dns/build-block-reply.js'

export interface Explanation {
  readonly name: string
  readonly type: string
  readonly client: string
  readonly access: 'allowed' | 'refused'
  readonly group: string
  readonly groupEnforces: readonly string[]
  readonly listVersion: string
  readonly allowListEntry: ListHit | null
  readonly matches: ReadonlyArray<ListHit & { readonly category: string; readonly enforced: boolean }>
  readonly exemptions: ReadonlyArray<{
    readonly id: string
    readonly categories: readonly string[]
    readonly reason: string
    readonly approvedBy: string
    readonly expires: string
    readonly status: 'applied' | 'expired' | 'not-needed'
  }>
  readonly decision: 'blocked' | 'allowed' | 'exempted' | 'refused' | 'builtin'
  readonly answer: string
  readonly summary: string
}

interface ListHit {
  readonly entry: string
  readonly file: string
  readonly line: number
}

export interface ExplainInput {
  readonly name: string
  readonly client: string
  readonly type: string
  readonly now: number
  readonly snapshot: PolicySnapshot
  readonly classifier: ClientClassifier
  readonly mode: BlockMode
}

const BUILTIN: Record<string, string> = {
  'use-application-dns.net': 'NXDOMAIN for every client: Firefox\'s canary name; NXDOMAIN turns its automatic DoH off',
  '_dns.resolver.arpa': 'NODATA for every client: no designated encrypted resolver is offered (RFC 9462)',
}

export function explain(input: ExplainInput): Explanation {
  const name = input.name.toLowerCase().replace(/\.$/, '')
  if (isIP(unmapV4(input.client)) === 0) throw new Error(`client must be an IP address, got "${input.client}"`)
  const snap = input.snapshot
  const info = input.classifier.classify(input.client, snap)
  const groupEnforces = snap.categories.filter((c) => (info.enforced & (1 << c.bit)) !== 0).map((c) => c.name)
  const allowStart = snap.allow.size > 0 ? snap.allow.match(name) : -1
  const allowListEntry = allowStart >= 0 ? locate(snap, ['allow.txt'], snap.allow.entryAt(name, allowStart)) : null
  const matches = snap.categories.flatMap((c) => {
    const start = c.domains.match(name)
    if (start < 0) return []
    const hit = locate(snap, c.files.filter((f) => !f.endsWith('.cidrs.txt')), c.domains.entryAt(name, start))
    return [{ category: c.name, enforced: groupEnforces.includes(c.name), ...hit }]
  })
  const enforcedHits = matches.filter((m) => m.enforced).map((m) => m.category)
  const exemptions = info.exemptions.map((e) => {
    const expired = e.expiresAt <= input.now
    const relevant = e.categories.some((c) => enforcedHits.includes(c))
    return {
      id: e.id,
      categories: e.categories,
      reason: e.reason,
      approvedBy: e.approvedBy,
      expires: new Date(e.expiresAt).toISOString(),
      status: expired ? ('expired' as const) : relevant ? ('applied' as const) : ('not-needed' as const),
    }
  })
  const lifted = new Set(exemptions.filter((e) => e.status === 'applied').flatMap((e) => e.categories))
  const blocking = enforcedHits.filter((c) => !lifted.has(c))
  const base = { name, type: input.type, client: input.client, group: info.group, groupEnforces, listVersion: snap.version, allowListEntry, matches, exemptions }

  if (!info.allowed) {
    return { ...base, access: 'refused', decision: 'refused', answer: 'REFUSED (EDE 18 Prohibited)', summary: `${input.client} is not in access.allow: every query is refused.` }
  }
  if (BUILTIN[name]) return { ...base, access: 'allowed', decision: 'builtin', answer: BUILTIN[name], summary: `${name} is answered by dnsvakt itself: ${BUILTIN[name]}.` }
  const where = (m: (typeof matches)[number]) => `${m.entry} (${m.file}:${m.line})`
  if (allowListEntry && enforcedHits.length > 0) {
    return { ...base, access: 'allowed', decision: 'allowed', answer: 'forwarded upstream', summary: `Allowed: the allow list entry ${allowListEntry.entry} (allow.txt:${allowListEntry.line}) overrides ${enforcedHits.join(', ')}.` }
  }
  if (blocking.length > 0) {
    const m = matches.find((x) => x.category === blocking[0])!
    return {
      ...base,
      access: 'allowed',
      decision: 'blocked',
      answer: `${input.mode} with EDE 15 Blocked`,
      summary: `Blocked: client ${input.client} is in group "${info.group}", which enforces "${m.category}"; the name matches ${where(m)} in list version ${snap.version}.`,
    }
  }
  if (enforcedHits.length > 0) {
    const ids = exemptions.filter((e) => e.status === 'applied').map((e) => e.id)
    return { ...base, access: 'allowed', decision: 'exempted', answer: 'forwarded upstream', summary: `Allowed by exemption ${ids.join(', ')}: without it, "${enforcedHits[0]}" would block this name for group "${info.group}".` }
  }
  const note = matches.length > 0 ? ` The name is listed in ${matches.map((m) => `"${m.category}"`).join(', ')}, which group "${info.group}" does not enforce.` : ''
  return { ...base, access: 'allowed', decision: 'allowed', answer: 'forwarded upstream (answers are still inspected for blocked CNAMEs and addresses)', summary: `Not blocked by name for group "${info.group}".${note}` }
}

/** Finds the file and line of a list entry by re-reading the category's files. */
function locate(snap: PolicySnapshot, files: readonly string[], entry: string): ListHit {
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(join(snap.dir, file), 'utf8')
    } catch {
      continue
    }
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].toLowerCase().includes(entry)) continue
      if (parseDomainList(lines[i], file).names.includes(entry)) return { entry, file, line: i + 1 }
    }
  }
  return { entry, file: files[0] ?? '?', line: 0 }
}
