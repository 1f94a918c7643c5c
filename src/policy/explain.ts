/**
 * Why is this name blocked (or not) for this client? The help desk's answer to
 * "TikTok doesn't work": client -> group -> category -> list file and line ->
 * list version -> exemptions considered. The decision itself is decide.ts's,
 * the same one the policy stage makes; explain adds only where the entry is
 * written (file, line) and the list version. Off the hot path: it re-reads
 * list files to find line numbers, so nothing is kept in memory for it.
 * (explain-resolved.ts adds what the answer itself would be caught by.)
 * Shadow categories of the group (policy/shadow.ts) are reported beside the
 * decision as `wouldBlock`: they never change it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isIP } from 'node:net'
import type { PolicySnapshot } from '../lists/policy-snapshot.js'
import { parseDomainList } from '../lists/parse-list-file.js'
import type { BlockMode } from '../dns/build-block-reply.js'
import { hitBit } from '../pipeline/policy-view.js'
import { type ClientClassifier, unmapV4 } from './client-classifier.js'
import { TYPE } from '../dns/constants.js'
import { ALLOW_LISTED, BLOCKED, BUILTIN_NAMES, blockedMode, builtinMode, decide, decisionHit, decisionKind, designatedName, EXEMPTED, exemptMaskAt, PASS } from './decide.js'

export interface ListHit {
  readonly entry: string
  readonly file: string
  readonly line: number
}

/** A shadow category's would-block: file and line for a name entry (explain re-reads the list), absent for a catch through the answer (--resolve). */
export interface ShadowHit {
  readonly category: string
  readonly caughtBy: 'name' | 'cname' | 'ip'
  readonly entry: string
  readonly file?: string
  readonly line?: number
}

export interface ExemptionFacts {
  readonly id: string
  readonly categories: readonly string[]
  readonly reason: string
  readonly approvedBy: string
  readonly expires: string
  readonly status: 'applied' | 'expired' | 'not-needed'
}

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
  readonly exemptions: readonly ExemptionFacts[]
  /** Categories the group has in shadow (groups.<name>.shadow): evaluated and logged as would-block, never enforced. */
  readonly groupShadows: readonly string[]
  /** What a shadow category of the group would block (the client gets the normal answer); null when none would, or the name is blocked anyway. */
  readonly wouldBlock: ShadowHit | null
  readonly decision: 'blocked' | 'allowed' | 'exempted' | 'refused' | 'builtin'
  /**
   * The answer dnsvakt gives itself (a block mode, 'refused' outside access.allow, 'ddr' for the SVCB
   * records designating its own DoT/DoH); null when it is forwarded upstream.
   */
  readonly answerMode: BlockMode | 'ddr' | null
  readonly answer: string
  readonly summary: string
  /** Set by explainResolved (the --resolve flag): the name looked up, and what its answer holds that a category lists. */
  readonly resolved?: ResolvedCheck
}

export interface ResolvedCheck {
  /** The upstream's rcode, as a number. */
  readonly rcode: number
  /** The first catch in an enforced category (as the inspect-answer stage would make it), else null. */
  readonly caught: { readonly category: string; readonly caughtBy: 'cname' | 'ip'; readonly entry: string; readonly exempted: boolean } | null
}

export interface ExplainInput {
  readonly name: string
  readonly client: string
  readonly type: string
  readonly now: number
  readonly snapshot: PolicySnapshot
  readonly classifier: ClientClassifier
  readonly mode: BlockMode
  /** DDR designation on (config/encrypted-schema.ts ddrServerName): tls.serverName, else null or absent. */
  readonly ddrServerName?: string | null
}

type Facts = Omit<Explanation, 'access' | 'decision' | 'answerMode' | 'answer' | 'summary' | 'resolved' | 'groupShadows' | 'wouldBlock'>

export function explain(input: ExplainInput): Explanation {
  const e = explainEnforced(input)
  const snap = input.snapshot
  const info = input.classifier.classify(input.client, snap)
  const groupShadows = snap.categories.filter((c) => (info.shadow & (1 << c.bit)) !== 0).map((c) => c.name)
  if (info.shadow === 0 || e.access === 'refused' || e.decision === 'blocked' || e.decision === 'builtin') return { ...e, groupShadows, wouldBlock: null }
  // The same decision as the policy stage's shadow check (shadow.ts): the shadow categories as if enforced, with their exemptions.
  const d = decide(snap, e.name, info.shadow, exemptMaskAt(snap, info, input.now, info.shadow))
  if (decisionKind(d) !== BLOCKED) return { ...e, groupShadows, wouldBlock: null }
  const category = snap.categoryAt(hitBit(decisionHit(d)))
  const m = e.matches.find((x) => x.category === category.name)!
  const wouldBlock = { category: m.category, caughtBy: 'name' as const, entry: m.entry, file: m.file, line: m.line }
  const note = ` In shadow for group "${info.group}": "${m.category}" would block it (${m.entry}, ${m.file}:${m.line}); it is logged as would-block and answered as usual.`
  return { ...e, groupShadows, wouldBlock, summary: e.summary + note }
}

function explainEnforced(input: ExplainInput): Omit<Explanation, 'groupShadows' | 'wouldBlock'> {
  const name = input.name.toLowerCase().replace(/\.$/, '')
  if (isIP(unmapV4(input.client)) === 0) throw new Error(`client must be an IP address, got "${input.client}"`)
  const snap = input.snapshot
  const info = input.classifier.classify(input.client, snap)
  const exemptMask = exemptMaskAt(snap, info, input.now)
  const d = decide(snap, name, info.enforced, exemptMask)
  const facts = factsOf(input, name, info.enforced)
  if (!input.classifier.allows(input.client)) {
    return { ...facts, access: 'refused', decision: 'refused', answerMode: 'refused', answer: 'REFUSED (EDE 18 Prohibited)', summary: `${input.client} is not in access.allow: every query is refused.` }
  }
  const own = input.ddrServerName ? `_dns.${input.ddrServerName}` : ''
  if (own !== '' && designatedName(name, qtypeOf(input.type), own)) {
    const text = `SVCB records designating dnsvakt's own DoT/DoH as ${input.ddrServerName} (RFC 9462 DDR), for every client`
    return { ...facts, access: 'allowed', decision: 'builtin', answerMode: 'ddr', answer: text, summary: `${name} is answered by dnsvakt itself: ${text}.` }
  }
  const kind = decisionKind(d)
  const hitCategory = kind < ALLOW_LISTED ? '' : snap.categoryAt(hitBit(decisionHit(d))).name
  const enforcedHits = facts.matches.filter((m) => m.enforced).map((m) => m.category)
  if (kind === ALLOW_LISTED) {
    const a = facts.allowListEntry!
    return { ...facts, access: 'allowed', decision: 'allowed', answerMode: null, answer: 'forwarded upstream', summary: `Allowed: the allow list entry ${a.entry} (allow.txt:${a.line}) overrides ${enforcedHits.join(', ')}.` }
  }
  if (kind === BLOCKED) {
    const m = facts.matches.find((x) => x.category === hitCategory)!
    const mode = blockedMode(name, input.mode)
    return {
      ...facts, access: 'allowed', decision: 'blocked', answerMode: mode, answer: describeBlock(mode, input.type),
      summary: `Blocked: client ${input.client} is in group "${info.group}", which enforces "${m.category}"; the name matches ${m.entry} (${m.file}:${m.line}) in list version ${snap.version}.`,
    }
  }
  if (kind === EXEMPTED) {
    const ids = facts.exemptions.filter((e) => e.status === 'applied').map((e) => e.id)
    return { ...facts, access: 'allowed', decision: 'exempted', answerMode: null, answer: 'forwarded upstream', summary: `Allowed by exemption ${ids.join(', ')}: without it, "${hitCategory}" would block this name for group "${info.group}".` }
  }
  if (kind !== PASS) {
    const b = BUILTIN_NAMES.find((x) => x.name === name)!
    const text = `${builtinMode(kind) === 'nodata' ? 'NODATA' : 'NXDOMAIN'} for every client: ${b.why}`
    return { ...facts, access: 'allowed', decision: 'builtin', answerMode: builtinMode(kind), answer: text, summary: `${name} is answered by dnsvakt itself: ${text}.` }
  }
  const note = facts.matches.length > 0 ? ` The name is listed in ${facts.matches.map((m) => `"${m.category}"`).join(', ')}, which group "${info.group}" does not enforce.` : ''
  return { ...facts, access: 'allowed', decision: 'allowed', answerMode: null, answer: 'forwarded upstream (answers are still inspected for blocked CNAMEs and addresses)', summary: `Not blocked by name for group "${info.group}".${note}` }
}

/** The type number of a --type / ?type= value ("SVCB", "svcb" or "64"); 0 when it is none we know. */
function qtypeOf(type: string): number {
  if (/^\d+$/.test(type)) return Number(type)
  return (TYPE as Record<string, number>)[type.toUpperCase()] ?? 0
}

/** What the help desk sees besides the decision: where each entry is written, and the exemptions considered. */
function factsOf(input: ExplainInput, name: string, enforced: number): Facts {
  const snap = input.snapshot
  const info = input.classifier.classify(input.client, snap)
  const groupEnforces = snap.categories.filter((c) => (enforced & (1 << c.bit)) !== 0).map((c) => c.name)
  const allowStart = snap.allow.size > 0 ? snap.allow.match(name) : -1
  const allowListEntry = allowStart >= 0 ? locate(snap, ['allow.txt'], snap.allow.entryAt(name, allowStart)) : null
  const matches = snap.categories.flatMap((c) => {
    const start = c.domains.match(name)
    if (start < 0) return []
    const hit = locate(snap, c.files.filter((f) => !f.endsWith('.cidrs.txt')), c.domains.entryAt(name, start))
    return [{ category: c.name, enforced: (enforced & (1 << c.bit)) !== 0, ...hit }]
  })
  const listed = snap.exemptions.filter((e) => info.exemptions.includes(e))
  const exemptions = listed.map((e): ExemptionFacts => {
    const relevant = e.categories.some((c) => matches.some((m) => m.enforced && m.category === c))
    const status = e.expiresAt <= input.now ? 'expired' : relevant ? 'applied' : 'not-needed'
    return { id: e.id, categories: e.categories, reason: e.reason, approvedBy: e.approvedBy, expires: new Date(e.expiresAt).toISOString(), status }
  })
  return { name, type: input.type, client: input.client, group: info.group, groupEnforces, listVersion: snap.version, allowListEntry, matches, exemptions }
}

/** The answer a blocked query of `type` gets in `mode` (build-block-reply.ts). */
export function describeBlock(mode: BlockMode, type: string): string {
  const t = type.toUpperCase()
  const withAddress = (address: string) => (t === 'A' || t === 'AAAA' ? `${t} ${address}` : 'NODATA (NOERROR, no records)')
  const what = {
    nxdomain: 'NXDOMAIN',
    nodata: 'NODATA (NOERROR, no records)',
    refused: 'REFUSED',
    null: withAddress(t === 'AAAA' ? '::' : '0.0.0.0'),
    sinkhole: withAddress(`blocking.sinkhole.${t === 'AAAA' ? 'ipv6' : 'ipv4'}`),
  }[mode]
  return `${what} ("${mode}" mode) with EDE 15 Blocked`
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
