/**
 * Exemptions: an employee's device (an address or a network) may be freed
 * from some categories after the information-security officer's risk
 * assessment. Each one names who approved it, why, and when it ends; one
 * without an end, or ending further ahead than the configured maximum, is
 * refused. Expiry is checked when a query is decided, so an exemption stops
 * applying at its expiry time with no reload.
 */
import { readFile } from 'node:fs/promises'
import { BlockList } from 'node:net'
import { basename } from 'node:path'
import { addNetwork } from '../net/network-list.js'
import { isSeq, LineCounter, parseDocument } from 'yaml'
import type { ListProblem } from './parse-list-file.js'

export interface Exemption {
  readonly id: string
  /** As written: an address or a CIDR. */
  readonly client: string
  readonly categories: readonly string[]
  readonly reason: string
  readonly approvedBy: string
  /** ms since the epoch. */
  readonly expiresAt: number
  /** Line in the file, for explain and error messages. */
  readonly line: number
  /** Matches the client network. */
  readonly network: BlockList
}

const FIELDS = ['id', 'client', 'categories', 'reason', 'approvedBy', 'expires']

/**
 * Parses the exemptions file. Invalid entries are reported (file and entry)
 * and left out; they never widen or narrow another entry.
 */
export function parseExemptions(
  text: string,
  file: string,
  opts: { knownCategories: ReadonlySet<string>; maxDurationMs: number; now: number },
): { exemptions: Exemption[]; problems: ListProblem[] } {
  const problems: ListProblem[] = []
  const exemptions: Exemption[] = []
  const lineCounter = new LineCounter()
  const parsed = parseDocument(text, { uniqueKeys: true, lineCounter })
  if (parsed.errors.length > 0) {
    const err = parsed.errors[0]
    problems.push({ file, line: err.linePos?.[0].line ?? 0, text: '', message: `not valid YAML: ${err.message.split('\n')[0]}` })
    return { exemptions, problems }
  }
  const doc: unknown = parsed.toJS()
  if (doc === null || doc === undefined) return { exemptions, problems }
  const list = (doc as { exemptions?: unknown }).exemptions
  const extraKeys = typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc as object).filter((k) => k !== 'exemptions') : []
  if (typeof doc !== 'object' || Array.isArray(doc) || !Array.isArray(list ?? []) || extraKeys.length > 0) {
    problems.push({ file, line: 0, text: '', message: 'expected a top-level key "exemptions" holding a list' })
    return { exemptions, problems }
  }
  const node = parsed.get('exemptions')
  const lines = isSeq(node) ? node.items.map((item) => lineCounter.linePos((item as { range?: number[] }).range?.[0] ?? 0).line) : []
  const ids = new Set<string>()
  ;((list ?? []) as unknown[]).forEach((raw: unknown, i: number) => {
    const line = lines[i] ?? 0
    const bad = (message: string) => problems.push({ file, line, text: `exemption #${i + 1}`, message })
    if (typeof raw !== 'object' || raw === null) return bad('expected a mapping with id, client, categories, reason, approvedBy, expires')
    const e = raw as Record<string, unknown>
    const unknown = Object.keys(e).filter((k) => !FIELDS.includes(k))
    if (unknown.length > 0) return bad(`unknown key(s) ${unknown.join(', ')}; expected ${FIELDS.join(', ')}`)
    for (const k of ['id', 'client', 'reason', 'approvedBy']) {
      if (typeof e[k] !== 'string' || (e[k] as string).trim() === '') return bad(`"${k}" is required and must be text`)
    }
    const id = e.id as string
    if (ids.has(id)) return bad(`duplicate id "${id}"`)
    const network = toNetwork(e.client as string)
    if (!network) return bad(`"client" must be an IP address or a CIDR network, got "${String(e.client)}"`)
    const cats = e.categories
    if (!Array.isArray(cats) || cats.length === 0 || !cats.every((c) => typeof c === 'string')) {
      return bad('"categories" must be a non-empty list of category names')
    }
    const unknownCats = cats.filter((c) => !opts.knownCategories.has(c))
    if (unknownCats.length > 0) return bad(`unknown categor${unknownCats.length > 1 ? 'ies' : 'y'} ${unknownCats.join(', ')}`)
    if (e.expires === undefined || e.expires === null) return bad('"expires" is required: every exemption must end')
    const expiresAt = toTime(e.expires)
    if (Number.isNaN(expiresAt)) return bad(`"expires" must be a date (2027-03-01) or a timestamp with its zone (2027-03-01T12:00:00Z), got "${String(e.expires)}"`)
    if (expiresAt > opts.now + opts.maxDurationMs) {
      const days = Math.round(opts.maxDurationMs / 86_400_000)
      return bad(`"expires" is more than ${days} days ahead (blocking.exemptions.maxDuration); renew it after a new assessment instead`)
    }
    ids.add(id)
    exemptions.push({
      id,
      client: e.client as string,
      categories: cats as string[],
      reason: e.reason as string,
      approvedBy: e.approvedBy as string,
      expiresAt,
      line,
      network,
    })
  })
  return { exemptions, problems }
}

export interface ExemptionCheck {
  readonly knownCategories: ReadonlySet<string>
  readonly maxDurationMs: number
  readonly now: number
}

/**
 * Reads and checks the exemptions file exactly as the gateway's loader does
 * (lint-lists calls this too): a missing file means no exemptions; an
 * unreadable one is a problem. `text` is what was read, for the list hash.
 */
export async function readExemptionsFile(path: string, check: ExemptionCheck): Promise<{ text: string; exemptions: Exemption[]; problems: ListProblem[] }> {
  const file = basename(path)
  let text = ''
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { text, exemptions: [], problems: [{ file, line: 0, text: '', message: `cannot read: ${(e as Error).message}` }] }
    }
  }
  return { text, ...parseExemptions(text, file, check) }
}

function toNetwork(text: string): BlockList | null {
  const list = new BlockList()
  return addNetwork(list, text) < 0 ? null : list
}

/** A date alone means "through that day" (UTC); a timestamp is taken as written. */
function toTime(v: unknown): number {
  if (v instanceof Date) return isDateOnly(v) ? v.getTime() + 86_400_000 : v.getTime()
  if (typeof v !== 'string') return NaN
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return Date.parse(`${v}T00:00:00Z`) + 86_400_000
  // A timestamp must say its zone (Z or +01:00): the expiry must not depend on the host's time zone.
  return /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(v) ? Date.parse(v) : NaN
}

const isDateOnly = (d: Date) => d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0
